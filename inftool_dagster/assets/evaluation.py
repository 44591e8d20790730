"""The round's measurement: BFCL dev (steers the loop) and test (reports only), the fixed held-out
probe, the policy's own data yield, and the round report.

Only ``bfcl_dev_scores`` feeds ``capability_gaps``; the test split, the probe and the report are
leaves that nothing in the loop reads, so the lineage graph itself shows that test data never
steers training. Every accuracy carries its counts and 95 % interval; failed generations are
counted and a blocking check stops the round when too many failed.
"""

import json

import dagster as dg
import polars as pl

from inftool_dagster.bfcl import evaluate
from inftool_dagster.bfcl.settings import EvalSettings
from inftool_dagster.deployment import gpu_op_tags
from inftool_dagster.evaluation.intervals import fmt
from inftool_dagster.evaluation.policy_yield import policy_yield as measure_yield
from inftool_dagster.evaluation.probe import load_probe
from inftool_dagster.resources import DataQualityResource, PolicyModelResource, WorkspaceResource
from inftool_dagster.training import TrainConfig
from inftool_dagster.training.heldout import heldout_eval

from .catalog import _table, catalog_dir, tool_catalog
from .partitions import rounds, this_round
from .probe import heldout_probe, probe_dir
from .training import policy_checkpoint

OWNERS = ["team:inftool-training"]


class BFCLEvalConfig(dg.Config, EvalSettings):
    """The domain's ``EvalSettings``; a round evaluates a sample in the policy's own prompt format."""

    limit: int = 8  # a uniform sample of N entries per category from the split; 0 = the whole split
    prompt_format: str = "compact"  # the project's prompt, the one the policy is trained on; "bfcl": BFCL's own
    batch_size: int | None = None  # None: the policy_model resource's (decoder="generate": rows per call)
    dtype: str | None = None  # None: the policy_model resource's


def _policy(
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
    key: str,
    batch_size: int | None = None,
    dtype: str | None = None,
):
    checkpoint = workspace.round(key).latest_checkpoint()
    if checkpoint is None:
        raise dg.Failure(f"round {key} has no policy checkpoint")
    update = {k: v for k, v in (("batch_size", batch_size), ("dtype", dtype)) if v is not None}
    return str(checkpoint), policy_model.model_copy(update=update).policy_backend(str(checkpoint))


def _bfcl(
    context: dg.AssetExecutionContext,
    config: BFCLEvalConfig,
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
    split: str,
) -> dg.MaterializeResult:
    key = context.partition_key
    checkpoint, backend = _policy(workspace, policy_model, key, config.batch_size, config.dtype)
    out = workspace.round(key).bfcl(split)
    summary = evaluate(
        backend,
        config.categories,
        out,
        model_name="policy",
        split=split,
        limit=config.limit or None,
        max_new_tokens=config.max_new_tokens,
        prompt_format=config.prompt_format,
        stop_after_calls=config.stop_after_calls,
    )
    rows = [
        {
            "category": c,
            "accuracy [95% CI] (correct/total)": fmt(r),
            "failed": r["generation_errors"] + r["prompts_too_long"],
        }
        for c, r in summary["categories"].items()
    ]
    rows += [
        {"category": f"**{k}**", "accuracy [95% CI] (correct/total)": fmt(r), "failed": 0}
        for k, r in summary["summaries"].items()
    ]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "checkpoint": checkpoint,
            "split": split,
            "sample_per_category": config.limit or "whole split",
            "entries": summary["entries"],
            "seconds": summary["seconds"],
            "entries_per_s": summary["entries_per_s"],
            "generation": dg.MetadataValue.json(summary.get("generation") or {}),
            "generation_errors": summary["generation_errors"],
            "prompts_too_long": summary["prompts_too_long"],
            "accuracy": dg.MetadataValue.md(_table(pl.DataFrame(rows))),
            "non_live_python_ast_summary": summary["summary"]["non_live_python_ast_summary"],
            "categories": dg.MetadataValue.json(summary["categories"]),
            "summaries": dg.MetadataValue.json(summary["summaries"]),
        }
    )


