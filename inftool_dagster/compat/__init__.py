"""Every use of a private TRL, transformers or BFCL internal, fenced in this package and checked
against the versions it was written for.

The fastest paths of the project stand on such internals (TRL's Triton switch and GRPO trainer
methods, transformers' cache layout and GGUF quantizer flag, BFCL's module layout). Each one
asks ``fast_path(feature)`` before it applies: on the versions in ``WRITTEN_FOR`` (the ones
``constraints.txt`` pins) it does; on any other version it warns once and the caller takes the
stock path (TRL's own ``GRPOTrainer``, transformers' ``generate``), so a library upgrade can
make the project slower but never silently wrong. ``taken`` records which fast paths ran, so
tests can prove they are really taken, not only that outputs agree.

    feature                  package        where
    trl_completion_logprobs  trl            compat/trl_logprobs.py   (trl.trainer.utils._use_triton)
    trl_grpo_shared_prefix   trl            compat/trl_grpo.py       (GRPOTrainer._generate_single_turn,
                                                                      _get_per_token_logps_and_entropies,
                                                                      self._dist, self._tokenizer)
    transformers_cache       transformers   compat/transformers_cache.py (DynamicCache.crop,
                                                                      batch_repeat_interleave, .layers[i].keys)
    continuous_decoder       transformers   llm/continuous.py        (Llama-family module layout)
    gguf_quantizer_flag      transformers   compat/transformers_cache.py (GgufHfQuantizer flag)
    bfcl_module_layout       bfcl-eval      compat/bfcl_modules.py   (pinned by the wheel's sha256)
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from importlib.metadata import PackageNotFoundError, version

log = logging.getLogger(__name__)

# major.minor of each package the fenced code was written and tested for
WRITTEN_FOR = {"trl": "1.16", "transformers": "5.24"}
FEATURES = {
    "trl_completion_logprobs": "trl",
    "trl_grpo_shared_prefix": "trl",
    "transformers_cache": "transformers",
    "continuous_decoder": "transformers",
    "gguf_quantizer_flag": "transformers",
}

taken: Counter[str] = Counter()  # fast paths taken in this process, by feature
_warned: set[str] = set()


class UnknownVersionWarning(UserWarning):
    """A fenced internal met a library version it was not written for; the stock path runs."""


def installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _major_minor(text: str) -> str:
    return ".".join(text.split("+")[0].split(".")[:2])


def fast_path(feature: str) -> bool:
    """Whether ``feature``'s fenced code may run on the installed library (else warn once)."""
    package = FEATURES[feature]
    found = installed(package)
    if found is not None and _major_minor(found) == WRITTEN_FOR[package]:
        return True
    if feature not in _warned:
        _warned.add(feature)
        message = (
            f"{feature}: written for {package} {WRITTEN_FOR[package]}.x, found {found or 'none'}; "
            f"using the stock path (slower, same results)"
        )
        warnings.warn(message, UnknownVersionWarning, stacklevel=2)
        log.warning(message)
    return False


def mark(feature: str) -> None:
    """Record that ``feature``'s fast path ran."""
    taken[feature] += 1
