"""The policy's own data yield: the share of its conversations on a fixed set of blueprints
that pass every verification gate, overall and per scenario type.

This is the loop's premise measured directly: if training makes the model better, the next
round's Assistant (this round's policy) produces more conversations worth keeping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis.blueprints import Blueprint
from inftool_dagster.synthesis.config import SynthConfig
from inftool_dagster.synthesis.runner import load_trajectories, synthesize
from inftool_dagster.verification.gates import GateConfig, Verifier

from .intervals import proportion


def policy_yield(
    catalog_dir: str | Path,
    blueprints: list[Blueprint],
    policy: Any,
    out_dir: str | Path,
    *,
    policy_model: str = "",
    max_new_tokens: int = 96,
) -> dict:
    """Run the three agents on ``blueprints`` with ``policy`` as the Assistant (resumable shards in
    ``out_dir``), gate every conversation, and return the pass rates with counts and intervals."""
    config = SynthConfig(
        n=len(blueprints), round_key="yield-probe", policy_model=policy_model, max_new_tokens=max_new_tokens
    )
    synthesize(catalog_dir, out_dir, config, policy, None, blueprints=blueprints)
    frame = load_trajectories(out_dir)
    server = CatalogServer.from_catalog(catalog_dir)
    gated = Verifier(server.tools, GateConfig()).run(frame) if frame.height else frame
    gated.write_parquet(Path(out_dir) / "gated.parquet")
    return yield_summary(gated, planned=len(blueprints))


def yield_summary(gated: pl.DataFrame, planned: int) -> dict:
    if gated.is_empty():
        return {"planned": planned, "conversations": 0, "yield": proportion(0, 0), "by_scenario": {}, "rejected_by": {}}
    by_scenario = {
        kind: proportion(int(group["verified"].sum()), group.height)
        for (kind,), group in sorted(gated.group_by("scenario_type"), key=lambda kv: kv[0])
    }
    rejected = gated.filter(~pl.col("verified")).group_by("rejected_by").len().sort("len", descending=True)
    return {
        "planned": planned,
        "conversations": gated.height,
        "yield": proportion(int(gated["verified"].sum()), gated.height),
        "by_scenario": by_scenario,
        "rejected_by": dict(rejected.iter_rows()),
    }
