"""Data-quality suites with great-expectations 1.x, called directly (dagster-ge predates GX 1.x).

Each suite runs on an ephemeral GX context over pandas views of the polars frames and
returns a ``QualityReport``: pass/fail per expectation with observed values and failing
examples, which the Dagster asset checks put in their metadata.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, field

import orjson
import polars as pl
from pydantic import BaseModel, Field

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
REQUIRED_COLUMNS = ("trajectory_id", "scenario_type", "request", "messages", "tools", "gold_calls", "blueprint")


class QualityBounds(BaseModel):
    """Bounds the data must stay within; the defaults suit a first round with a weak policy."""

    min_pass_rate: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Least share of trajectories verified (0 by "
        "default: a base model's round verifies few; raise it for trained policies).",
    )
    max_duplicate_rate: float = Field(0.5, ge=0, le=1, description="Most share of exact-duplicate requests.")
    max_scenario_share: float = Field(0.6, ge=0, le=1, description="Most share of any one scenario type.")
    min_scenario_types: int = Field(1, ge=1, description="Least distinct scenario types present.")
    max_failure_share: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Evaluations: most share of failed generations (errors, over-long prompts) before the round fails.",
    )


@dataclass
class Expectation:
    name: str
    success: bool
    observed: object = None
    failing_examples: list = field(default_factory=list)


@dataclass
class QualityReport:
    suite: str
    expectations: list[Expectation]

    @property
    def success(self) -> bool:
        return all(e.success for e in self.expectations)

    def failed(self) -> list[Expectation]:
        return [e for e in self.expectations if not e.success]

    def summary(self) -> str:
        failed = self.failed()
        if not failed:
            return f"{self.suite}: all {len(self.expectations)} expectations met"
        return f"{self.suite}: {len(failed)} of {len(self.expectations)} expectations failed: " + "; ".join(
            f"{e.name} (observed {e.observed}; e.g. {e.failing_examples[:3]})" for e in failed
        )

    def metadata(self) -> dict:
        return {
            e.name: {
                "success": e.success,
                "observed": _plain(e.observed),
                "failing_examples": _plain(e.failing_examples[:5]),
            }
            for e in self.expectations
        }


def _plain(value):
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_SERIALIZE_NUMPY))


def _validate(name: str, frames: dict[str, tuple[pl.DataFrame, list]]) -> QualityReport:
    """Run expectation lists over named frames (one batch each)."""
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    source = context.data_sources.add_pandas(f"{name}_source")
    results: list[Expectation] = []
    for frame_name, (frame, expectations) in frames.items():
        batch_definition = source.add_dataframe_asset(frame_name).add_batch_definition_whole_dataframe("all")
        suite = gx.ExpectationSuite(name=f"{name}.{frame_name}")
        for expectation in expectations:
            suite.add_expectation(expectation)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
        outcome = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
        for item in outcome.results:
            config = item.expectation_config
            column = config.kwargs.get("column", "")
            result = item.result or {}
            observed = result.get("observed_value", result.get("unexpected_percent"))
            results.append(
                Expectation(
                    f"{config.type}({frame_name}.{column})",
                    bool(item.success),
                    observed,
                    list(result.get("partial_unexpected_list") or []),
                )
            )
    return QualityReport(name, results)


def _call_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per predicted call: (trajectory_id, name) for the tool-name check."""
    rows = [
        {"trajectory_id": tid, "name": call.get("name")}
        for tid, steps in frame.select("trajectory_id", "predicted_calls").iter_rows()
        for step in orjson.loads(steps or "[]")
        for call in step
    ]
    return pl.DataFrame(rows, schema={"trajectory_id": pl.Utf8, "name": pl.Utf8})


