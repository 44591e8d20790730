"""``heldout_probe``: the experiment's fixed held-out tools and prompts, built once."""

import json

import dagster as dg
import polars as pl

from inftool_dagster.evaluation.probe import ProbeConfig, build_probe, load_probe
from inftool_dagster.resources import WorkspaceResource

from .catalog import _table, catalog_dir, tool_catalog
from .partitions import rounds
from .tree import tool_tree

OWNERS = ["team:inftool-training"]


class HeldoutProbeConfig(dg.Config):
    heldout_fraction: float = ProbeConfig.heldout_fraction  # share of tree clusters held out of every round
    prompts: int = ProbeConfig.prompts
    yield_blueprints: int = ProbeConfig.yield_blueprints
    seed: int = ProbeConfig.seed


def probe_dir(workspace: WorkspaceResource):
    return workspace.probe_dir()


@dg.asset(
    partitions_def=rounds,
    deps=[tool_catalog, tool_tree],
    group_name="evaluation",
    kinds={"python", "parquet"},
    owners=OWNERS,
    code_version="probe-v1",
    description="The experiment's fixed held-out probe: whole clusters of the MCP tree held out of every "
    "round's training (no held-out tool has a near-duplicate in training), "
    "≥200 prompts (simple, multiple, parallel, irrelevance), and fixed yield blueprints. Built "
    "once, by the first round; later rounds verify it is unchanged.",
)
def heldout_probe(
    context: dg.AssetExecutionContext, config: HeldoutProbeConfig, workspace: WorkspaceResource
) -> dg.MaterializeResult:
    out = probe_dir(workspace)
    if not (out / "probe.json").exists():
        probe_config = ProbeConfig(
            heldout_fraction=config.heldout_fraction,
            prompts=config.prompts,
            yield_blueprints=config.yield_blueprints,
            seed=config.seed,
        )
        layout = workspace.round(context.partition_key)
        build_probe(
            catalog_dir(workspace, context.partition_key),
            out,
            probe_config,
            created_in=context.partition_key,
            tree_dir=layout.tool_tree(),
        )
    probe, blueprints, info = load_probe(out)  # checks the fingerprint: the probe never changes
    by = pl.DataFrame({"scenario_type": list(info["by_scenario"]), "prompts": list(info["by_scenario"].values())})
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "prompts": probe.height,
            "yield_blueprints": len(blueprints),
            "created_in": info["created_in"],
            "fingerprint": info["fingerprint"],
            "heldout_by": info.get("heldout_by", "spec"),
            "heldout_keys": dg.MetadataValue.json(info.get("heldout_clusters") or info.get("heldout_specs") or []),
            "heldout_tools": len(info["heldout_tools"]),
            "by_scenario": dg.MetadataValue.md(_table(by)),
        },
        data_version=dg.DataVersion(info["fingerprint"]),
    )


def probe_tools(workspace: WorkspaceResource) -> list[str]:
    """The probe's held-out tools: never offered in any round's plan or training rows."""
    return json.loads((probe_dir(workspace) / "probe.json").read_text())["heldout_tools"]
