"""Policy training with TRL: gated rewards, GRPO, SFT warm start, LoRA.

Names load on first use, so that ``training.config`` (the settings) imports without TRL."""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "REWARD_FUNCS": "rewards",
    "argument_reward": "rewards",
    "format_reward": "rewards",
    "name_reward": "rewards",
    "TrainConfig": "config",
    "RoundTraining": "config",
    "train": "trainer",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
