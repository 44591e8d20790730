"""``synthetic_trajectories`` → ``verified_trajectories`` → ``training_set``, guarded by GX suites."""

import hashlib
import json

import dagster as dg
import polars as pl

from inftool_dagster.catalog import load_catalog
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.resources import DataQualityResource, WorkspaceResource
from inftool_dagster.synthesis.user_simulator import UserSimulator
from inftool_dagster.training.views import build_views, planned_rows
from inftool_dagster.verification import VerifyConfig, read_trajectories
from inftool_dagster.verification.dedup import DedupConfig
from inftool_dagster.verification.gates import GateConfig
from inftool_dagster.verification.quality import trajectory_suite, verified_suite
from inftool_dagster.verification.runner import gate_and_dedup

from .catalog import _table, catalog_dir, tool_catalog
from .partitions import rounds
from .probe import heldout_probe, probe_tools
from .synthesis import planned_blueprints, scenario_plan, synthetic_trajectories

OWNERS = ["team:inftool-data"]


class VerificationConfig(dg.Config):
    semantic_gate: bool = False  # needs a judge model; off on CPU
    max_per_tool: int | None = None
    max_per_template: int | None = None


def _verify_config(config: VerificationConfig, workspace: WorkspaceResource) -> VerifyConfig:
    return VerifyConfig(
        gates=GateConfig(semantic=config.semantic_gate),
        heldout_tools=probe_tools(workspace),
        dedup=DedupConfig(max_per_tool=config.max_per_tool, max_per_template=config.max_per_template),
    )


def _verified_dir(workspace: WorkspaceResource, key: str):
    return workspace.round(key).verified()


@dg.asset(
    partitions_def=rounds,
    deps=[synthetic_trajectories, tool_catalog],
    group_name="verification",
    kinds={"python", "polars", "parquet"},
    owners=OWNERS,
    code_version="verify-v1",
    description="Trajectories that pass every gate (format, schema, execution, intent[, semantic]), deduplicated.",
)
def verified_trajectories(
    context: dg.AssetExecutionContext, config: VerificationConfig, workspace: WorkspaceResource
) -> dg.MaterializeResult:
    key = context.partition_key
    server = CatalogServer.from_catalog(catalog_dir(workspace, key))
    if config.semantic_gate:
        raise dg.Failure("semantic_gate needs a judge model; run `inftool verify --semantic-judge MODEL` for now")
    gated, verified, summary = gate_and_dedup(
        workspace.round(key).trajectories(), server, _verified_dir(workspace, key), _verify_config(config, workspace)
    )
    reasons = (
        gated.filter(~pl.col("verified"))
        .group_by("rejected_by", "reject_reason")
        .len()
        .sort("len", descending=True)
        .head(10)
    )
    by_type = gated.group_by("scenario_type").agg(pl.len().alias("trajectories"), pl.col("verified").sum())
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(_verified_dir(workspace, key))),
            "trajectories": summary["trajectories"],
            "verified": summary["verified"],
            "pass_rate": summary["pass_rate"],
            "rejected_by_gate": dg.MetadataValue.json(summary["rejected"]),
            "removed_by_dedup": dg.MetadataValue.json(summary["removed"]),
            "diversity": dg.MetadataValue.json(summary["diversity"]),
            "by_scenario_type": dg.MetadataValue.md(_table(by_type.sort("scenario_type"))),
            "top_reject_reasons": dg.MetadataValue.md(_table(reasons)),
        },
        data_version=dg.DataVersion(
            hashlib.sha256(",".join(sorted(verified["trajectory_id"].to_list())).encode()).hexdigest()[:16]
        ),
    )


