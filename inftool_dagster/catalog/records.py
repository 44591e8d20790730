"""The catalog's row types: one function per API operation, one rejection per thing not taken."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl


@dataclass
class ToolFunction:
    """One callable tool, with a self-contained JSON Schema for its arguments."""

    name: str
    description: str
    parameters: str  # JSON Schema (Draft 2020-12) as JSON text
    response_schema: str | None  # JSON Schema of the success response, when the spec has one
    spec_id: str
    spec_title: str
    domain: str
    source_format: str  # openapi-3.0 | openapi-3.1 | swagger-2.0 | function-docs | mcp-tools
    method: str | None = None
    path: str | None = None
    operation_id: str | None = None
    param_locations: str = "{}"  # JSON: {argument: {"in": ..., "name": original name}}
    notes: list[str] = field(default_factory=list)
    stable_key: str = ""  # spec_id + method + path (or name); source of the name's hash suffix


@dataclass
class Rejection:
    """A spec or operation that did not become a function, and why."""

    source: str
    spec_id: str
    kind: str  # "spec" | "operation"
    reason_code: str  # malformed | truncated | binary | too_large | unknown_format | no_operations | ...
    reason: str
    operation: str | None = None


CATALOG_SCHEMA = {
    "name": pl.Utf8,
    "description": pl.Utf8,
    "parameters": pl.Utf8,
    "response_schema": pl.Utf8,
    "spec_id": pl.Utf8,
    "spec_title": pl.Utf8,
    "domain": pl.Utf8,
    "source_format": pl.Utf8,
    "method": pl.Utf8,
    "path": pl.Utf8,
    "operation_id": pl.Utf8,
    "param_locations": pl.Utf8,
    "notes": pl.List(pl.Utf8),
    "stable_key": pl.Utf8,
}
REJECTION_SCHEMA = {
    "source": pl.Utf8,
    "spec_id": pl.Utf8,
    "kind": pl.Utf8,
    "reason_code": pl.Utf8,
    "reason": pl.Utf8,
    "operation": pl.Utf8,
}


def functions_frame(functions: list[ToolFunction]) -> pl.DataFrame:
    return pl.DataFrame([asdict(f) for f in functions], schema=CATALOG_SCHEMA)


def rejections_frame(rejections: list[Rejection]) -> pl.DataFrame:
    return pl.DataFrame([asdict(r) for r in rejections], schema=REJECTION_SCHEMA)
