"""Dedup and diversity caps, as polars expressions over the whole set.

Exact duplicates share a normalized request (lower-case, punctuation and spacing removed);
near duplicates share the bag of words once numbers and quoted values are masked (same
request, other values or word order). Caps keep any one tool or phrasing template from
dominating. Rows are kept in ``trajectory_id`` order, so the outcome is deterministic.
"""

from __future__ import annotations

import re

import polars as pl
from pydantic import BaseModel, Field


class DedupConfig(BaseModel):
    exact: bool = True
    near: bool = True
    max_per_tool: int | None = Field(None, ge=1, description="Most trajectories whose target set includes a tool.")
    max_per_template: int | None = Field(None, ge=1, description="Most trajectories per request template.")


def normalized_request() -> pl.Expr:
    return pl.col("request").str.to_lowercase().str.replace_all(r"[^\w]+", " ").str.strip_chars()


def near_key() -> pl.Expr:
    masked = (
        pl.col("request")
        .str.to_lowercase()
        .str.replace_all(r"'[^']*'|\"[^\"]*\"", " v ")
        .str.replace_all(r"\d+(\.\d+)?", " n ")
        .str.replace_all(r"[^\w]+", " ")
        .str.strip_chars()
    )
    return masked.str.split(" ").list.unique().list.sort().list.join(" ")


def distinct_ngrams(texts: list[str], n: int) -> float:
    """distinct-n (Li et al., 2016): unique word n-grams over all n-grams, lower-cased ``\\w+`` words."""
    grams = [
        tuple(tokens[i : i + n])
        for text in texts
        for tokens in [re.findall(r"\w+", text.lower())]
        for i in range(len(tokens) - n + 1)
    ]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def dedup(frame: pl.DataFrame, config: DedupConfig) -> tuple[pl.DataFrame, dict]:
    """(kept rows, counts of what each step removed)."""
    frame = frame.sort("trajectory_id")
    removed: dict[str, int] = {}
    if config.exact:
        frame = frame.with_columns(normalized_request().hash().alias("_exact"))
        before = frame.height
        frame = frame.unique("_exact", keep="first", maintain_order=True)
        removed["exact_duplicate"] = before - frame.height
    if config.near:
        frame = frame.with_columns(
            pl.concat_str(near_key(), pl.col("target_tools").list.sort().list.join(",")).hash().alias("_near")
        )
        before = frame.height
        frame = frame.unique("_near", keep="first", maintain_order=True)
        removed["near_duplicate"] = before - frame.height
    if config.max_per_template:
        before = frame.height
        template = pl.col("request_template").fill_null("unknown")
        frame = frame.filter(pl.int_range(pl.len()).over(template) < config.max_per_template)
        removed["template_cap"] = before - frame.height
    if config.max_per_tool:
        # a row is kept while every one of its target tools is under the cap (scan in order)
        counts: dict[str, int] = {}
        keep = []
        for targets in frame["target_tools"].to_list():
            ok = all(counts.get(t, 0) < config.max_per_tool for t in targets or [])
            if ok:
                for t in targets or []:
                    counts[t] = counts.get(t, 0) + 1
            keep.append(ok)
        before = frame.height
        frame = frame.filter(pl.Series(keep))
        removed["tool_cap"] = before - frame.height
    return frame.drop([c for c in ("_exact", "_near") if c in frame.columns]), removed


def diversity(frame: pl.DataFrame) -> dict:
    """Figures a user checks before training: coverage and phrasing variety."""
    if frame.is_empty():
        return {"rows": 0}
    tools = frame.select(pl.col("target_tools").explode()).drop_nulls()
    top_tool = tools.group_by("target_tools").len().sort("len", descending=True)
    templates = frame.group_by(pl.col("request_template").fill_null("unknown")).len()
    return {
        "rows": frame.height,
        "distinct_tools": top_tool.height,
        "top_tool_share": round(top_tool["len"][0] / tools.height, 4) if tools.height else 0.0,
        "distinct_domains": frame["domain"].n_unique(),
        "distinct_templates": templates.height,
        "top_template_share": round(templates["len"].max() / frame.height, 4),
        "distinct_2": distinct_ngrams(frame["request"].to_list(), 2),
        "scenario_types": dict(frame.group_by("scenario_type").len().sort("scenario_type").iter_rows()),
    }
