"""Simulated execution of catalog tools: validated arguments in, plausible results out.

Results are deterministic for (seed, tool, arguments), conform to the operation's response
schema when it has one, draw values from enums, formats, examples and property names, and
are consistent within a session: an id created by one call reads back later, and a deleted
resource is gone.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from .ecma import PATTERN_ERRORS, schema_validator
from .plausible import ID_NAME
from .state import SessionState
from .values import _uuid
from .values import generate as generate_value

MAX_ARGUMENT_BYTES = 256 * 1024
_CREATE = re.compile(r"^(create|add|new|post|insert|register|subscribe|place|book|upload|make)", re.I)
_READ = re.compile(r"^(get|read|fetch|retrieve|show|describe|find_by_id|lookup)", re.I)
_DELETE = re.compile(r"^(delete|remove|cancel|destroy|unsubscribe|drop)", re.I)


class ToolCallError(Exception):
    """A call the server refuses: returned to the client as an MCP tool error (isError)."""


@dataclass
class CatalogTool:
    name: str
    description: str
    parameters: dict
    response_schema: dict | None
    method: str | None = None
    path: str | None = None
    domain: str = ""
    locations: dict[str, str] = field(default_factory=dict)  # argument → where the API takes it (query, header…)
    spec_id: str = ""  # the API it comes from (the catalog's spec_id)
    _validator: Validator | None = field(default=None, repr=False)
    _response_validator: Validator | None = field(default=None, repr=False)

    @classmethod
    def from_row(cls, row: dict) -> CatalogTool:
        response = row.get("response_schema")
        return cls(
            name=row["name"],
            description=row.get("description") or "",
            parameters=orjson.loads(row["parameters"]),
            response_schema=orjson.loads(response) if response else None,
            method=row.get("method"),
            path=row.get("path"),
            domain=row.get("domain") or "",
            locations={k: v.get("in", "") for k, v in orjson.loads(row.get("param_locations") or "{}").items()},
            spec_id=row.get("spec_id") or "",
        )

    @property
    def validator(self) -> Validator:
        """Compiled once per tool; ECMA-262 patterns and formats asserted (see ``ecma``)."""
        if self._validator is None:
            self._validator = schema_validator(self.parameters)
        return self._validator

    @property
    def response_validator(self) -> Validator | None:
        if self._response_validator is None and self.response_schema is not None:
            self._response_validator = schema_validator(self.response_schema)
        return self._response_validator

    @property
    def action(self) -> str:
        """create | read | delete | other — from the HTTP method, else from the name's verb."""
        local = self.name.split("_", 1)[-1] if self.method else self.name
        if self.method == "DELETE" or _DELETE.match(local):
            return "delete"
        if self.method == "POST" and not self.path_ids() or (not self.method and _CREATE.match(local)):
            return "create"
        if self.method == "GET" and self.path_ids() or (not self.method and _READ.match(local)):
            return "read"
        return "other"

    def path_ids(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.path or "")

    @property
    def resource(self) -> str:
        """The collection a call acts on: ``/pets/{petId}`` → ``pets``; ``create_note`` → ``note``."""
        if self.path:
            parts = [p for p in self.path.strip("/").split("/") if p and not p.startswith("{")]
            return parts[-1] if parts else "root"
        words = self.name.split("_")
        return "_".join(words[1:]) if len(words) > 1 else self.name


def load_tools(catalog_dir: str | Path) -> list[CatalogTool]:
    """Every function of a built catalog, as simulator tools."""
    from inftool_dagster.catalog import load_catalog

    return [CatalogTool.from_row(row) for row in load_catalog(catalog_dir).iter_rows(named=True)]


def validate_arguments(tool: CatalogTool, arguments: Any) -> None:
    """Raise ToolCallError naming the offending parameter and the rule it breaks."""
    if not isinstance(arguments, dict):
        raise ToolCallError(f"arguments for {tool.name} must be a JSON object, got {type(arguments).__name__}")
    size = len(orjson.dumps(arguments))
    if size > MAX_ARGUMENT_BYTES:
        raise ToolCallError(f"arguments for {tool.name} are {size} bytes, over the {MAX_ARGUMENT_BYTES}-byte limit")
    known = tool.parameters.get("properties", {})
    extra = sorted(set(arguments) - set(known))
    if extra:
        raise ToolCallError(
            f"invalid arguments for {tool.name}: unknown parameter '{extra[0]}' (rule: additionalProperties; "
            f"allowed: {', '.join(sorted(known)) or 'none'})"
        )
    try:
        error = best_match(tool.validator.iter_errors(arguments))
    except PATTERN_ERRORS as exc:  # a pattern that does not compile, or backtracks without end
        raise ToolCallError(
            f"the schema of {tool.name} has a pattern that cannot be evaluated ({exc}); the call cannot be validated"
        ) from None
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and not where:
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            where = missing[0] if missing else "(root)"
        raise ToolCallError(
            f"invalid arguments for {tool.name}: parameter '{where}': {error.message[:300]} (rule: {error.validator})"
        )


