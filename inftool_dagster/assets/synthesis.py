"""``scenario_plan`` → ``synthetic_trajectories``: the three agents at work, per round."""

import hashlib
import json

import dagster as dg
import polars as pl
from pydantic import Field

from inftool_dagster.catalog.tree import load_tool_tree, tree_places
from inftool_dagster.deployment import gpu_op_tags
from inftool_dagster.evaluation.probe import heldout_twins
from inftool_dagster.layout import parent_inputs
from inftool_dagster.mcp_server.simulator import load_tools
from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.synthesis import Blueprint, Planner, ScenarioMix, SynthConfig, load_trajectories, synthesize

from .catalog import _table, catalog_dir, tool_catalog
from .partitions import parent_layout, parent_round, rounds, this_round
from .probe import heldout_probe, probe_tools
from .tree import tool_tree

OWNERS = ["team:inftool-data"]


def planned_blueprints(path, assistant: str) -> list[Blueprint]:
    """The plan's blueprints for the policy (``"policy"``) or for gold replay only (``"gold"``);
    a plan written before the split is all for the policy."""
    plan = pl.read_parquet(path)
    if "assistant" in plan.columns:
        plan = plan.filter(pl.col("assistant") == assistant)
    elif assistant != "policy":
        return []
    return [Blueprint.from_row(r) for r in plan.iter_rows(named=True)]


def policy_source(
    context: dg.AssetExecutionContext, workspace: WorkspaceResource, policy_model: PolicyModelResource
) -> dict:
    """Which policy acts in this round: the parent round's checkpoint, with the data version of
    the parent's ``policy_checkpoint`` materialization (lineage across rounds), else the base model."""
    parent = parent_round(context)
    checkpoint = workspace.round(parent).latest_checkpoint() if parent else None
    if checkpoint is None:
        if parent:
            raise dg.Failure(f"parent round {parent} has no policy checkpoint: run its policy_checkpoint first")
        return {"policy_model": policy_model.model, "policy_round": "base", "policy_checkpoint_version": "base"}
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("policy_checkpoint"), asset_partitions=[parent]), limit=1
    ).records
    version = (
        (records[0].asset_materialization.tags or {}).get("dagster/data_version", "unknown") if records else "unknown"
    )
    return {"policy_model": str(checkpoint), "policy_round": parent, "policy_checkpoint_version": version}


class ScenarioPlanConfig(dg.Config):
    n: int = 16  # blueprints the round's policy converses on (its own data, and its yield)
    # more blueprints, planned the same way, that no model runs: gold-replayed into the training
    # set (source "gold_only"), volume at the price of realization and MCP calls only
    gold_only: int = 48
    seed: int = 0  # each round plans with seed + 7919 × round index: new blueprints every round
    mix: dict[str, float] = {}  # scenario type → weight (empty: defaults; the gaps asset will set it)
    tool_weights: dict[str, float] = {}
    # parallel blueprints whose calls the User Simulator asks for in one sentence (Planner.merged_share)
    merged_share: float = Field(0.0, ge=0.0, le=1.0)
    # parallel blueprints calling one tool on several values of one argument (Planner.factored_share)
    factored_share: float = Field(0.0, ge=0.0, le=1.0)
    # gold calls: at most this many optional arguments (None: as drawn), and never an API's
    # boilerplate parameters (catalog.boilerplate) — Planner.max_optional_args, .skip_boilerplate
    max_optional_args: int | None = Field(None, ge=0)
    skip_boilerplate: bool = False


@dg.asset(
    partitions_def=rounds,
    deps=[tool_catalog, tool_tree, heldout_probe],
    group_name="synthesis",
    kinds={"python", "parquet"},
    owners=OWNERS,
    code_version="plan-v3",
    description="Blueprints drawn from the MCP tree (canonical tools, domains evenly, distractors from the "
    "target's cluster): tools offered, scenario type, gold calls; never a held-out tool nor its near-twin.",
)
def scenario_plan(
    context: dg.AssetExecutionContext, config: ScenarioPlanConfig, workspace: WorkspaceResource
) -> dg.MaterializeResult:
    layout = this_round(context, workspace)
    tree = load_tool_tree(layout.tool_tree())
    every = load_tools(catalog_dir(workspace, context.partition_key))  # planning needs no server
    held_out = probe_tools(workspace)
    twins = heldout_twins(tree, held_out, [t.name for t in every])  # near-twins of held-out tools
    held = set(held_out) | set(twins)
    tools = [t for t in every if t.name not in held]
    mix, tool_weights, source = config.mix, config.tool_weights, "config" if config.mix else "default"
    parent = parent_layout(context, workspace)
    parent_gaps = parent.gaps() if parent else None
    if not config.mix and parent_gaps is not None and parent_gaps.exists():
        gaps = json.loads(parent_gaps.read_text())  # the parent round's weak spots are this round's targets
        mix, tool_weights, source = (
            gaps["scenario_weights"],
            config.tool_weights or gaps.get("tool_weights", {}),
            f"capability_gaps of {parent.key}",
        )
    seed = config.seed + 7919 * int(context.partition_key.lstrip("r") or 0)
    planner = Planner(
        tools,
        seed=seed,
        mix=ScenarioMix(**mix),
        tool_weights=tool_weights,
        places=tree_places(tree),
        merged_share=config.merged_share,
        factored_share=config.factored_share,
        max_optional_args=config.max_optional_args,
        skip_boilerplate=config.skip_boilerplate,
    )
    blueprints = planner.plan(0, config.n)
    policy_ids = {b.blueprint_id for b in blueprints}
    blueprints += planner.plan(config.n, config.gold_only)
    frame = pl.DataFrame(
        [{**b.to_row(), "assistant": "policy" if b.blueprint_id in policy_ids else "gold"} for b in blueprints]
    )
    path = layout.scenario_plan()
    frame.write_parquet(path)
    mix = frame.group_by("scenario_type").len().sort("scenario_type") if frame.height else frame
    by_domain = frame.group_by("domain").len().sort("len", descending=True) if frame.height else frame
    negatives = planner.negative_shares(blueprints)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "blueprints": frame.height,
            "for_policy": len(policy_ids),
            "gold_only": frame.height - len(policy_ids),
            "seed": seed,
            "tools_available": len(tools),
            "canonical_tools_planned_from": len(planner.names),
            # tools whose boilerplate parameters gold calls leave out (0 unless skip_boilerplate)
            "tools_with_boilerplate_skipped": len(planner.boilerplate),
            "tools_held_out": len(every) - len(tools),
            "heldout_twins_excluded": len(twins),
            "domains_covered": frame["domain"].n_unique() if frame.height else 0,
            "domains_in_tree": len(planner.by_domain),
            "by_domain": dg.MetadataValue.md(_table(by_domain)),
            "distractors": dg.MetadataValue.json(negatives["distractors"]),
            "irrelevance_negatives": dg.MetadataValue.json(negatives["irrelevance"]),
            **parent_inputs(parent),
            "weights_source": source,
            "rejected": sum(planner.rejected.values()),
            "merged_parallel": sum(b.notes.get("phrasing") == "merged" for b in blueprints),
            "factored_parallel": sum(b.notes.get("phrasing") == "factored" for b in blueprints),
            "scenario_mix": dg.MetadataValue.md(_table(mix)),
        },
        data_version=dg.DataVersion(hashlib.sha256(frame.write_ndjson().encode()).hexdigest()[:16]),
    )


