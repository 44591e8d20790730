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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .state import SessionState

MAX_ARGUMENT_BYTES = 256 * 1024
_CREATE = re.compile(r"^(create|add|new|post|insert|register|subscribe|place|book|upload|make)", re.I)
_READ = re.compile(r"^(get|read|fetch|retrieve|show|describe|find_by_id|lookup)", re.I)
_DELETE = re.compile(r"^(delete|remove|cancel|destroy|unsubscribe|drop)", re.I)
_ID_NAME = re.compile(r"(^id$|_id$|Id$|ID$|^uuid$|_key$)")
_ID_SUFFIX = re.compile(
    r"(?:[_-]id|Id|ID)$|^id$"
)  # the suffix itself (rstrip would strip characters: "fieldId" -> "fiel")
BASE_DATE = date(2026, 1, 15)


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
    _validator: Draft202012Validator | None = field(default=None, repr=False)
    _response_validator: Draft202012Validator | None = field(default=None, repr=False)

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
        )

    @property
    def validator(self) -> Draft202012Validator:  # compiled once per tool
        if self._validator is None:
            self._validator = Draft202012Validator(self.parameters, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._validator

    @property
    def response_validator(self) -> Draft202012Validator | None:
        if self._response_validator is None and self.response_schema is not None:
            self._response_validator = Draft202012Validator(self.response_schema)
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
    except re.error as exc:  # e.g. an ECMA-only `\p{L}` pattern in a real spec
        raise ToolCallError(
            f"the schema of {tool.name} has a pattern Python cannot evaluate ({exc}); the call cannot be validated"
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

    # -- value generation ----------------------------------------------------------
    def generate(self, schema: Any, rng: random.Random, hint: str = "", depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > 8:
            return None if schema is False else _by_name(hint, rng)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return rng.choice(schema["enum"])
        if schema.get("examples"):
            return rng.choice(schema["examples"])
        if "default" in schema and rng.random() < 0.5:
            return schema["default"]
        if schema.get("allOf"):
            merged: dict[str, Any] = {}
            for branch in schema["allOf"]:
                value = self.generate(branch, rng, hint, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
            own = {k: v for k, v in schema.items() if k != "allOf"}
            if own.get("properties"):
                merged.update(self.generate(own, rng, hint, depth + 1) or {})
            return merged
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                branches = [b for b in schema[key] if not (isinstance(b, dict) and b.get("type") == "null")]
                return self.generate((branches or schema[key])[0], rng, hint, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else None
        if kind == "object":
            out = {}
            props = schema.get("properties", {})
            required = set(schema.get("required", []))
            for name, sub in props.items():
                if name in required or depth < 3:
                    out[name] = self.generate(sub, rng, name, depth + 1)
            extra = schema.get("additionalProperties")
            if not props and isinstance(extra, dict):
                for i in range(rng.randint(1, 3)):
                    out[f"{hint or 'key'}_{i + 1}"] = self.generate(extra, rng, hint, depth + 1)
            return out
        if kind == "array":
            low = schema.get("minItems", 1 if depth < 3 else 0)
            high = max(low, min(schema.get("maxItems", 3), 3))
            singular = hint[:-1] if hint.endswith("s") else hint
            return [
                self.generate(schema.get("items", {}), rng, singular, depth + 1) for _ in range(rng.randint(low, high))
            ]
        if kind in ("integer", "number"):
            return _number(schema, kind, hint, rng)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        if kind == "string" or kind is None:
            return _string(schema, hint, rng)
        return None


def _id_argument(tool: CatalogTool, arguments: dict) -> str | None:
    for name in tool.path_ids() or sorted(arguments):
        if name in arguments and (_ID_NAME.search(name) or name in tool.path_ids()):
            return str(arguments[name])
    return None


def _id_field(result: dict) -> str | None:
    if "id" in result:
        return "id"
    for key in result:
        if _ID_NAME.search(key) and isinstance(result[key], (str, int)):
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
        if key in result and not _ID_NAME.search(key):
            result[key] = value
    return result


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


FIRST = ["Ada", "Grace", "Alan", "Linus", "Maya", "Noah", "Lena", "Omar", "Sofia", "Kenji"]
LAST = ["Lovelace", "Hopper", "Turing", "Garcia", "Okafor", "Nakamura", "Schmidt", "Rossi"]
CITIES = ["Berlin", "Lisbon", "Tokyo", "Nairobi", "Toronto", "Austin", "Madrid", "Seoul"]
COUNTRIES = ["DE", "PT", "JP", "KE", "CA", "US", "ES", "KR"]
WORDS = ["alpha", "beacon", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "indigo", "juniper"]


def _by_name(name: str, rng: random.Random) -> str:
    lower = name.lower()
    if "email" in lower:
        return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}@example.com"
    if lower.endswith("name") and ("first" in lower or "user" in lower or lower == "name"):
        return rng.choice(FIRST) if "first" in lower else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if "city" in lower:
        return rng.choice(CITIES)
    if "country" in lower:
        return rng.choice(COUNTRIES)
    if "phone" in lower:
        return f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
    if "url" in lower or "link" in lower or "href" in lower:
        return f"https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 999)}"
    if _ID_NAME.search(name):
        return f"{(_ID_SUFFIX.sub('', name) or 'id')[:6]}_{rng.randint(10000, 99999)}"
    if "title" in lower or "summary" in lower:
        return f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} update"
    if "description" in lower or "body" in lower or "text" in lower or "message" in lower:
        return f"Notes about the {rng.choice(WORDS)} {rng.choice(WORDS)} project."
    if "status" in lower or "state" in lower:
        return rng.choice(["active", "pending", "completed"])
    if "currency" in lower:
        return rng.choice(["USD", "EUR", "JPY", "GBP"])
    return f"{rng.choice(WORDS)}-{rng.randint(1, 99)}"


def _string(schema: dict, hint: str, rng: random.Random) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        moment = datetime(2026, 1, 15, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 90))
        return moment.isoformat().replace("+00:00", "Z")
    if fmt == "date":
        return (BASE_DATE + timedelta(days=rng.randint(0, 180))).isoformat()
    if fmt == "time":
        return f"{rng.randint(0, 23):02d}:{rng.choice([0, 15, 30, 45]):02d}:00"
    if fmt == "email":
        return _by_name("email", rng)
    if fmt == "uuid":
        return _uuid(rng)
    if fmt in ("uri", "url", "uri-reference"):
        return _by_name("url", rng)
    if fmt == "ipv4":
        return f"192.0.2.{rng.randint(1, 254)}"
    if fmt in ("binary", "byte"):
        return "aGVsbG8gd29ybGQ="
    value = _by_name(hint, rng)
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if high is not None and len(value) > high:
        value = value[:high]
    if len(value) < low:
        value = value + "x" * (low - len(value))
    return value


def _number(schema: dict, kind: str, hint: str, rng: random.Random) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    high = schema.get(
        "maximum", schema.get("exclusiveMaximum", low + (1000 if "price" in hint or "amount" in hint else 100))
    )
    if high < low:
        high = low
    if kind == "integer":
        lo, hi = int(-(-low // 1)), int(high // 1)
        if "exclusiveMinimum" in schema and lo <= schema["exclusiveMinimum"]:
            lo += 1
        if "exclusiveMaximum" in schema and hi >= schema["exclusiveMaximum"]:
            hi -= 1
        value: int | float = rng.randint(lo, max(lo, hi))
    else:
        value = round(rng.uniform(low, high), 2)
        if value == schema.get("exclusiveMinimum") or value == schema.get("exclusiveMaximum"):
            value = round((low + high) / 2, 2) if high != low else value
    multiple = schema.get("multipleOf")
    if multiple:
        value = type(value)(round(value / multiple) * multiple)
    return value
