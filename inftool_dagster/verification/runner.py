"""``inftool verify`` and the ``verified_trajectories`` asset: gates → dedup (the training views
that ``verify`` also writes are built by ``training/views.py``).

Outputs in ``out_dir``: ``gated.parquet`` (every trajectory with its gate results),
``verified.parquet`` (verified and deduplicated), ``grpo_{train,heldout}.parquet`` and
``sft_{train,heldout}.parquet`` (training views), ``summary.json``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import polars as pl
from pydantic import BaseModel, Field

from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.storage.files import write_parquet_atomic
from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA

from .dedup import DedupConfig, dedup, diversity
from .gates import GateConfig, Verifier


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


def gate_and_dedup(
    trajectories: str | Path, server: CatalogServer, out_dir: str | Path, config: VerifyConfig, judge=None
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(gated, verified) written to ``out_dir``; the summary has counts by gate and dedup step."""
    frame = read_trajectories(trajectories)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gated = Verifier(server.tools, config.gates, judge).run(frame)
    verified, removed = dedup(gated.filter(pl.col("verified")), config.dedup)
    write_parquet_atomic(gated, out / "gated.parquet")
    write_parquet_atomic(verified, out / "verified.parquet")
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


def verify(
    trajectories: str | Path,
    catalog_dir: str | Path,
    out_dir: str | Path,
    config: VerifyConfig | None = None,
    judge=None,
) -> dict:
    """Gates → dedup → training views, all in ``out_dir`` (the CLI's whole step)."""
    from inftool_dagster.training.views import build_views

    config = config or VerifyConfig()
    start = time.perf_counter()
    server = CatalogServer.from_catalog(catalog_dir)
    gated, _, summary = gate_and_dedup(trajectories, server, out_dir, config, judge)
    summary.update(build_views(gated, server, out_dir, config))  # the training set (training/views.py)
    summary["seconds"] = round(time.perf_counter() - start, 3)
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