def trajectory_suite(frame: pl.DataFrame, catalog_names: list[str], bounds: QualityBounds) -> QualityReport:
    """``synthetic_trajectories``: complete rows, offered and target tools exist, duplicates and mix in bounds.

    Called tool names are not checked here: a policy that hallucinates a tool is what the
    gates reject, not bad data; ``verified_suite`` checks them.
    """
    import great_expectations.expectations as gxe

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return QualityReport("synthetic_trajectories", [Expectation("required_columns_present", False, missing)])
    names = sorted(set(catalog_names))
    offered = frame.select(pl.concat_list("tool_names", "target_tools").explode().alias("name")).drop_nulls()
    normalized = frame.select(pl.col("request").str.to_lowercase().str.replace_all(r"[^\w]+", " ").alias("request"))
    shares = frame.group_by("scenario_type").len().with_columns((pl.col("len") / frame.height).alias("share"))
    return _validate(
        "synthetic_trajectories",
        {
            "rows": (
                frame.select(REQUIRED_COLUMNS),
                [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in REQUIRED_COLUMNS]
                + [gxe.ExpectTableRowCountToBeBetween(min_value=1)],
            ),
            "offered_tools": (offered, [gxe.ExpectColumnValuesToBeInSet(column="name", value_set=names)]),
            "requests": (
                normalized,
                [
                    gxe.ExpectColumnProportionOfUniqueValuesToBeBetween(
                        column="request", min_value=1 - bounds.max_duplicate_rate
                    )
                ],
            ),
            "scenario_mix": (
                shares,
                [
                    gxe.ExpectColumnValuesToBeBetween(column="share", max_value=bounds.max_scenario_share),
                    gxe.ExpectTableRowCountToBeBetween(min_value=bounds.min_scenario_types),
                ],
            ),
        },
    )


GATE_COLUMNS = (
    "gate_format",
    "gate_execution",
    "gate_schema",
    "gate_intent",
    "gate_semantic",
    "schema_reason",
    "intent_reason",
    "semantic_reason",
    "rejected_by",
    "reject_reason",
    "verified",
)


def reverify(verified: pl.DataFrame, server) -> pl.DataFrame:
    """(trajectory_id, reverified, reason): each kept row judged again from scratch — the format,
    schema and intent gates by a fresh verifier, and the execution gate by replaying the row's
    calls on a fresh MCP server session (the first verdict read the error count recorded at
    synthesis time). A row that passed once and fails now means a gate or the simulator is broken."""
    from inftool_dagster.mcp_server.simulator import ToolCallError

    from .gates import GateConfig, Verifier

    if verified.is_empty():
        return pl.DataFrame(schema={"trajectory_id": pl.Utf8, "reverified": pl.Boolean, "reason": pl.Utf8})
    run = uuid.uuid4().hex[:8]  # sessions of this re-verification only
    fresh = Verifier(server.tools, GateConfig()).run(verified.drop([c for c in GATE_COLUMNS if c in verified.columns]))
    rows = []
    for row in fresh.select("trajectory_id", "verified", "reject_reason", "predicted_calls").iter_rows(named=True):
        reason = None if row["verified"] else f"gates: {row['reject_reason']}"
        session = f"reverify:{run}:{row['trajectory_id']}"
        for step in orjson.loads(row["predicted_calls"] or "[]"):
            for call in step:
                if reason is None:
                    try:
                        server.call(call["name"], call.get("arguments"), session_key=session)
                    except ToolCallError as exc:
                        reason = f"replay: {exc}"[:200]
        rows.append({"trajectory_id": row["trajectory_id"], "reverified": reason is None, "reason": reason})
    return pl.DataFrame(rows, schema={"trajectory_id": pl.Utf8, "reverified": pl.Boolean, "reason": pl.Utf8})


def verified_suite(
    gated: pl.DataFrame, verified: pl.DataFrame, catalog_names: list[str], bounds: QualityBounds, server=None
) -> QualityReport:
    """``verified_trajectories``: every kept row passes every gate again when judged from scratch
    (``reverify``, with ``server``), called tools exist, no duplicate requests, pass rate in bounds."""
    import great_expectations.expectations as gxe

    names = sorted(set(catalog_names))
    rate = gated.select(pl.col("verified").cast(pl.Float64).alias("verified"))
    frames = {
        "gated": (
            rate,
            [gxe.ExpectColumnMeanToBeBetween(column="verified", min_value=bounds.min_pass_rate)]
            if rate.height
            else [gxe.ExpectTableRowCountToBeBetween(min_value=1)],
        ),
        "verified": (verified.select("trajectory_id", "request"), [gxe.ExpectColumnValuesToBeUnique(column="request")]),
        "called_tools": (_call_frame(verified), [gxe.ExpectColumnValuesToBeInSet(column="name", value_set=names)]),
    }
    if server is not None:
        frames["reverified"] = (
            reverify(verified, server),
            [gxe.ExpectColumnValuesToBeInSet(column="reverified", value_set=[True])],
        )
    return _validate("verified_trajectories", frames)