@dg.asset(
    partitions_def=rounds,
    deps=[verified_trajectories, scenario_plan, heldout_probe],
    group_name="verification",
    kinds={"python", "parquet"},
    owners=OWNERS,
    code_version="views-v2",
    description="GRPO prompts (gold calls for the reward) and SFT chats (the policy's verified conversations, "
    "gold replays of its failures and of the plan's gold-only blueprints), never offering a held-out probe tool; "
    "rows counted by source.",
)
def training_set(
    context: dg.AssetExecutionContext, config: VerificationConfig, workspace: WorkspaceResource
) -> dg.MaterializeResult:
    key = context.partition_key
    server = CatalogServer.from_catalog(catalog_dir(workspace, key))
    gated = pl.read_parquet(workspace.round(key).gated())
    out = workspace.round(key).training_set()
    gold = planned_blueprints(workspace.round(key).scenario_plan(), "gold")
    user = UserSimulator.for_tools(server.tools.values())  # the template User Simulator synthesis uses
    planned = planned_rows(gold, server, user, key)
    summary = build_views(gated, server, out, _verify_config(config, workspace), planned)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    sources = summary["rows_by_source"]["sft"]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "grpo_train": summary["grpo_prompts"]["train"],
            "grpo_heldout": summary["grpo_prompts"]["heldout"],
            "sft_train": summary["sft_chats"]["train"],
            "sft_heldout": summary["sft_chats"]["heldout"],
            "sft_from_policy": sources.get("policy", 0),
            "sft_from_gold_replay": sources.get("gold_replay", 0),
            "sft_from_gold_only": sources.get("gold_only", 0),
            "gold_only_planned": len(gold),
            "rows_by_source": dg.MetadataValue.json(summary["rows_by_source"]),
            "dropped": dg.MetadataValue.json(summary["views"]),
        }
    )


def _report_result(report) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=report.success,
        description=report.summary()[:1000],
        metadata={"expectations": dg.MetadataValue.json(report.metadata()), "failed": len(report.failed())},
    )


@dg.asset_check(
    asset=synthetic_trajectories,
    partitions_def=rounds,
    blocking=True,
    description="great-expectations: required columns non-null, offered tools in the catalog, "
    "duplicate rate and scenario mix within bounds.",
)
def trajectories_quality(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, data_quality: DataQualityResource
) -> dg.AssetCheckResult:
    key = context.partition_key
    frame = read_trajectories(workspace.round(key).trajectories())
    names = load_catalog(catalog_dir(workspace, key))["name"].to_list()
    return _report_result(trajectory_suite(frame, names, data_quality))


@dg.asset_check(
    asset=verified_trajectories,
    partitions_def=rounds,
    blocking=True,
    description="great-expectations: every kept row passes every gate again when judged from "
    "scratch (its calls replayed on a fresh MCP session), called tools in the catalog, "
    "no duplicate requests, pass rate within bounds.",
)
def verified_quality(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, data_quality: DataQualityResource
) -> dg.AssetCheckResult:
    key = context.partition_key
    directory = _verified_dir(workspace, key)
    gated, verified = pl.read_parquet(directory / "gated.parquet"), pl.read_parquet(directory / "verified.parquet")
    server = CatalogServer.from_catalog(catalog_dir(workspace, key))  # its tools are the catalog's names
    return _report_result(verified_suite(gated, verified, list(server.tools), data_quality, server))


@dg.asset_check(
    asset=training_set,
    partitions_def=rounds,
    blocking=True,
    description="No tool of the held-out probe (whole specs) is offered in any training row, GRPO or SFT.",
)
def training_split_disjoint(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource
) -> dg.AssetCheckResult:
    held = set(probe_tools(workspace))
    directory = workspace.round(context.partition_key).training_set()
    rows = 0
    leaks: set[str] = set()
    for name in ("grpo_train", "sft_train"):
        frame = pl.read_parquet(directory / f"{name}.parquet")
        rows += frame.height
        leaks |= {
            t["function"]["name"]
            for tools in frame["tools"].to_list()
            for t in json.loads(tools)
            if t["function"]["name"] in held
        }
    return dg.AssetCheckResult(
        passed=not leaks,
        metadata={
            "train_rows": rows,
            "heldout_tools": len(held),
            "leaked_tools": dg.MetadataValue.json(sorted(leaks)[:20]),
        },
    )


@dg.asset_check(
    asset=training_set,
    partitions_def=rounds,
    blocking=True,
    description="No BFCL function name or question is in the training set (BFCL stays a clean test).",
)
def training_set_no_bfcl_leak(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource
) -> dg.AssetCheckResult:
    from inftool_dagster.bfcl.leakage import find_leaks

    directory = workspace.round(context.partition_key).training_set()
    tools, chats = [], []
    for name in ("grpo_train", "sft_train"):
        frame = pl.read_parquet(directory / f"{name}.parquet")
        tools += frame["tools"].to_list()
        chats += frame["prompt" if name.startswith("grpo") else "messages"].to_list()
    report = find_leaks(tools, chats)
    return dg.AssetCheckResult(
        passed=report.clean,
        metadata={
            "bfcl_function_names": dg.MetadataValue.json(report.function_names[:20]),
            "bfcl_questions": dg.MetadataValue.json(report.questions[:5]),
        },
    )
