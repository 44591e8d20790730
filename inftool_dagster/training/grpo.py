"""GRPO with gated rewards (TRL's ``GRPOTrainer``, or the shared-prefix subclass fenced in
``compat/trl_grpo.py`` on the TRL version it was written for)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import polars as pl

from .boundary import boundary_rows
from .config import TrainConfig
from .datasets import prompt_texts, within_prompt_limit
from .rewards import reward_functions


def grpo_trainer(
    model: Any, tokenizer: Any, data: Path, config: TrainConfig, common: dict, peft_config: Any
) -> tuple[Any, dict]:
    """The GRPO trainer on ``data/grpo_train.parquet`` (its prompts at the policy's boundary when
    ``boundary_candidates``), and what was left out and why."""
    import torch
    from datasets import Dataset
    from trl import GRPOConfig

    from inftool_dagster.compat.trl_grpo import SharedPrefixGRPOTrainer, grpo_trainer_class

    frame = pl.read_parquet(data / "grpo_train.parquet")
    if frame.is_empty():
        raise ValueError(f"no GRPO prompts in {data / 'grpo_train.parquet'}")
    rows, dropped = within_prompt_limit(
        tokenizer,
        {"prompt": prompt_texts(frame, tokenizer, config.tool_doc_chars), "gold_calls": frame["gold_calls"].to_list()},
        config.max_prompt_tokens,
    )
    info: dict[str, Any] = {"rows_over_max_prompt_tokens": dropped}
    if config.boundary_candidates:
        rows, info["boundary"] = boundary_rows(model, tokenizer, rows, config)
    info["prompts"] = len(rows["prompt"])
    names = list(config.reward_weights)
    gpu = torch.cuda.is_available()
    use_vllm = config.use_vllm if config.use_vllm is not None else gpu and importlib.util.find_spec("vllm") is not None
    args = GRPOConfig(
        **common,
        num_generations=config.num_generations,
        per_device_train_batch_size=config.num_generations * config.prompts_per_step,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        beta=config.beta,
        reward_weights=[config.reward_weights[n] for n in names],
        use_vllm=use_vllm,
        **({"vllm_mode": "colocate"} if use_vllm else {}),
    )
    trainer = grpo_trainer_class(config.shared_prompt)(
        model=model,
        reward_funcs=reward_functions(names, config.catalog_dir),
        args=args,
        train_dataset=Dataset.from_dict(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    if isinstance(trainer, SharedPrefixGRPOTrainer):
        from inftool_dagster.llm.backend import resolve_dtype

        trainer.rollout_dtype = resolve_dtype(config.rollout_dtype, "cuda" if gpu else "cpu")
    return trainer, info