class Simulator:
    """Deterministic, schema-conformant, session-consistent fake execution."""

    def __init__(self, seed: int = 0, writer: Any = None) -> None:
        self.seed = seed
        self.writer = writer  # optional LLMResultWriter: a model writes results, schema-checked

    def rng(self, tool: CatalogTool, arguments: dict) -> random.Random:
        key = orjson.dumps([self.seed, tool.name, arguments], option=orjson.OPT_SORT_KEYS)
        return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))

    def execute(self, tool: CatalogTool, arguments: dict, state: SessionState) -> Any:
        rng = self.rng(tool, arguments)
        action = tool.action
        ident = _id_argument(tool, arguments)
        if action == "delete" and ident is not None:
            if not state.delete(tool.resource, ident):
                raise ToolCallError(f"{tool.resource} '{ident}' not found (already deleted or never existed)")
            return self._conform(tool, {"deleted": True, "id": ident}, rng)
        if action == "read" and ident is not None:
            if state.was_deleted(tool.resource, ident):
                raise ToolCallError(f"{tool.resource} '{ident}' not found: it was deleted")
            stored = state.get(tool.resource, ident)
            if stored is not None:
                return self._conform(tool, stored, rng)
        written = self.writer.write(tool, arguments) if self.writer is not None else None
        if written is not None:
            result = written
        else:
            result = (
                self.generate(tool.response_schema, rng, hint="result")
                if tool.response_schema
                else self._default_result(tool, arguments, rng)
            )
            result = _echo(result, arguments)
        if action == "create" and isinstance(result, dict):
            id_field = _id_field(result)
            if id_field is not None:
                ident = str(result[id_field])
                state.put(tool.resource, ident, result)
        elif action == "read" and ident is not None and isinstance(result, dict):
            id_field = _id_field(result)
            if id_field is not None:
                result[id_field] = _coerce_like(result[id_field], ident)
            state.put(tool.resource, ident, result)
        return self._conform(tool, result, rng)

    def _conform(self, tool: CatalogTool, result: Any, rng: random.Random) -> Any:
        validator = tool.response_validator
        if validator is None or validator.is_valid(result):
            return result
        return self.generate(tool.response_schema, rng, hint="result")  # regenerate without echoes

    def _default_result(self, tool: CatalogTool, arguments: dict, rng: random.Random) -> dict:
        result: dict[str, Any] = {"status": "ok"}
        if tool.action == "create":
            result["id"] = _uuid(rng)
        result.update({k: v for k, v in arguments.items() if not isinstance(v, (dict, list))})
        return result

    def generate(self, schema: Any, rng: random.Random, hint: str = "", depth: int = 0) -> Any:
        """A plausible value satisfying ``schema`` (see ``values``): arguments for planned calls, results."""
        return generate_value(schema, rng, hint, depth)


def _id_argument(tool: CatalogTool, arguments: dict) -> str | None:
    for name in tool.path_ids() or sorted(arguments):
        if name in arguments and (ID_NAME.search(name) or name in tool.path_ids()):
            return str(arguments[name])
    return None


def _id_field(result: dict) -> str | None:
    if "id" in result:
        return "id"
    for key in result:
        if ID_NAME.search(key) and isinstance(result[key], (str, int)):
            return key
    return None


def _coerce_like(current: Any, ident: str) -> Any:
    if isinstance(current, int) and ident.lstrip("-").isdigit():
        return int(ident)
    return ident if isinstance(current, str) else current


def _echo(result: Any, arguments: dict) -> Any:
    """Copy argument values into same-named result fields: a created pet keeps its name."""
    if not isinstance(result, dict):
        return result
    for key, value in arguments.items():
        if key in result and not ID_NAME.search(key):
            result[key] = value
    return result
