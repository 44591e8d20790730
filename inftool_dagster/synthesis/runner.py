"""Sharded, resumable synthesis: ``inftool synth`` and the ``synthetic_trajectories`` asset.

Blueprint i always lands in shard i // shard_size, and a shard file appears atomically
(written, then renamed) only when it is complete. A killed run resumes by skipping complete
shards: no trajectory is lost, none is duplicated.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import polars as pl

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.mcp_server import CatalogServer

from .blueprints import Planner
from .config import SynthConfig
from .conversation import run_conversations
from .trajectories import TRAJECTORY_SCHEMA, trajectory_rows
from .user_simulator import UserSimulator


def shard_path(out_dir: Path, index: int) -> Path:
    return out_dir / f"shard-{index:05d}.parquet"


def synthesize(
    catalog_dir: str | Path,
    out_dir: str | Path,
    config: SynthConfig,
    policy: LLMBackend,
    simulator_backend: LLMBackend | None = None,
    progress: bool = False,
    blueprints: list | None = None,
) -> dict:
    """Run the loop for ``config.n`` planned blueprints (or the given ``blueprints``: a scenario plan)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    server = CatalogServer.from_catalog(catalog_dir, seed=config.seed)
    planner = _planner(list(server.tools.values()), config)
    user = UserSimulator.for_tools(server.tools.values(), simulator_backend, config.seed, config.realizer)
    params = SamplingParams(max_new_tokens=config.max_new_tokens)
    n = len(blueprints) if blueprints is not None else config.n  # the config is never modified
    shards = (n + config.shard_size - 1) // config.shard_size
    start = time.perf_counter()
    resumed, model_s = 0, 0.0
    rejected: Counter[str] = Counter()
    pending = []
    for index in range(shards):
        if shard_path(out, index).exists():
            resumed += 1
        else:
            pending.append(index)
    wave_size = max(1, config.shards_per_wave)
    for wave_start in range(0, len(pending), wave_size):
        wave = pending[wave_start : wave_start + wave_size]
        batches = []
        for index in wave:
            first = index * config.shard_size
            count = min(config.shard_size, n - first)
            if blueprints is not None:
                batches.append(blueprints[first : first + count])
            else:
                before = Counter(planner.rejected)
                batches.append(planner.plan(first, count))
                rejected.update(planner.rejected - before)
        together = [b for batch in batches for b in batch]
        conversations, timings = run_conversations(together, server, policy, user, params) if together else ([], None)
        if timings is not None:
            model_s += timings.model_s
        offset = 0
        for index, batch in zip(wave, batches):
            rows = trajectory_rows(conversations[offset : offset + len(batch)], config, timings) if batch else []
            offset += len(batch)
            frame = pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA)
            path = shard_path(out, index)
            tmp = path.with_suffix(".tmp")
            frame.write_parquet(tmp)
            os.replace(tmp, path)  # the shard appears whole or not at all
            if progress:
                print(f"[synth] shard {index + 1}/{shards}: {frame.height} trajectories", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    frame = load_trajectories(out)
    for key, value in user.stats.items():
        if key.startswith("llm_rejected"):
            rejected[f"user_simulator: {key}"] += value
    produced = frame.height
    return {
        "requested": n,
        "produced": produced,
        "rejected": dict(rejected),
        "resumed_shards": resumed,
        "seconds": round(seconds, 2),
        "trajectories_per_s": round(produced / seconds, 3) if seconds > 0 else None,
        "model_seconds": round(model_s, 2),
        "request_sources": dict(frame.group_by("request_source").len().iter_rows()) if produced else {},
        "leak_check": leak_check(user.stats),
    }


def leak_check(stats: Counter) -> dict:
    """The User Simulator's LLM rewrites this run: tried, kept (a user's request that keeps every
    value as phrased), the pass rate (None when no model rewrote anything) and rejections by reason
    (``missing_values``: the leak check; ``prompt_echo``, ``assistant_voice``, ``shape``,
    ``off_topic``: ``user_simulator.rewrite_problem``)."""
    kept = stats.get("llm", 0)
    rejected = {k.removeprefix("llm_rejected_"): v for k, v in sorted(stats.items()) if k.startswith("llm_rejected_")}
    tried = kept + sum(rejected.values())
    return {
        "tried": tried,
        "kept": kept,
        "pass_rate": round(kept / tried, 4) if tried else None,
        "rejected": rejected,
    }


def _planner(tools: list, config: SynthConfig) -> Planner:
    places = None
    if config.tree_dir:
        from inftool_dagster.catalog.tree import load_tool_tree, tree_places

        places = tree_places(load_tool_tree(config.tree_dir))
    return Planner(tools, seed=config.seed, mix=config.mix, tool_weights=config.tool_weights, places=places)


def realized_calls(blueprint) -> list[dict]:
    """The calls a blueprint's first request states (what the user asks for, with values):
    the gold calls; the first only for multi-turn/multi-step; the unserved call for irrelevance;
    the withheld parameter left out."""
    if blueprint.scenario_type == "irrelevance":
        return [blueprint.notes["request_call"]]
    calls = blueprint.gold_calls
    if blueprint.scenario_type in ("multi_turn", "multi_step"):
        calls = calls[:1]
    return [
        {"name": c.name, "arguments": {k: v for k, v in c.arguments.items() if k != blueprint.missing_parameter}}
        for c in calls
    ]


def realize_requests(
    catalog_dir: str | Path, out_dir: str | Path, config: SynthConfig, simulator_backend: LLMBackend | None = None
) -> dict:
    """The User Simulator's first requests for ``config.n`` planned blueprints, without the
    assistant or the server: ``requests.parquet`` and how much they sound like people
    (``request_metrics``), for ``inftool synth --requests-only``."""
    from inftool_dagster.mcp_server.simulator import load_tools

    from .request_metrics import request_metrics

    start = time.perf_counter()
    tools = load_tools(catalog_dir)
    planner = _planner(tools, config)
    blueprints = planner.plan(0, config.n)
    user = UserSimulator.for_tools(tools, simulator_backend, config.seed, config.realizer)
    realized = user.requests(blueprints)
    rows = [
        {
            "blueprint_id": b.blueprint_id,
            "scenario_type": b.scenario_type,
            "domain": b.domain,
            "request": text,
            "source": source,
            "template": user.templates.get(b.blueprint_id, ""),
            "calls": realized_calls(b),
        }
        for b, (text, source) in zip(blueprints, realized)
    ]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame([{**r, "calls": orjson.dumps(r["calls"]).decode()} for r in rows])
    frame.write_parquet(out / "requests.parquet")
    checked = leak_check(user.stats)
    return {
        "requested": config.n,
        **request_metrics(rows),
        "sources": dict(Counter(r["source"] for r in rows)),
        "llm_tried": checked["tried"],
        "leak_check_pass_rate": checked["pass_rate"],
        "llm_rejected": checked["rejected"],
        "realizer": config.realizer,
        "templates": len({r["template"] for r in rows}),
        "planner_rejected": sum(planner.rejected.values()),
        "negatives": planner.negative_shares(blueprints),
        "seconds": round(time.perf_counter() - start, 2),
        "out": str(out / "requests.parquet"),
    }


def load_trajectories(out_dir: str | Path) -> pl.DataFrame:
    shards = sorted(Path(out_dir).glob("shard-*.parquet"))
    if not shards:
        return pl.DataFrame(schema=TRAJECTORY_SCHEMA)
    # diagonal: shards written before a column was added still load (the column is null there)
    return pl.concat([pl.read_parquet(p) for p in shards], how="diagonal_relaxed").sort("trajectory_id")


def export_jsonl(frame: pl.DataFrame, path: str | Path) -> Path:
    """One JSON object per line: ``messages`` and ``tools`` decoded, ready for TRL."""
    path = Path(path)
    with path.open("w") as handle:
        for row in frame.iter_rows(named=True):
            record = {**row, "messages": json.loads(row["messages"]), "tools": json.loads(row["tools"])}
            handle.write(orjson.dumps(record).decode() + "\n")
    return path


def export_hf(frame: pl.DataFrame, path: str | Path) -> Path:
    """A Hugging Face ``datasets`` dataset on disk (``datasets.load_from_disk``)."""
    from datasets import Dataset

    Dataset.from_polars(frame).save_to_disk(str(path))
    return Path(path)
