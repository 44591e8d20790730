"""Catalog quality measures shared by the CLI, the benchmark and the Dagster asset checks."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import orjson
import polars as pl
from jsonschema import Draft202012Validator

_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


@dataclass
class SchemaValidity:
    checked: int
    invalid: int
    examples: list[dict] = field(default_factory=list)  # first failures: name, message, where


def invalid_schema_reason(schema_text: str) -> str | None:
    """None when ``schema_text`` is an object schema valid under the Draft 2020-12 meta-schema."""
    try:
        schema = orjson.loads(schema_text)
    except orjson.JSONDecodeError as exc:
        return f"not JSON: {exc}"
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "parameters must be an object schema"
    if _META.is_valid(schema):
        return None
    error = next(iter(_META.iter_errors(schema)))
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"{error.message[:200]} at {where}"


def check_schemas(functions: pl.DataFrame, *, limit: int | None = None, seed: int = 0) -> SchemaValidity:
    """Meta-validate ``parameters`` of every function (or a seeded sample of ``limit``)."""
    rows = list(zip(functions["name"].to_list(), functions["parameters"].to_list()))
    if limit is not None and len(rows) > limit:
        rows = random.Random(seed).sample(rows, limit)
    result = SchemaValidity(checked=len(rows), invalid=0)
    for name, text in rows:
        reason = invalid_schema_reason(text)
        if reason is not None:
            result.invalid += 1
            if len(result.examples) < 10:
                result.examples.append({"name": name, "reason": reason})
    return result


def duplicate_names(functions: pl.DataFrame) -> list[str]:
    counts = functions.group_by("name").len().filter(pl.col("len") > 1)
    return sorted(counts["name"].to_list())


def description_rate(functions: pl.DataFrame) -> float:
    """Share of functions whose description says more than the bare ``METHOD /path``."""
    if functions.height == 0:
        return 0.0
    bare = pl.col("method").is_not_null() & (
        pl.col("description") == pl.concat_str([pl.col("method"), pl.lit(" "), pl.col("path")])
    )
    has_text = (pl.col("description").str.len_chars() > 0) & ~bare.fill_null(False)
    return float(functions.select(has_text.mean()).item())
