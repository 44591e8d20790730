"""The fixed held-out probe of an experiment, and the fixed yield probe of blueprints.

Held-out tools are chosen once, by whole cluster of the MCP tree (a stable hash of the cluster
key; near-duplicates share their canonical tool's cluster, so no held-out tool has a twin in
training), or by whole spec where there is no tree; no round's plan ever offers them nor their
twins (``scenario_plan`` excludes them, and a check asserts it). From those tools the probe draws
prompts of the scenario types BFCL scores on single turns (simple, multiple, parallel,
irrelevance), each with its gold calls (``[]``: the right move is not to call). The base model
and every round are scored on exactly these prompts.

The yield probe is a fixed set of blueprints on *training* tools: each round's policy runs them
through the three-agent loop, and the share that passes every gate is the policy's own data
yield — the loop's premise (a better model makes better data), measured on the same work.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis.blueprints import Blueprint, Planner, ScenarioMix
from inftool_dagster.synthesis.conversation import openai_tools
from inftool_dagster.synthesis.user_simulator import UserSimulator

PROBE_SCENARIOS = ("simple", "multiple", "parallel", "irrelevance")
PROBE_SCHEMA = {
    "prompt_id": pl.Utf8,
    "scenario_type": pl.Utf8,
    "domain": pl.Utf8,
    "prompt": pl.Utf8,
    "tools": pl.Utf8,
    "gold_calls": pl.Utf8,
    "target_tools": pl.List(pl.Utf8),
}


class ProbeError(ValueError):
    pass


@dataclass(frozen=True)
class ProbeConfig:
    heldout_fraction: float = 0.2  # share of specs held out (at least one spec, never all)
    prompts: int = 200  # held-out probe prompts, spread evenly over PROBE_SCENARIOS (the issue: >= 200)
    yield_blueprints: int = 16  # fixed blueprints on training tools for the policy's yield
    seed: int = 0


def _unit(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def heldout_keys(keys: list[str], fraction: float, seed: int = 0, what: str = "specs") -> list[str]:
    """Keys (specs, or tree clusters) held out of training: those whose hash falls under
    ``fraction``; at least one when there are two or more, and never every one."""
    specs = sorted(set(keys))
    if len(specs) < 2:
        raise ProbeError(
            f"a held-out probe needs at least two {what} (one to hold out, one to train on); "
            f"the catalog has {len(specs)}"
        )
    ranked = sorted(specs, key=lambda s: _unit(f"{seed}:{s}"))
    chosen = [s for s in ranked if _unit(f"{seed}:{s}") < fraction]
    return sorted(chosen[: len(specs) - 1] or ranked[:1])


def heldout_split(catalog: pl.DataFrame, config: ProbeConfig, tree: pl.DataFrame | None) -> dict[str, list[str]]:
    """The held-out side: whole clusters of the MCP tree when there is one (a near-duplicate
    shares its canonical tool's cluster, so no held-out tool has a twin in training), else
    whole specs. ``{"by": ..., "keys": [...], "tools": [...]}``."""
    if tree is None:
        held = heldout_keys(catalog["spec_id"].to_list(), config.heldout_fraction, config.seed)
        tools = catalog.filter(pl.col("spec_id").is_in(held))["name"].to_list()
        return {"by": "spec", "keys": held, "tools": sorted(tools)}
    held = heldout_keys(tree["split_key"].to_list(), config.heldout_fraction, config.seed, what="tree clusters")
    tools = tree.filter(pl.col("split_key").is_in(held))["name"].to_list()
    return {"by": "cluster", "keys": held, "tools": sorted(tools)}


def heldout_twins(tree: pl.DataFrame, held_tools: list[str], names: list[str]) -> list[str]:
    """Of ``names``, those in the same duplicate group as a held-out tool (in this ``tree``):
    a later round's catalog may add a near-twin of a held-out tool in another cluster."""
    held_groups = set(tree.filter(pl.col("name").is_in(held_tools))["group_id"].to_list())
    twins = tree.filter(pl.col("group_id").is_in(list(held_groups)) & pl.col("name").is_in(names))
    return sorted(set(twins["name"].to_list()) - set(held_tools))


def _irrelevance(full: Planner, held: list[str], index: int, seed: int) -> Blueprint | None:
    """Held-out tools offered, a request about a tool of another domain (any side of the split:
    the request names no offered tool, and the model must decline)."""
    rng = random.Random(f"{seed}:irrelevance:{index}")
    offered = rng.sample(held, min(full.distractors, len(held)))
    domains = {full.tools[n].domain for n in offered}
    candidates = [n for n in full.names if full.tools[n].domain not in domains]
    if not candidates:
        return None
    try:
        call = full._gold(rng.choice(candidates), rng)
    except Exception:  # no valid arguments for that tool: draw again
        return None
    return Blueprint(
        f"probe-{seed}-irr-{index:06d}",
        "irrelevance",
        offered,
        [],
        [],
        full.tools[call.name].domain,
        notes={"request_call": {"name": call.name, "arguments": call.arguments}},
    )


def _spread(planner: Planner, full: Planner, count: int, seed: int) -> list[Blueprint]:
    """``count`` blueprints with PROBE_SCENARIOS as evenly spread as the tools allow."""
    out: list[Blueprint] = []
    for i, kind in enumerate(PROBE_SCENARIOS):
        want = count // len(PROBE_SCENARIOS) + (1 if i < count % len(PROBE_SCENARIOS) else 0)
        planner.mix = ScenarioMix(**{k: (1.0 if k == kind else 0.0) for k in ScenarioMix.model_fields})
        got: list[Blueprint] = []
        for index in range(i * 1_000_000, i * 1_000_000 + 20 * want + 50):
            if len(got) >= want:
                break
            blueprint = (
                _irrelevance(full, planner.names, index, seed) if kind == "irrelevance" else planner.blueprint(index)
            )
            if blueprint is not None:
                got.append(blueprint)
        out += got
    return out


def build_probe(
    catalog_dir: str | Path,
    out_dir: str | Path,
    config: ProbeConfig,
    created_in: str = "",
    tree_dir: str | Path | None = None,
) -> dict:
    """Write ``probe.parquet`` (held-out prompts), ``yield_blueprints.parquet`` and ``probe.json``.
    With the MCP tree (``tree_dir``) whole clusters are held out and tools are planned by it."""
    from inftool_dagster.catalog import load_catalog
    from inftool_dagster.catalog.tree import load_tool_tree, tree_places

    catalog = load_catalog(catalog_dir)
    tree = load_tool_tree(tree_dir) if tree_dir is not None else None
    places = tree_places(tree) if tree is not None else None
    split = heldout_split(catalog, config, tree)
    held_tools = set(split["tools"])
    server = CatalogServer.from_catalog(catalog_dir, seed=config.seed)
    tools = list(server.tools.values())
    probe_planner = Planner([t for t in tools if t.name in held_tools], seed=config.seed + 7919, places=places)
    full = Planner(tools, seed=config.seed, places=places)
    blueprints = _spread(probe_planner, full, config.prompts, config.seed)
    user = UserSimulator.for_tools(tools, None, config.seed)
    rows = []
    for blueprint, (request, _) in zip(blueprints, user.requests(blueprints)):
        gold = (
            []
            if blueprint.scenario_type == "irrelevance"
            else [{"name": c.name, "arguments": c.arguments} for c in blueprint.gold_calls]
        )
        rows.append(
            {
                "prompt_id": blueprint.blueprint_id,
                "scenario_type": blueprint.scenario_type,
                "domain": blueprint.domain,
                "prompt": json.dumps([{"role": "user", "content": request}]),
                "tools": json.dumps(openai_tools(server, blueprint.tools)),
                "gold_calls": json.dumps(gold),
                "target_tools": blueprint.targets,
            }
        )
    probe = pl.DataFrame(rows, schema=PROBE_SCHEMA)
    train_planner = Planner([t for t in tools if t.name not in held_tools], seed=config.seed + 104729, places=places)
    yield_bps = train_planner.plan(0, config.yield_blueprints)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    probe.write_parquet(out / "probe.parquet")
    pl.DataFrame([b.to_row() for b in yield_bps]).write_parquet(out / "yield_blueprints.parquet")
    info = {
        "heldout_by": split["by"],  # spec | cluster (of the MCP tree)
        "heldout_specs" if split["by"] == "spec" else "heldout_clusters": split["keys"],
        "heldout_tools": sorted(held_tools),
        "prompts": probe.height,
        "by_scenario": dict(Counter(probe["scenario_type"].to_list())),
        "yield_blueprints": len(yield_bps),
        "yield_by_scenario": dict(Counter(b.scenario_type for b in yield_bps)),
        "config": config.__dict__,
        "created_in": created_in,
        "fingerprint": hashlib.sha256(probe.write_ndjson().encode()).hexdigest()[:16],
    }
    if probe.height < config.prompts:
        info["short_by"] = config.prompts - probe.height  # too few held-out tools for some scenario types
    (out / "probe.json").write_text(json.dumps(info, indent=1))
    return info


def load_probe(out_dir: str | Path) -> tuple[pl.DataFrame, list[Blueprint], dict]:
    """(held-out prompts, yield blueprints, info) of an existing probe; the fingerprint is checked."""
    out = Path(out_dir)
    info = json.loads((out / "probe.json").read_text())
    probe = pl.read_parquet(out / "probe.parquet")
    if hashlib.sha256(probe.write_ndjson().encode()).hexdigest()[:16] != info["fingerprint"]:
        raise ProbeError(f"{out / 'probe.parquet'} changed since it was built: the probe must stay fixed")
    blueprints = [
        Blueprint.from_row(r) for r in pl.read_parquet(out / "yield_blueprints.parquet").iter_rows(named=True)
    ]
    return probe, blueprints, info