@dg.asset_check(
    asset=scenario_plan,
    partitions_def=rounds,
    blocking=True,
    description="No planned tool is a held-out probe tool or in the same near-duplicate group as one "
    "(the held-out split is by tree cluster; this asserts it on this round's tree).",
)
def plan_has_no_heldout_twins(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource
) -> dg.AssetCheckResult:
    layout = workspace.round(context.partition_key)
    plan = pl.read_parquet(layout.scenario_plan())
    planned = sorted(set(plan["tools"].explode().drop_nulls().to_list())) if plan.height else []
    held = probe_tools(workspace)
    tree = load_tool_tree(layout.tool_tree())
    leaked = sorted(set(planned) & set(held))
    twins = heldout_twins(tree, held, planned)
    return dg.AssetCheckResult(
        passed=not leaked and not twins,
        metadata={
            "planned_tools": len(planned),
            "heldout_tools": len(held),
            "heldout_planned": len(leaked),
            "heldout_twins_planned": len(twins),
            "examples": dg.MetadataValue.json((leaked + twins)[:20]),
        },
    )


@dg.asset(
    partitions_def=rounds,
    deps=[scenario_plan, tool_catalog],
    group_name="synthesis",
    op_tags=gpu_op_tags(),
    kinds={"python", "pytorch", "parquet"},
    owners=OWNERS,
    code_version="synth-v1",
    description="Full chat transcripts of User Simulator ⇄ Assistant ⇄ MCP Server, in resumable shards.",
)
def synthetic_trajectories(
    context: dg.AssetExecutionContext, workspace: WorkspaceResource, policy_model: PolicyModelResource
) -> dg.MaterializeResult:
    """The Assistant is the parent round's policy checkpoint (round 0: the configured base model):
    the improved model writes the next round's data."""
    key = context.partition_key
    blueprints = planned_blueprints(workspace.round(key).scenario_plan(), "policy")
    out = workspace.round(key).trajectories()
    source = policy_source(context, workspace, policy_model)
    policy = policy_model.policy_backend(source["policy_model"])
    simulator_model = policy_model.simulator_model_for(source["policy_model"])
    simulator = (
        None
        if not simulator_model
        else policy
        if simulator_model == source["policy_model"]
        else policy_model.policy_backend(simulator_model)
    )
    config = SynthConfig(
        n=len(blueprints), round_key=key, policy_model=source["policy_model"], simulator_model=simulator_model or None
    )
    summary = synthesize(catalog_dir(workspace, key), out, config, policy, simulator, blueprints=blueprints)
    context.log.info(f"synthesis: {summary}")
    frame = load_trajectories(out)
    by_type = frame.group_by("scenario_type").len().sort("scenario_type") if frame.height else frame
    called = float((frame["n_tool_calls"] > 0).mean()) if frame.height else 0.0
    recorded = sorted(set(frame["policy_model"].to_list())) if frame.height else []
    return dg.MaterializeResult(
        metadata={
            **source,
            **parent_inputs(parent_layout(context, workspace)),
            "policy_models_in_shards": dg.MetadataValue.json(recorded),
            "simulator_model": simulator_model or "template",
            "path": dg.MetadataValue.path(str(out)),
            "trajectories": frame.height,
            "resumed_shards": summary["resumed_shards"],
            "seconds": summary["seconds"],
            "model_seconds": summary["model_seconds"],
            "trajectories_per_s": summary["trajectories_per_s"],
            "share_with_tool_calls": called,
            "request_sources": dg.MetadataValue.json(summary["request_sources"]),
            "leak_check": dg.MetadataValue.json(summary["leak_check"]),
            "by_scenario_type": dg.MetadataValue.md(_table(by_type)),
        }
    )
