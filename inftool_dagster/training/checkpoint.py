"""Checkpoint I/O: the trainer's resumable step checkpoints and the round's final checkpoint
(LoRA merged, safetensors, tokenizer, generation config, training log and a model card)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .config import TrainConfig


def last_checkpoint(directory: Path) -> str | None:
    checkpoints = sorted(directory.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return str(checkpoints[-1]) if checkpoints else None


def save_checkpoint(
    trainer: Any, tokenizer: Any, path: Path, config: TrainConfig, base: str, history: list, data: Path
) -> Path:
    model = trainer.model
    if hasattr(model, "merge_and_unload"):  # LoRA: ship merged weights
        model = model.merge_and_unload()
    tmp = path.with_name(path.name + ".partial")
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    model.generation_config.save_pretrained(tmp)
    (tmp / "training_log.json").write_text(json.dumps(history, indent=1))
    curve = ", ".join(f"{h['reward']:.3f}" for h in history if "reward" in h)
    (tmp / "README.md").write_text(
        f"---\nbase_model: {base}\nlibrary_name: transformers\ntags: [inftool, {config.method}, tool-calling]\n---\n"
        f"# inftool policy checkpoint ({config.round_key})\n\n"
        f"- base model: `{base}`\n- method: {config.method}{' + LoRA (merged)' if config.lora else ''}\n"
        f"- training data: `{data}`\n- steps: {trainer.state.global_step}\n"
        f"- config: `{config.model_dump_json()}`\n- reward per step: {curve or 'n/a'}\n"
    )
    if path.exists():
        import shutil

        shutil.rmtree(path)
    os.replace(tmp, path)
    return path
