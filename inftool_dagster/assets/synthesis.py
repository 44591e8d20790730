"""``scenario_plan`` → ``synthetic_trajectories``: the three agents at work, per round."""

import hashlib
import json

import dagster as dg
import polars as pl

from inftool_dagster.llm.transformers_backend import companion_backend
from inftool_dagster.mcp_server.simulator import load_tools
from inftool_dagster.resources import PolicyModelResource, WorkspaceResource
from inftool_dagster.synthesis import Blueprint, Planner, ScenarioMix, SynthConfig, load_trajectories, synthesize

from .catalog import _table, catalog_dir, tool_catalog
from .gpu import gpu_op_tags
from .partitions import rounds

OWNERS = ["team:inftool-data"]


class ScenarioPlanConfig(dg.Config):
    n: int = 16
    seed: int = 0
    mix: dict[str, float] = {}  # scenario type → weight (empty: defaults; the gaps asset will set it)
    tool_weights: dict[str, float] = {}


@dg.asset(partitions_def=rounds, deps=[tool_catalog], group_name="synthesis", kinds={"python", "parquet"},
          owners=OWNERS, code_version="plan-v1",
          description="Blueprints: tools offered (targets + distractors), scenario type, gold calls.")
def scenario_plan(context: dg.AssetExecutionContext, config: ScenarioPlanConfig,
                  workspace: WorkspaceResource) -> dg.MaterializeResult:
    tools = load_tools(catalog_dir(workspace, context.partition_key))  # planning needs no server
    mix, tool_weights, source = config.mix, config.tool_weights, "config" if config.mix else "default"
    parent = context.run.tags.get("inftool/parent_round")
    parent_gaps = workspace.round_dir(parent, "gaps") / "gaps.json" if parent else None
    if not config.mix and parent_gaps is not None and parent_gaps.exists():
        gaps = json.loads(parent_gaps.read_text())  # the parent round's weak spots are this round's targets
        mix, tool_weights, source = gaps["scenario_weights"], config.tool_weights or gaps.get("tool_weights", {}), \
            f"capability_gaps of {parent}"
    planner = Planner(tools, seed=config.seed, mix=ScenarioMix(**mix), tool_weights=tool_weights)
    blueprints = planner.plan(0, config.n)
    frame = pl.DataFrame([b.to_row() for b in blueprints])
    path = workspace.round_dir(context.partition_key, "scenario_plan") / "blueprints.parquet"
    frame.write_parquet(path)
    mix = frame.group_by("scenario_type").len().sort("scenario_type") if frame.height else frame
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(path)), "blueprints": frame.height,
                  "parent_round": parent or "none", "weights_source": source,
                  "rejected": sum(planner.rejected.values()), "scenario_mix": dg.MetadataValue.md(_table(mix))},
        data_version=dg.DataVersion(hashlib.sha256(frame.write_ndjson().encode()).hexdigest()[:16]),
    )


@dg.asset(partitions_def=rounds, deps=[scenario_plan, tool_catalog], group_name="synthesis", op_tags=gpu_op_tags(),
          kinds={"python", "pytorch", "parquet"}, owners=OWNERS, code_version="synth-v1",
          description="Full chat transcripts of User Simulator ⇄ Assistant ⇄ MCP Server, in resumable shards.")
def synthetic_trajectories(context: dg.AssetExecutionContext, workspace: WorkspaceResource,
                           policy_model: PolicyModelResource) -> dg.MaterializeResult:
    key = context.partition_key
    plan = pl.read_parquet(workspace.round_dir(key, "scenario_plan") / "blueprints.parquet")
    blueprints = [Blueprint.from_row(r) for r in plan.iter_rows(named=True)]
    out = workspace.round_dir(key, "trajectories")
    policy = policy_model.policy_backend()
    simulator = companion_backend(policy, policy_model.simulator_model)
    config = SynthConfig(n=len(blueprints), round_key=key, policy_model=policy_model.model,
                         simulator_model=policy_model.simulator_model or None)
    summary = synthesize(catalog_dir(workspace, key), out, config, policy, simulator, blueprints=blueprints)
    context.log.info(f"synthesis: {summary}")
    frame = load_trajectories(out)
    by_type = frame.group_by("scenario_type").len().sort("scenario_type") if frame.height else frame
    called = float((frame["n_tool_calls"] > 0).mean()) if frame.height else 0.0
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(out)), "trajectories": frame.height,
        "resumed_shards": summary["resumed_shards"], "seconds": summary["seconds"],
        "model_seconds": summary["model_seconds"], "trajectories_per_s": summary["trajectories_per_s"],
        "share_with_tool_calls": called, "request_sources": dg.MetadataValue.json(summary["request_sources"]),
        "by_scenario_type": dg.MetadataValue.md(_table(by_type)),
    })