@dg.asset(
    partitions_def=rounds,
    deps=[policy_checkpoint],
    group_name="evaluation",
    kinds={"python", "pytorch"},
    op_tags=gpu_op_tags(),
    owners=OWNERS,
    code_version="bfcl-dev-v1",
    description="The round's policy on BFCL's dev split (about a quarter of every category, by a stable "
    "hash of the entry id): the only BFCL data the loop may learn from (gaps, stop rule).",
)
def bfcl_dev_scores(
    context: dg.AssetExecutionContext,
    config: BFCLEvalConfig,
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
) -> dg.MaterializeResult:
    return _bfcl(context, config, workspace, policy_model, "dev")


@dg.asset(
    partitions_def=rounds,
    deps=[policy_checkpoint],
    group_name="evaluation",
    kinds={"python", "pytorch"},
    op_tags=gpu_op_tags(),
    owners=OWNERS,
    code_version="bfcl-test-v1",
    description="The round's policy on BFCL's test split (the rest of every category): reports only — "
    "nothing in the loop reads it.",
)
def bfcl_test_scores(
    context: dg.AssetExecutionContext,
    config: BFCLEvalConfig,
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
) -> dg.MaterializeResult:
    return _bfcl(context, config, workspace, policy_model, "test")


class HeldoutScoresConfig(dg.Config):
    max_new_tokens: int = EvalSettings().max_new_tokens
    stop_after_calls: bool = EvalSettings().stop_after_calls
    batch_size: int | None = None  # None: the policy_model resource's
    dtype: str | None = None  # None: the policy_model resource's


@dg.asset(
    partitions_def=rounds,
    deps=[policy_checkpoint, heldout_probe],
    group_name="evaluation",
    kinds={"python", "pytorch"},
    op_tags=gpu_op_tags(),
    owners=OWNERS,
    code_version="heldout-v3",
    description="The round's policy on the fixed held-out probe (tools of specs no round trains on): "
    "exact accuracy (BFCL-style), gated reward and its parts, per scenario type, with intervals.",
)
def heldout_scores(
    context: dg.AssetExecutionContext,
    config: HeldoutScoresConfig,
    workspace: WorkspaceResource,
    policy_model: PolicyModelResource,
) -> dg.MaterializeResult:
    key = context.partition_key
    checkpoint, backend = _policy(workspace, policy_model, key, config.batch_size, config.dtype)
    probe, _, info = load_probe(probe_dir(workspace))
    result = heldout_eval(
        backend,
        probe,
        TrainConfig().reward_weights,
        max_new_tokens=config.max_new_tokens,
        stop_after_calls=config.stop_after_calls,
    )
    out = workspace.round(key).heldout()
    workspace.round(key).heldout_scores().write_text(json.dumps({**result, "probe": info["fingerprint"]}, indent=1))
    rows = [{"scenario_type": k, "exact [95% CI] (correct/total)": fmt(v)} for k, v in result["by_scenario"].items()]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "checkpoint": checkpoint,
            "probe": info["fingerprint"],
            "prompts": result["prompts"],
            "exact": fmt(result["exact"]),
            "exact_accuracy": result["accuracy"],
            "reward": result["reward"],
            "reward_ci95": dg.MetadataValue.json(result["reward_ci95"]),
            "generation_errors": result["generation_errors"],
            "prompts_too_long": result["prompts_too_long"],
            "generation": dg.MetadataValue.json(result.get("generation", {})),
            "by_scenario": dg.MetadataValue.md(_table(pl.DataFrame(rows))),
            "parts": dg.MetadataValue.json({k: result[k] for k in ("format", "name", "arguments") if k in result}),
        }
    )


@dg.asset(
    partitions_def=rounds,
    deps=[policy_checkpoint, heldout_probe, tool_catalog],
    group_name="evaluation",
    kinds={"python", "pytorch"},
    op_tags=gpu_op_tags(),
    owners=OWNERS,
    code_version="yield-v1",
    description="The policy's own data yield: the share of its conversations on the fixed yield blueprints "
    "that pass every gate, per scenario type — what the next round's Assistant will produce.",
)
def policy_yield(
    context: dg.AssetExecutionContext, workspace: WorkspaceResource, policy_model: PolicyModelResource
) -> dg.MaterializeResult:
    key = context.partition_key
    checkpoint, backend = _policy(workspace, policy_model, key)
    _, blueprints, info = load_probe(probe_dir(workspace))
    out = workspace.round(key).policy_yield()
    summary = measure_yield(
        catalog_dir(workspace, key), blueprints, backend, out / "trajectories", policy_model=checkpoint
    )
    workspace.round(key).yield_scores().write_text(json.dumps({**summary, "probe": info["fingerprint"]}, indent=1))
    rows = [{"scenario_type": k, "yield [95% CI] (passed/total)": fmt(v)} for k, v in summary["by_scenario"].items()]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "checkpoint": checkpoint,
            "yield": fmt(summary["yield"]),
            "yield_rate": summary["yield"]["accuracy"],
            "conversations": summary["conversations"],
            "by_scenario": dg.MetadataValue.md(_table(pl.DataFrame(rows))) if rows else "none",
            "rejected_by": dg.MetadataValue.json(summary["rejected_by"]),
        }
    )


