"""Every setting's default is defined once, by the domain model that owns it; the Dagster
configs/resources and the CLI options agree with it (a restated literal that drifts fails here)."""

from pathlib import Path

import pytest

from inftool_dagster.bfcl.settings import EvalSettings
from inftool_dagster.cli import main as cli
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.models.registry import DEFAULT_MODEL
from inftool_dagster.synthesis.config import SynthConfig
from inftool_dagster.training.config import RoundTraining, TrainConfig


def _option(path: str, name: str):
    command = cli
    for part in path.split():
        command = command.commands[part]
    return next(p for p in command.params if p.name == name).default


@pytest.mark.parametrize(
    "command,option,expected",
    [
        ("train", "learning_rate", TrainConfig().learning_rate),
        ("train", "num_generations", TrainConfig().num_generations),
        ("train", "max_completion_length", TrainConfig().max_completion_length),
        ("train", "max_steps", TrainConfig().max_steps),
        ("train", "method", TrainConfig().method),
        ("train", "model_name", DEFAULT_MODEL),
        ("synth", "seed", SynthConfig(n=1).seed),
        ("synth", "shard_size", SynthConfig(n=1).shard_size),
        ("synth", "shards_per_wave", SynthConfig(n=1).shards_per_wave),
        ("synth", "max_new_tokens", SynthConfig(n=1).max_new_tokens),
        ("synth", "batch_size", TransformersConfig().batch_size),
        ("synth", "policy_model", DEFAULT_MODEL),
        ("bfcl eval", "categories", ",".join(EvalSettings().categories)),
        ("bfcl eval", "max_new_tokens", EvalSettings().max_new_tokens),
        ("bfcl eval", "prompt_format", EvalSettings().prompt_format),
        ("bfcl eval", "stop_after_calls", EvalSettings().stop_after_calls),
        ("bfcl eval", "decoder", TransformersConfig().decoder),
        ("bfcl eval", "dtype", TransformersConfig().dtype),
        ("bfcl eval", "batch_size", TransformersConfig().batch_size),
        ("bfcl eval", "model_name", DEFAULT_MODEL),
        ("serve", "model_name", DEFAULT_MODEL),
        ("serve", "dtype", TransformersConfig().dtype),
        ("model info", "name", DEFAULT_MODEL),
    ],
)
def test_cli_defaults_are_the_domain_defaults(command, option, expected):
    assert _option(command, option) == expected


def test_cli_defaults_of_catalog_and_verify_agree_with_their_domain():
    from inftool_dagster.catalog.builder import DEFAULT_MAX_SPEC_BYTES
    from inftool_dagster.verification.runner import VerifyConfig

    assert _option("catalog build", "max_spec_mb") * 1024 * 1024 == DEFAULT_MAX_SPEC_BYTES
    assert _option("verify", "heldout_fraction") == VerifyConfig().heldout_fraction


def test_dagster_configs_and_resources_are_the_domain_models():
    from inftool_dagster.assets.evaluation import BFCLEvalConfig, HeldoutScoresConfig
    from inftool_dagster.assets.training import PolicyTrainingConfig
    from inftool_dagster.evolution.stopping import EvolutionSettings, StopRule
    from inftool_dagster.resources import DataQualityResource, EvolutionResource, PolicyModelResource
    from inftool_dagster.verification.quality import QualityBounds

    evolution = EvolutionResource()
    assert isinstance(evolution, StopRule) and evolution.model_dump() == EvolutionSettings().model_dump()
    quality = DataQualityResource()
    assert isinstance(quality, QualityBounds) and quality.model_dump() == QualityBounds().model_dump()
    training = PolicyTrainingConfig()
    assert {k: v for k, v in training.model_dump().items() if k != "out_of_process"} == RoundTraining().model_dump()
    for name in ("num_generations", "max_completion_length", "lora", "learning_rate"):
        assert getattr(training, name) == getattr(TrainConfig(), name)
    policy = PolicyModelResource()
    for name in ("model", "device", "dtype", "batch_size", "decoder", "slots"):
        assert getattr(policy, name) == getattr(TransformersConfig(), name)
    bfcl = BFCLEvalConfig()
    for name in ("categories", "max_new_tokens", "stop_after_calls"):
        assert getattr(bfcl, name) == getattr(EvalSettings(), name)
    assert bfcl.prompt_format == "compact"  # the one deliberate difference: a round scores its policy's format
    assert HeldoutScoresConfig().max_new_tokens == EvalSettings().max_new_tokens


def test_the_default_model_is_named_in_one_place():
    package = Path(__file__).resolve().parent.parent / "inftool_dagster"
    naming = [str(p.relative_to(package)) for p in package.rglob("*.py") if '"smollm2-135m-instruct"' in p.read_text()]
    assert naming == ["models/registry.py"]
