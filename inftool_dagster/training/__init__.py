"""Policy training with TRL: gated rewards, GRPO, SFT warm start, LoRA."""

from .rewards import REWARD_FUNCS, argument_reward, format_reward, name_reward
from .trainer import TrainConfig, train

__all__ = ["REWARD_FUNCS", "argument_reward", "format_reward", "name_reward", "TrainConfig", "train"]
