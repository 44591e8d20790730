"""Policy training with TRL: gated rewards, GRPO, SFT warm start, LoRA.

Names load on first use, so that ``training.config`` (the settings) imports without TRL."""

from __future__ import annotations

from inftool_dagster.lazy_exports import lazy_getattr

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


__getattr__ = lazy_getattr(__name__, _WHERE)
