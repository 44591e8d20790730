"""TRL's fused LM head scores only completion tokens on Triton devices, and every position (the
long prompt included) elsewhere, to keep tile shapes static for graph compilers. On CPU eager
there is nothing to recompile, so, while ``completion_tokens_only`` is active, the completion
tokens alone are scored: the same log-probs for the tokens that enter the loss, at a fraction of
the LM-head work (benchmarks/bench_train.py). Internal used: ``trl.trainer.utils._use_triton``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import fast_path, mark

FEATURE = "trl_completion_logprobs"


@contextmanager
def completion_tokens_only(enabled: bool = True) -> Iterator[None]:
    """Score completion tokens only on CPU while active; TRL's choice is restored on exit. On a
    TRL version this was not written for, TRL's own behaviour (a warning, nothing patched)."""
    if not enabled or not fast_path(FEATURE):
        yield
        return
    import trl.trainer.utils as trl_utils

    original = trl_utils._use_triton
    trl_utils._use_triton = lambda device: device.type == "cpu" or original(device)
    mark(FEATURE)
    try:
        yield
    finally:
        trl_utils._use_triton = original
