"""A round's training: SFT warm start, then GRPO from the SFT checkpoint (either may be skipped).

Plain Python, so the same code runs inside the Dagster step or out of process (Dagster Pipes,
``training/pipes_entry.py``) on a GPU machine or pod.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import polars as pl

from inftool_dagster.layout import write_latest

from .config import TrainConfig
from .trainer import train

log = logging.getLogger(__name__)
SUMMARY_KEYS = (
    "steps",
    "seconds_per_step",
    "reward_first",
    "reward_last",
    "loss_last",
    "rewards",
    "frac_reward_zero_std",
    "boundary",  # GRPO: what the boundary selection kept (training/boundary.py)
    "rows",  # SFT: the chats (or prompt/completion pairs) it could draw from
)


class NoTrainingData(ValueError):
    pass


def train_stages(
    data: str | Path, out: str | Path, model: str, steps: dict[str, int], settings: dict[str, Any]
) -> dict:
    """Run the stages in ``steps`` (``{"sft": n, "grpo": m}``) in order, each from the previous
    checkpoint; write ``out/LATEST`` (relative to ``out``); return the checkpoint and stage figures."""
    data, out = Path(data), Path(out)
    base_model, stages = model, {}
    for method in ("sft", "grpo"):
        if steps.get(method, 0) <= 0:
            continue
        if pl.read_parquet(data / f"{method}_train.parquet").is_empty():
            log.warning("no %s training rows; stage skipped", method)
            continue
        summary = train(data, model, out / method, TrainConfig(method=method, max_steps=steps[method], **settings))
        log.info("%s: %s", method, json.dumps(summary))
        stages[method] = summary
        model = summary["checkpoint"]
    if not stages:
        raise NoTrainingData("no training data: both the SFT and the GRPO views are empty")
    write_latest(out, Path(model))
    result = {
        "checkpoint": model,
        "base_model": base_model,
        "stages": {m: {k: s[k] for k in SUMMARY_KEYS if k in s} for m, s in stages.items()},
    }
    (out / "stages.json").write_text(json.dumps(result, indent=1))  # RoundLayout.policy_stages
    return result


def materialization_fields(result: dict, parent: dict[str, str]) -> dict:
    """What the training step reports to Dagster, as plain values (in-process or over Pipes);
    ``parent``: what the round took from its parent (``layout.parent_inputs``)."""
    grpo = result["stages"].get("grpo", {})
    return {
        "checkpoint": result["checkpoint"],
        "base_model": result["base_model"],
        **parent,
        "stages": result["stages"],
        "reward_first": grpo.get("reward_first"),
        "reward_last": grpo.get("reward_last"),
        "reward_curve": grpo.get("rewards", []),
        # the share of GRPO groups without reward variance (no gradient), per step and on average
        "frac_reward_zero_std": grpo.get("frac_reward_zero_std", []),
        "frac_reward_zero_std_mean": _mean(grpo.get("frac_reward_zero_std") or []),
        "boundary": grpo.get("boundary", {}),
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
