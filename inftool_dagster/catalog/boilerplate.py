"""Boilerplate parameters: the optional ones an API takes on (nearly) every operation alike.

Generated specs repeat their transport and tracing switches on every operation: each Google
Discovery API takes ``$.xgafv``, ``access_token``, ``alt``, ``callback``, ``fields``, ``key``,
``oauth_token``, ``prettyPrint``, ``quotaUser``, ``upload_protocol`` and ``uploadType``; AWS takes
its ``X-Amz-*`` signature fields. A person asks for what they want done, not for these, and a
request that names them teaches a model to fill them in (a BFCL-style checker counts a value it
was not asked for as wrong). They are found by shape, not by a list: optional, with the same
schema, on at least ``share`` of the operations of a spec that has at least ``min_operations``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Protocol


class _Tool(Protocol):
    name: str
    spec_id: str
    parameters: dict


def boilerplate_parameters(
    tools: Iterable[_Tool], share: float = 0.8, min_operations: int = 4
) -> dict[str, frozenset[str]]:
    """Tool name → its boilerplate parameters (tools without any are left out)."""
    by_spec: dict[str, list[_Tool]] = defaultdict(list)
    for tool in tools:
        if tool.spec_id:
            by_spec[tool.spec_id].append(tool)
    out: dict[str, frozenset[str]] = {}
    for members in by_spec.values():
        if len(members) < min_operations:
            continue
        shapes = [_optional_shapes(t.parameters) for t in members]
        counts = Counter(shape for tool_shapes in shapes for shape in tool_shapes)
        common = {shape for shape, n in counts.items() if n >= share * len(members)}
        for tool, tool_shapes in zip(members, shapes):
            names = frozenset(name for name, schema in tool_shapes if (name, schema) in common)
            if names:
                out[tool.name] = names
    return out


def _optional_shapes(parameters: dict) -> set[tuple[str, str]]:
    required = set(parameters.get("required", []))
    return {
        (name, json.dumps(schema, sort_keys=True))
        for name, schema in (parameters.get("properties") or {}).items()
        if name not in required
    }
