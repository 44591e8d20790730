"""SFT warm start on the verified chats (TRL's ``SFTTrainer``): loss on the assistant's steps
only; a chat is one sequence with a completion mask (``datasets.sft_sequences``, the default) or
one prompt/completion pair per assistant step (``datasets.sft_pairs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from .config import TrainConfig
from .datasets import sft_pairs, sft_sequences, within_length, within_prompt_limit
from .tool_docs import ToolRendering


def sft_max_length(config: TrainConfig) -> int:
    """SFT rows are cut at the prompt limit plus room for the assistant's step."""
    return config.max_prompt_tokens + 256


def tool_rendering(config: TrainConfig) -> ToolRendering:
    """How the SFT chats show their tools (``training/tool_docs.py``)."""
    return ToolRendering(
        description_chars=config.tool_doc_chars,
        dotted_share=config.dotted_name_share,
        optional_params=config.tool_optional_params,
    )


def sft_trainer(
    model: Any, tokenizer: Any, data: Path, config: TrainConfig, common: dict, peft_config: Any
) -> tuple[Any, dict]:
    """The SFT trainer on ``data/sft_train.parquet``, and what was left out."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    frame = pl.read_parquet(data / "sft_train.parquet")
    rendering = tool_rendering(config)
    if config.sft_whole_chats:
        rows, dropped = within_length(sft_sequences(frame, tokenizer, rendering), sft_max_length(config))
    else:
        pairs = sft_pairs(frame, tokenizer, rendering)
        rows, dropped = within_prompt_limit(tokenizer, pairs, config.max_prompt_tokens)
    args = SFTConfig(
        **common,
        per_device_train_batch_size=config.sft_batch_size,
        max_length=sft_max_length(config),
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        completion_only_loss=True,  # the assistant's steps only (pairs: the completion; chats: completion_mask)
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    rows_kind = "chats" if config.sft_whole_chats else "pairs"
    return trainer, {"rows_over_max_prompt_tokens": dropped, "rows": {rows_kind: len(next(iter(rows.values())))}}
