"""``inftool verify`` and the ``verified_trajectories`` / ``training_set`` assets: gates → dedup → views.

Outputs in ``out_dir``: ``gated.parquet`` (every trajectory with its gate results),
``verified.parquet`` (verified and deduplicated), ``grpo_{train,heldout}.parquet`` and
``sft_{train,heldout}.parquet`` (training views), ``summary.json``.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import polars as pl
from pydantic import BaseModel, Field

from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA

from .dedup import DedupConfig, dedup, diversity
from .gates import GateConfig, Verifier
from .views import training_views


class CorruptTrajectories(ValueError):
    """The trajectory files cannot be read or lack required columns."""


class VerifyConfig(BaseModel):
    gates: GateConfig = Field(default_factory=GateConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    heldout_fraction: float = Field(
        0.2,
        ge=0,
        lt=1,
        description="Share of tools held out of training (by a "
        "hash of the tool name) when no explicit heldout_tools are given.",
    )
    heldout_tools: list[str] | None = Field(
        None, description="Tools held out of training (the probe's tools: whole specs); overrides heldout_fraction."
    )
    exclude_bfcl: bool = Field(True, description="Drop rows offering a BFCL function name or asking a BFCL question.")
    split_seed: int = 0


def read_trajectories(path: str | Path) -> pl.DataFrame:
    """All shards of a trajectory directory (or one parquet file), or a clear error."""
    path = Path(path)
    files = sorted(path.glob("shard-*.parquet")) if path.is_dir() else [path]
    if not files:
        raise CorruptTrajectories(f"no trajectory shards (shard-*.parquet) in {path}")
    frames = []
    for file in files:
        try:
            frames.append(pl.read_parquet(file))
        except Exception as exc:  # polars raises several error types for damaged files
            raise CorruptTrajectories(f"cannot read trajectory shard {file}: {type(exc).__name__}: {exc}") from None
    frame = pl.concat(frames, how="diagonal_relaxed")
    missing = [c for c in TRAJECTORY_SCHEMA if c not in frame.columns and c != "request_template"]
    if missing:
        raise CorruptTrajectories(f"trajectories in {path} lack required columns: {', '.join(missing)}")
    if "request_template" not in frame.columns:
        frame = frame.with_columns(pl.lit("unknown").alias("request_template"))
    return frame


def _write(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def gate_and_dedup(
    trajectories: str | Path, server: CatalogServer, out_dir: str | Path, config: VerifyConfig, judge=None
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(gated, verified) written to ``out_dir``; the summary has counts by gate and dedup step."""
    frame = read_trajectories(trajectories)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gated = Verifier(server.tools, config.gates, judge).run(frame)
    verified, removed = dedup(gated.filter(pl.col("verified")), config.dedup)
    _write(gated, out / "gated.parquet")
    _write(verified, out / "verified.parquet")
    return (
        gated,
        verified,
        {
            "trajectories": frame.height,
            "verified": verified.height,
            "rejected": dict(Counter(gated.filter(~pl.col("verified"))["rejected_by"].to_list())),
            "removed": removed,
            "pass_rate": round(gated["verified"].mean() or 0.0, 4) if gated.height else 0.0,
            "diversity": diversity(verified),
        },
    )


def build_views(gated: pl.DataFrame, server: CatalogServer, out_dir: str | Path, config: VerifyConfig) -> dict:
    """GRPO prompts and SFT chats, train/held-out by tool, from every trajectory with a sound gold."""
    candidates, _ = dedup(gated, config.dedup)
    dropped_bfcl = 0
    if config.exclude_bfcl and candidates.height:
        candidates, dropped_bfcl = _without_bfcl(candidates)
    grpo, sft, counts = training_views(candidates, server, heldout=heldout_rule(config))
    counts["dropped_bfcl_overlap"] = dropped_bfcl
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, view in (("grpo", grpo), ("sft", sft)):
        for split in ("train", "heldout"):
            _write(view.filter(pl.col("split") == split), out / f"{name}_{split}.parquet")
    return {
        "grpo_prompts": {s: grpo.filter(pl.col("split") == s).height for s in ("train", "heldout")},
        "sft_chats": {s: sft.filter(pl.col("split") == s).height for s in ("train", "heldout")},
        "sft_sources": dict(Counter(sft["source"].to_list())),
        "rows_by_source": rows_by_source(grpo, sft),
        "views": counts,
    }


def heldout_rule(config: VerifyConfig):
    """The predicate "this tool is held out of training" that a config describes."""
    from .views import is_heldout_tool

    if config.heldout_tools is not None:
        held = frozenset(config.heldout_tools)
        return held.__contains__
    return lambda name: is_heldout_tool(name, config.heldout_fraction, config.split_seed)


def rows_by_source(grpo: pl.DataFrame, sft: pl.DataFrame) -> dict:
    """Training rows (train split) by where they came from: SFT chats are the policy's own verified
    conversations or gold replays; GRPO prompts all carry gold calls from the plan."""
    train_sft = sft.filter(pl.col("split") == "train")
    return {
        "sft": dict(Counter(train_sft["source"].to_list())),
        "grpo_prompts": {"gold": grpo.filter(pl.col("split") == "train").height},
    }


def _without_bfcl(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """BFCL is the yardstick: no BFCL function or question may reach training."""
    from inftool_dagster.bfcl.leakage import bfcl_index, normalize_question

    index = bfcl_index()
    keep = [
        not (set(tools) & index.function_names) and normalize_question(request) not in index.questions
        for tools, request in zip(frame["tool_names"].to_list(), frame["request"].to_list())
    ]
    kept = frame.filter(pl.Series(keep, dtype=pl.Boolean))
    return kept, frame.height - kept.height


def verify(
    trajectories: str | Path,
    catalog_dir: str | Path,
    out_dir: str | Path,
    config: VerifyConfig | None = None,
    judge=None,
) -> dict:
    """Gates → dedup → training views, all in ``out_dir`` (the CLI's whole step)."""
    config = config or VerifyConfig()
    start = time.perf_counter()
    server = CatalogServer.from_catalog(catalog_dir)
    gated, _, summary = gate_and_dedup(trajectories, server, out_dir, config, judge)
    summary.update(build_views(gated, server, out_dir, config))
    summary["seconds"] = round(time.perf_counter() - start, 3)
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