def _failure_check(path, data_quality: DataQualityResource) -> dg.AssetCheckResult:
    result = json.loads(path.read_text())
    total = result.get("entries", result.get("prompts", 0))
    failed = result.get("generation_errors", 0) + result.get("prompts_too_long", 0)
    share = failed / total if total else 0.0
    return dg.AssetCheckResult(
        passed=share <= data_quality.max_failure_share,
        metadata={
            "failed": failed,
            "total": total,
            "failure_share": round(share, 4),
            "threshold": data_quality.max_failure_share,
            "generation_errors": result.get("generation_errors", 0),
            "prompts_too_long": result.get("prompts_too_long", 0),
        },
    )


@dg.asset_check(
    asset=bfcl_dev_scores,
    partitions_def=rounds,
    blocking=True,
    description="Failed generations (errors, over-long prompts) stay under max_failure_share: a broken "
    "generation path must not read as a low score that steers the next round.",
)
def bfcl_dev_failures_bounded(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, data_quality: DataQualityResource
) -> dg.AssetCheckResult:
    return _failure_check(this_round(context, workspace).bfcl_summary("dev"), data_quality)


@dg.asset_check(
    asset=bfcl_test_scores,
    partitions_def=rounds,
    blocking=True,
    description="Failed generations stay under max_failure_share on the test split.",
)
def bfcl_test_failures_bounded(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, data_quality: DataQualityResource
) -> dg.AssetCheckResult:
    return _failure_check(this_round(context, workspace).bfcl_summary("test"), data_quality)


@dg.asset_check(
    asset=heldout_scores,
    partitions_def=rounds,
    blocking=True,
    description="Failed generations stay under max_failure_share on the held-out probe.",
)
def heldout_failures_bounded(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, data_quality: DataQualityResource
) -> dg.AssetCheckResult:
    return _failure_check(this_round(context, workspace).heldout_scores(), data_quality)


@dg.asset(
    partitions_def=rounds,
    deps=[bfcl_test_scores, heldout_scores, policy_yield, "training_set"],
    group_name="evaluation",
    kinds={"python", "json"},
    owners=OWNERS,
    code_version="report-v2",
    description="What the round shows, from test data only: BFCL test split and held-out probe with "
    "intervals, the policy's yield, training rows by source; a by-round plot with error bars.",
)
def round_report(context: dg.AssetExecutionContext, workspace: WorkspaceResource) -> dg.MaterializeResult:
    from inftool_dagster.evaluation.report import paired_lines, report_png, round_record

    key = context.partition_key
    layout = workspace.round(key)
    record = round_record(layout)
    out = layout.report()
    layout.report_record().write_text(json.dumps(record, indent=1))
    history = sorted(set(context.instance.get_materialized_partitions(context.asset_key)) | {key})
    records = [
        record if k == key else json.loads(layout.of(k).report_record().read_text())
        for k in history
        if k == key or layout.of(k).report_record().exists()
    ]
    png = report_png(records)
    at = [r["round"] for r in records].index(key)
    previous = records[at - 1] if at else None  # the round before, item by item on the same entries
    (out / "by_round.png").write_bytes(png)
    from inftool_dagster.evolution.plots import markdown_image

    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "by_round": dg.MetadataValue.md(markdown_image(png, "by round")),
            "bfcl_test": dg.MetadataValue.md(record["bfcl_test_table"]),
            "heldout_exact": fmt(record["heldout"].get("exact")),
            "policy_yield": fmt(record["yield"].get("yield")),
            "training_rows_by_source": dg.MetadataValue.json(record["training_rows"]),
            "vs_previous_round": dg.MetadataValue.md(paired_lines(record, previous) if previous else "—"),
        }
    )
