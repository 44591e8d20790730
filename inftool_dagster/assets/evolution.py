"""``capability_gaps`` and what starts the next round: a sensor on the gaps and a nightly schedule."""

import json

import dagster as dg
import polars as pl

from inftool_dagster.catalog import load_catalog
from inftool_dagster.evolution import DevSplitRequired, best_round, should_stop, tool_weights
from inftool_dagster.evolution import capability_gaps as compute_gaps
from inftool_dagster.evolution.plots import markdown_image, score_by_round_png
from inftool_dagster.resources import EvolutionResource, WorkspaceResource

from .catalog import _table, catalog_dir
from .evaluation import bfcl_dev_scores
from .partitions import PARENT_TAG, ROUND_JOB, ROUND_TAG, round_key, rounds
from .verification import verified_trajectories

OWNERS = ["team:inftool-training"]


def gaps_path(workspace: WorkspaceResource, key: str):
    return workspace.round(key).gaps()


def _read_json(path) -> dict:
    """A round's JSON artifact, or {} where that round has not written it."""
    return json.loads(path.read_text()) if path.exists() else {}


@dg.asset(
    partitions_def=rounds,
    deps=[bfcl_dev_scores, verified_trajectories],
    group_name="evolution",
    kinds={"python", "json"},
    owners=OWNERS,
    code_version="gaps-v2",
    description="Error rates per BFCL category (dev split only), error type and tool domain, and the next "
    "round's weights; the dev score the stop rule reads.",
)
def capability_gaps(
    context: dg.AssetExecutionContext, workspace: WorkspaceResource, evolution: EvolutionResource
) -> dg.MaterializeResult:
    key = context.partition_key
    gated_path = workspace.round(key).gated()
    gated = pl.read_parquet(gated_path) if gated_path.exists() else pl.DataFrame()
    gaps = compute_gaps(
        workspace.round(key).bfcl("dev"),
        gated,
        boost=evolution.gap_boost,
        score_key=evolution.score_key,
        min_share=evolution.min_share,
    )
    domains = dict(load_catalog(catalog_dir(workspace, key)).select("name", "domain").iter_rows())
    gaps["tool_weights"] = tool_weights(gaps["domain_weights"], domains)
    gaps["round"] = key
    gaps_path(workspace, key).write_text(json.dumps(gaps, indent=1))
    history = sorted(set(context.instance.get_materialized_partitions(context.asset_key)) | {key})
    past = [_read_json(gaps_path(workspace, k)) for k in history]
    best = best_round(history, [g.get("score") for g in past])
    png = score_by_round_png(history, {f"BFCL dev {evolution.score_key}": [g.get("score") for g in past]})
    (gaps_path(workspace, key).parent / "score_by_round.png").write_bytes(png)
    weights = pl.DataFrame(
        {"scenario_type": list(gaps["scenario_weights"]), "next_weight": list(gaps["scenario_weights"].values())}
    )
    return dg.MaterializeResult(
        metadata={
            "dev_score": gaps["score"],
            "dev_score_ci95": dg.MetadataValue.json(gaps["score_ci95"]),
            "score_split": gaps["score_split"],
            "best_round_by_dev": best or "none",  # the checkpoint to keep (export, headline): chosen on dev
            "dev_score_by_round": dg.MetadataValue.md(markdown_image(png, "dev score by round")),
            "path": dg.MetadataValue.path(str(gaps_path(workspace, key))),
            "bfcl_dev_error_rate": dg.MetadataValue.json(gaps["bfcl_error_rate"]),
            "error_kinds": dg.MetadataValue.json(
                {"bfcl_dev": gaps["bfcl_error_kinds"], "synthetic": gaps["synthetic_error_kinds"]}
            ),
            "next_scenario_weights": dg.MetadataValue.md(_table(weights)),
            "weighted_tools": len(gaps["tool_weights"]),
        }
    )


def _scores(workspace: WorkspaceResource, keys: list[str]) -> list:
    """Each round's dev score (the stop rule's input); a gaps file from anything but the dev split
    is refused."""
    scores = []
    for key in keys:
        gaps = _read_json(gaps_path(workspace, key))
        if gaps.get("score") is not None and gaps.get("score_split") != "dev":
            raise DevSplitRequired(
                f"gaps of {key} carry a {gaps.get('score_split')!r} score: the stop rule reads dev only"
            )
        scores.append(gaps.get("score"))
    return scores


def next_round(
    instance: dg.DagsterInstance, workspace: WorkspaceResource, evolution: EvolutionResource, after: str | None
):
    """(run request, add-partition request, evaluated round) for the round after the newest round
    with materialized gaps (newer than ``after``), or a SkipReason."""
    done = sorted(instance.get_materialized_partitions(dg.AssetKey("capability_gaps")))
    if not done:
        return dg.SkipReason("no round has materialized capability_gaps yet")
    latest = done[-1]
    if after is not None and latest <= after:
        return dg.SkipReason(f"no new gaps since {after}")
    stop, why = should_stop(_scores(workspace, done), evolution)
    if stop:
        return dg.SkipReason(f"evolution stops after {latest}: {why}")
    nxt = round_key(int(latest[1:]) + 1)
    request = dg.RunRequest(partition_key=nxt, run_key=f"evolve-{nxt}", tags={PARENT_TAG: latest, ROUND_TAG: nxt})
    return request, rounds.build_add_request([nxt]), latest


@dg.sensor(
    job_name=ROUND_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a round's capability gaps land and the stop rule does not hold, start the next round.",
)
def evolution_sensor(context: dg.SensorEvaluationContext, workspace: WorkspaceResource, evolution: EvolutionResource):
    outcome = next_round(context.instance, workspace, evolution, context.cursor)
    if isinstance(outcome, dg.SkipReason):
        return outcome
    request, add, latest = outcome
    # the cursor moves only with a successful result: a crashed tick is retried, never skipped
    return dg.SensorResult(run_requests=[request], dynamic_partitions_requests=[add], cursor=latest)


@dg.schedule(
    cron_schedule="0 2 * * *",
    job_name=ROUND_JOB,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly: continue evolution (the next round, or round 0 on a fresh instance).",
)
def nightly_evolution(
    context: dg.ScheduleEvaluationContext, workspace: WorkspaceResource, evolution: EvolutionResource
):
    if not context.instance.get_dynamic_partitions("rounds"):
        key, tags = round_key(0), {}
    else:
        outcome = next_round(context.instance, workspace, evolution, None)
        if isinstance(outcome, dg.SkipReason):
            return outcome
        key, tags = outcome[0].partition_key, outcome[0].tags
    # a schedule cannot return partition requests: add the round's partition before requesting it
    context.instance.add_dynamic_partitions("rounds", [key])
    return [dg.RunRequest(partition_key=key, run_key=f"nightly-{key}", tags={**tags, ROUND_TAG: key})]
