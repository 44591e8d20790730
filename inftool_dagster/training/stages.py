"""A round's training: SFT warm start, then GRPO from the SFT checkpoint (either may be skipped).

Plain Python, so the same code runs inside the Dagster step or out of process (Dagster Pipes,
``training/pipes_entry.py``) on a GPU machine or pod.

A stage killed half-way resumes from its trainer's last resume point. A finished stage writes
``<stage>/summary.json`` with a fingerprint of what it was trained from (its rows, starting model,
steps and settings) and then deletes its resume points (~1.5 GB each with the optimizer state, and
on S3 they would be uploaded and pulled by the next round): a rerun with the same inputs reuses the
stage; with other inputs (a rematerialized training set, other settings) it trains again from scratch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
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
    base_model, stages, upstream = model, {}, trained_from(model)
    for method in ("sft", "grpo"):
        if steps.get(method, 0) <= 0:
            continue
        rows = data / f"{method}_train.parquet"
        if pl.read_parquet(rows).is_empty():
            log.warning("no %s training rows; stage skipped", method)
            continue
        stage = out / method
        inputs = stage_fingerprint(rows, upstream, steps[method], settings)
        summary = finished_stage(stage, inputs)
        if summary is None:
            summary = train(data, model, stage, TrainConfig(method=method, max_steps=steps[method], **settings))
            (stage / SUMMARY).write_text(json.dumps({**summary, "inputs": inputs}, indent=1))
            shutil.rmtree(stage / "trainer", ignore_errors=True)  # spent: the stage is done
        log.info("%s: %s", method, json.dumps(summary))
        stages[method] = summary
        model, upstream = summary["checkpoint"], inputs
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


SUMMARY = "summary.json"


def stage_fingerprint(rows: Path, upstream: str, steps: int, settings: dict[str, Any]) -> str:
    """What a stage's result depends on: its training rows, where it starts (the base model's name
    or path, or the previous stage's fingerprint), its steps and its settings."""
    digest = hashlib.sha256(rows.read_bytes())
    digest.update(json.dumps([upstream, steps, settings], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def trained_from(model: str) -> str:
    """How a starting model enters a fingerprint: a checkpoint this module wrote by its stage's
    fingerprint (so a retrained parent round counts as a new start), anything else by its name."""
    summary = Path(model).parent / SUMMARY
    if Path(model).name == "checkpoint" and summary.exists():
        return json.loads(summary.read_text()).get("inputs", model)
    return model


def finished_stage(stage: Path, inputs: str) -> dict | None:
    """The summary of a stage already trained from ``inputs`` (its checkpoint still there), else
    None, after clearing a stage trained from other inputs so that it trains again from scratch."""
    path = stage / SUMMARY
    if not path.exists():
        resume_inputs = stage / "inputs.txt"  # a stage killed half-way: resume only from the same inputs
        if resume_inputs.exists() and resume_inputs.read_text() != inputs:
            shutil.rmtree(stage)
        stage.mkdir(parents=True, exist_ok=True)
        resume_inputs.write_text(inputs)
        return None
    summary = json.loads(path.read_text())
    checkpoint = stage / "checkpoint"
    if summary.pop("inputs", None) == inputs and (checkpoint / "model.safetensors").exists():
        log.info("%s: already trained from the same inputs; reused", stage.name)
        return {**summary, "checkpoint": str(checkpoint)}  # the home may have moved since (S3, another disk)
    shutil.rmtree(stage)
    return finished_stage(stage, inputs)


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
