"""The private-API fences: on the pinned versions each fast path is really taken (counted, not
only equal outputs); on a version a fence was not written for it warns once and the stock path
runs with the same results."""

import re
import warnings
from pathlib import Path

import pytest
import torch

import inftool_dagster.compat as compat
from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer, grpo_trainer_class
from inftool_dagster.compat.trl_logprobs import completion_tokens_only
from inftool_dagster.llm.types import SamplingParams

from .tiny_model import tiny_backend

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = [
    [{"role": "system", "content": "You call functions. " * 8}, {"role": "user", "content": q}]
    for q in ("What is the weather in Paris?", "hi", "Book a table for two")
]


def test_constraints_pin_the_versions_the_fences_were_written_for():
    pins = dict(re.findall(r"^([\w-]+)==([\w.+]+)$", (ROOT / "constraints.txt").read_text(), re.M))
    for package, major_minor in compat.WRITTEN_FOR.items():
        assert pins[package].startswith(major_minor + "."), package
        assert compat.installed(package).startswith(major_minor + "."), package
    assert all(compat.fast_path(feature) for feature in compat.FEATURES)


def test_fast_paths_are_taken_on_the_pinned_versions():
    import trl.trainer.utils as trl_utils

    assert grpo_trainer_class() is SharedPrefixGRPOTrainer
    original = trl_utils._use_triton
    before = compat.taken["trl_completion_logprobs"]
    with completion_tokens_only():
        assert trl_utils._use_triton(torch.device("cpu")) is True  # completion tokens only on CPU
    assert trl_utils._use_triton is original and compat.taken["trl_completion_logprobs"] == before + 1

    continuous = compat.taken["continuous_decoder"]
    backend = tiny_backend()
    assert backend.decoder == "continuous"
    backend.generate(MESSAGES, SamplingParams(max_new_tokens=4))
    assert compat.taken["continuous_decoder"] > continuous

    cache = compat.taken["transformers_cache"]
    tiny_backend(decoder="generate").generate(MESSAGES, SamplingParams(max_new_tokens=4))
    assert compat.taken["transformers_cache"] > cache  # the shared prefix's cache, repeated to the rows


def test_unknown_versions_warn_once_and_run_the_stock_paths_with_the_same_outputs(unknown_versions):
    import trl.trainer.utils as trl_utils
    from trl import GRPOTrainer

    expected = [
        g[0].text for g in tiny_backend(decoder="generate").generate(MESSAGES, SamplingParams(max_new_tokens=6))
    ]
    with pytest.warns(compat.UnknownVersionWarning, match="trl_grpo_shared_prefix"):
        assert grpo_trainer_class() is GRPOTrainer
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert grpo_trainer_class() is GRPOTrainer  # once per feature: no second warning
    original = trl_utils._use_triton
    with pytest.warns(compat.UnknownVersionWarning), completion_tokens_only():
        assert trl_utils._use_triton is original  # TRL's own scoring, nothing patched
    taken = dict(compat.taken)
    with pytest.warns(compat.UnknownVersionWarning):
        stock = tiny_backend()
        texts = [g[0].text for g in stock.generate(MESSAGES, SamplingParams(max_new_tokens=6))]
    assert stock.decoder == "generate" and texts == expected
    assert compat.taken == taken  # no fast path ran
