"""Trajectory records: OpenAI chat format plus tools, blueprint, gold calls, provenance, timings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
import polars as pl

TRAJECTORY_SCHEMA = {
    "trajectory_id": pl.Utf8,
    "round": pl.Utf8,
    "scenario_type": pl.Utf8,
    "domain": pl.Utf8,
    "tool_names": pl.List(pl.Utf8),
    "target_tools": pl.List(pl.Utf8),
    "tools": pl.Utf8,  # JSON: OpenAI tool list offered to the assistant
    "messages": pl.Utf8,  # JSON: the OpenAI chat transcript
    "request": pl.Utf8,
    "request_source": pl.Utf8,  # "llm" | "template"
    "request_template": pl.Utf8,  # which phrasing produced the request ("llm" for paraphrases)
    "gold_calls": pl.Utf8,
    "predicted_calls": pl.Utf8,
    "blueprint": pl.Utf8,
    "final_answer": pl.Utf8,
    "missing_parameter": pl.Utf8,
    "n_assistant_steps": pl.Int64,
    "n_tool_calls": pl.Int64,
    "tool_errors": pl.Int64,
    "parse_failures": pl.List(pl.Utf8),
    "policy_model": pl.Utf8,
    "simulator_model": pl.Utf8,
    "seed": pl.Int64,
    "shard_model_seconds": pl.Float64,
    "shard_seconds": pl.Float64,
}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def trajectory_rows(conversations, config, timings) -> list[dict]:
    rows = []
    for conv in conversations:
        b = conv.blueprint
        rows.append(
            {
                "trajectory_id": b.blueprint_id,
                "round": config.round_key,
                "scenario_type": b.scenario_type,
                "domain": b.domain,
                "tool_names": b.tools,
                "target_tools": b.targets,
                "tools": _json(conv.tools),
                "messages": _json(conv.messages),
                "request": conv.messages[0]["content"],
                "request_source": conv.request_source,
                "request_template": conv.request_template,
                "gold_calls": _json([asdict(c) for c in b.gold_calls]),
                "predicted_calls": _json(conv.predicted_calls),
                "blueprint": _json(b.to_row()),
                "final_answer": conv.final_answer,
                "missing_parameter": b.missing_parameter,
                "n_assistant_steps": conv.steps,
                "n_tool_calls": sum(len(s) for s in conv.predicted_calls),
                "tool_errors": conv.tool_errors,
                "parse_failures": conv.parse_failures,
                "policy_model": config.policy_model,
                "simulator_model": config.simulator_model or "template",
                "seed": config.seed,
                "shard_model_seconds": timings.model_s,
                "shard_seconds": timings.total_s,
            }
        )
    return rows
