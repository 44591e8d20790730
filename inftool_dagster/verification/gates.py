"""The verification gates, in order: format → schema → execution → intent → (semantic).

Each gate records pass/fail and a reason per trajectory; a trajectory is *verified* only when
every enabled gate passes, and ``rejected_by`` names the first gate that failed. Format and
execution are column expressions (polars); schema validation uses the tool's validator,
compiled once per tool, and validates each distinct (tool, arguments) pair once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
from pydantic import BaseModel

from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.mcp_server.simulator import CatalogTool, ToolCallError, validate_arguments

from .matching import calls_mismatch, resolve_placeholders

GATES = ("format", "schema", "execution", "intent", "semantic")
NO_CALL_SCENARIOS = ("irrelevance",)


class GateConfig(BaseModel):
    """Which gates run. The semantic judge needs a capable model: off by default on CPU."""

    format: bool = True
    schema_: bool = True
    execution: bool = True
    intent: bool = True
    semantic: bool = False

    def enabled(self) -> list[str]:
        return [g for g in GATES if getattr(self, "schema_" if g == "schema" else g)]


@dataclass
class Verifier:
    tools: dict[str, CatalogTool]
    config: GateConfig = field(default_factory=GateConfig)
    judge: LLMBackend | None = None
    _verdicts: dict[bytes, str | None] = field(default_factory=dict, repr=False)

    # -- schema ---------------------------------------------------------------------------
    def call_error(self, call: dict, offered: set[str]) -> str | None:
        name = call.get("name")
        if name not in offered:
            return f"hallucinated_tool: {name}" if name not in self.tools else f"tool_not_offered: {name}"
        key = orjson.dumps([name, call.get("arguments")], option=orjson.OPT_SORT_KEYS)
        if key not in self._verdicts:  # each distinct call is validated once
            try:
                validate_arguments(self.tools[name], call.get("arguments"))
                self._verdicts[key] = None
            except ToolCallError as exc:
                text = str(exc)
                kind = "hallucinated_parameter" if "unknown parameter" in text else "invalid_arguments"
                self._verdicts[key] = f"{kind}: {text}"
        return self._verdicts[key]

    def schema_reason(self, steps: list[list[dict]], offered: list[str]) -> str | None:
        offered_set = set(offered)
        for step in steps:
            for call in step:
                reason = self.call_error(call, offered_set)
                if reason:
                    return reason
        return None

    # -- intent -----------------------------------------------------------------------------
    @staticmethod
    def intent_reason(row: dict, steps: list[list[dict]]) -> str | None:
        kind = row["scenario_type"]
        gold = orjson.loads(row["gold_calls"])
        flat = [c for step in steps for c in step]
        if kind in NO_CALL_SCENARIOS:
            return f"false_call_on_irrelevance: {flat[0]['name']}" if flat else None
        if not flat:
            return "no_call"
        if kind == "missing_parameter":
            messages = orjson.loads(row["messages"])
            first = next((m for m in messages if m["role"] == "assistant"), None)
            if first is not None and first.get("tool_calls"):
                return "called_without_asking: the request withheld a required value"
            return calls_mismatch(flat, gold)
        if kind == "multi_step":
            messages = orjson.loads(row["messages"])
            results = [_loads(m["content"]) for m in messages if m["role"] == "tool"]
            gold = [gold[0]] + [resolve_placeholders(c, results) for c in gold[1:]]
            return calls_mismatch(flat, gold, ordered=True)
        if kind == "multi_turn":
            return calls_mismatch(flat, gold, ordered=True)
        return calls_mismatch(flat, gold)

    # -- semantic (optional LLM judge) ---------------------------------------------------------
    def semantic_reasons(self, rows: list[dict]) -> list[str | None]:
        if self.judge is None:
            raise ValueError("the semantic gate is enabled but no judge model is configured")
        prompts = [
            [
                {
                    "role": "user",
                    "content": (
                        "Does the assistant's work answer the user's request correctly? The calls made and the final "
                        "answer must agree with the request. Reply with exactly 'yes' or 'no'.\n\n"
                        f"Request: {r['request']}\nCalls: {r['predicted_calls']}\nAnswer: {r['final_answer'] or ''}"
                    ),
                }
            ]
            for r in rows
        ]
        out = self.judge.generate(prompts, SamplingParams(max_new_tokens=4))
        return [
            None
            if g[0].ok and g[0].text.strip().lower().startswith("yes")
            else f"judge_said: {(g[0].text if g[0].ok else g[0].error or '').strip()[:80]}"
            for g in out
        ]

    # -- all gates ---------------------------------------------------------------------------
    def run(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The trajectories plus ``gate_<name>`` booleans, ``rejected_by``, ``reject_reason``, ``verified``."""
        enabled = self.config.enabled()
        frame = frame.with_columns(
            (pl.col("parse_failures").list.len() == 0).alias("gate_format"),
            (pl.col("tool_errors") == 0).alias("gate_execution"),
        )
        schema_reasons, intent_reasons = [], []
        for row in frame.select("scenario_type", "gold_calls", "messages", "predicted_calls", "tool_names").iter_rows(
            named=True
        ):
            steps = orjson.loads(row["predicted_calls"])
            schema_reasons.append(self.schema_reason(steps, row["tool_names"]) if "schema" in enabled else None)
            intent_reasons.append(self.intent_reason(row, steps) if "intent" in enabled else None)
        frame = frame.with_columns(
            pl.Series("schema_reason", schema_reasons, dtype=pl.Utf8),
            pl.Series("intent_reason", intent_reasons, dtype=pl.Utf8),
        ).with_columns(
            pl.col("schema_reason").is_null().alias("gate_schema"),
            pl.col("intent_reason").is_null().alias("gate_intent"),
        )
        if "semantic" in enabled:
            reasons = self.semantic_reasons(frame.select("request", "predicted_calls", "final_answer").to_dicts())
            frame = frame.with_columns(pl.Series("semantic_reason", reasons, dtype=pl.Utf8))
        else:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias("semantic_reason"))
        frame = frame.with_columns(pl.col("semantic_reason").is_null().alias("gate_semantic"))
        first_failure = pl.lit(None, dtype=pl.Utf8)
        reason = pl.lit(None, dtype=pl.Utf8)
        messages = {
            "format": pl.col("parse_failures").list.first(),
            "schema": pl.col("schema_reason"),
            "execution": pl.format("tool_error: {} call(s) rejected by the MCP server", pl.col("tool_errors")),
            "intent": pl.col("intent_reason"),
            "semantic": pl.col("semantic_reason"),
        }
        for gate in reversed(enabled):  # the first failing gate wins
            failed = ~pl.col(f"gate_{gate}")
            first_failure = pl.when(failed).then(pl.lit(gate)).otherwise(first_failure)
            reason = pl.when(failed).then(messages[gate]).otherwise(reason)
        return frame.with_columns(
            first_failure.alias("rejected_by"),
            reason.alias("reject_reason"),
        ).with_columns(pl.col("rejected_by").is_null().alias("verified"))


def _loads(text: Any) -> Any:
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return None
