"""Turn an API spec's schema fragment into a self-contained JSON Schema (Draft 2020-12).

Specs in the wild mix OpenAPI 3.0 dialect (``nullable``, boolean ``exclusiveMinimum``,
``example``), Swagger 2.0 quirks (``type: file``, ``required: true`` on a property) and
plain mistakes. Tool calling needs one clean, self-contained schema per function, so
``$ref``s are inlined (cycles and deep chains are cut with a note) and every keyword is
rebuilt from a whitelist into a form the 2020-12 meta-schema accepts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

SIMPLE_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
# BFCL / OpenAI / Java / JavaScript spellings seen in function documents.
TYPE_ALIASES = {
    "dict": "object",
    "map": "object",
    "hashmap": "object",
    "object": "object",
    "float": "number",
    "double": "number",
    "long": "integer",
    "int": "integer",
    "short": "integer",
    "byte": "integer",
    "bigint": "integer",
    "tuple": "array",
    "list": "array",
    "arraylist": "array",
    "array": "array",
    "set": "array",
    "str": "string",
    "char": "string",
    "character": "string",
    "string": "string",
    "bool": "boolean",
    "boolean": "boolean",
    "integer": "integer",
    "number": "number",
    "null": "null",
    "file": "string",
}
# Tuples, not sets: output key order must not depend on hash randomization (stable JSON text).
STRING_KEYS = ("title", "description", "format", "pattern", "$comment", "contentMediaType", "contentEncoding")
NUMBER_KEYS = ("minimum", "maximum")
EXCLUSIVE_KEYS = frozenset({"exclusiveMinimum", "exclusiveMaximum"})
COUNT_KEYS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
BOOL_KEYS = ("uniqueItems", "readOnly", "writeOnly", "deprecated")
SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf")
OBJECT_KEYS = frozenset({"properties", "patternProperties", "additionalProperties", "required"})
ARRAY_KEYS = frozenset({"items", "prefixItems"})
MAX_DESCRIPTION = 1024


class SchemaConverter:
    """Converts schema fragments of one spec document; ``notes`` collects what was cut."""

    def __init__(
        self,
        document: Any,
        *,
        openapi30: bool = False,
        max_ref_depth: int = 6,
        max_nodes: int = 2000,
    ) -> None:
        self.document = document
        self.openapi30 = openapi30
        self.max_ref_depth = max_ref_depth
        self.max_nodes = max_nodes
        self.notes: list[str] = []
        self._nodes = 0
        self._truncated = False
        self._cuts = 0  # cycle/depth/budget cuts so far: a subtree without cuts can be cached
        # (ref, depth) -> (converted, node count): shared specs reuse components heavily.
        self._cache: dict[tuple[str, int, int], tuple[Any, int]] = {}

    # -- references -------------------------------------------------------------
    def resolve(self, ref: str) -> Any:
        """Resolve a local JSON pointer (``#/a/b``); None when it points nowhere."""
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None
        node = self.document
        pointer = ref[1:]
        if not pointer:
            return node
        for raw in pointer.lstrip("/").split("/"):
            part = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def deref(self, node: Any, limit: int = 16) -> Any:
        """Follow a chain of ``$ref`` objects (parameters, request bodies) to the target."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < limit:
            target = self.resolve(node["$ref"])
            if target is None:
                return None
            node, seen = target, seen + 1
        return node

    # -- conversion -------------------------------------------------------------
    def convert(self, schema: Any) -> Any:
        """Convert one fragment with a fresh node budget.

        The result may share sub-objects with earlier results (cached components): copy
        before mutating.
        """
        self._nodes = 0
        self._truncated = False
        return self._convert(schema, ())

    def _note(self, text: str) -> None:
        self._cuts += 1
        if text not in self.notes and len(self.notes) < 50:
            self.notes.append(text)

    def _convert(self, node: Any, stack: tuple[str, ...]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            return {}
        self._nodes += 1
        if self._nodes > self.max_nodes:
            self._cuts += 1
            if not self._truncated:
                self._truncated = True
                self._note(f"schema truncated at {self.max_nodes} nodes")
            return {"description": "(truncated: schema too large)"}
        if "$ref" in node:
            return self._convert_ref(node, stack)
        return self._convert_object(node, stack)

    def _cut(self, ref: str, description: str) -> dict:
        """Where a reference is not followed: keep the target's own type (an ``Arn`` cut at the
        depth limit is still a string), else an open schema; never a type the target contradicts."""
        target = self.resolve(ref)
        kind = target.get("type") if isinstance(target, dict) else None
        if isinstance(kind, str) and kind in ("string", "integer", "number", "boolean", "array", "object"):
            return {"type": kind, "description": description}
        return {"description": description}

    def _convert_ref(self, node: dict, stack: tuple[str, ...]) -> Any:
        ref = node["$ref"]
        name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else "?"
        if not isinstance(ref, str):
            self._note("non-string $ref dropped")
            return {}
        if ref in stack:
            self._note(f"circular reference to {name} cut at depth {len(stack)}")
            return self._cut(ref, f"(circular reference to {name} cut)")
        if len(stack) >= self.max_ref_depth:
            self._note(f"reference chain cut at depth {self.max_ref_depth} ({name})")
            return self._cut(ref, f"({name}: nesting depth limit)")
        cached = self._cache.get((ref, len(stack), self.max_ref_depth))
        if cached is not None and self._nodes + cached[1] <= self.max_nodes:
            self._nodes += cached[1]
            out = cached[0]
        else:
            target = self.resolve(ref)
            if target is None:
                self._note(f"unresolvable reference {ref[:120]} replaced by an open schema")
                return {"description": f"(unresolved reference {name})"}
            cuts, nodes = self._cuts, self._nodes
            out = self._convert(target, stack + (ref,))
            if self._cuts == cuts:  # pure: identical wherever this ref appears at this depth
                self._cache[(ref, len(stack), self.max_ref_depth)] = (out, self._nodes - nodes)
        # OpenAPI 3.1 allows siblings next to $ref; keep the local description.
        if isinstance(out, dict) and isinstance(node.get("description"), str):
            out = {**out, "description": node["description"][:MAX_DESCRIPTION]}
        return out

    def _convert_object(self, node: dict, stack: tuple[str, ...]) -> dict:
        out: dict[str, Any] = {}
        types = self._types(node, out)
        if types is not None:
            out["type"] = types[0] if len(types) == 1 else types
        present = node.keys()  # check only keywords the node has: this loop runs ~1M times on big specs
        for key in STRING_KEYS:
            if key not in node:
                continue
            value = node[key]
            if isinstance(value, str):
                out[key] = value[:MAX_DESCRIPTION] if key == "description" else value
        for key in NUMBER_KEYS:
            if key not in node:
                continue
            value = _number(node[key])
            if value is not None:
                out[key] = value
        if EXCLUSIVE_KEYS & present:
            self._exclusive_bounds(node, out)
        if "multipleOf" in node:
            multiple = _number(node["multipleOf"])
            if multiple is not None and multiple > 0:
                out["multipleOf"] = multiple
        for key in COUNT_KEYS:
            if key not in node:
                continue
            value = _count(node[key])
            if value is not None:
                out[key] = value
        for key in BOOL_KEYS:
            if key not in node:
                continue
            if isinstance(node[key], bool):
                out[key] = node[key]
        if "enum" in node:
            enum = node["enum"]
            out["enum"] = list(enum) if isinstance(enum, list) else [enum]
            if not out["enum"]:
                del out["enum"]
        if "const" in node:
            out["const"] = node["const"]
        if "default" in node:
            out["default"] = node["default"]
        examples = node.get("examples")
        if isinstance(examples, list) and examples:
            out["examples"] = examples[:5]
        elif "example" in node:
            out["examples"] = [node["example"]]
        if OBJECT_KEYS & present:
            self._object_keywords(node, out, stack)
        if ARRAY_KEYS & present:
            self._array_keywords(node, out, stack)
        for key in SCHEMA_LIST_KEYS:
            branches = node.get(key)
            if isinstance(branches, list) and branches:
                out[key] = [self._convert(b, stack) for b in branches]
        if isinstance(node.get("not"), (dict, bool)):
            out["not"] = self._convert(node["not"], stack)
        return out

    def _types(self, node: dict, out: dict) -> list[str] | None:
        raw = node.get("type")
        names = raw if isinstance(raw, list) else [raw] if raw is not None else []
        types: list[str] = []
        for name in names:
            if not isinstance(name, str):
                continue
            mapped = TYPE_ALIASES.get(name.strip().lower())
            if mapped is None:
                self._note(f"unknown type {name[:40]!r} dropped")
                continue
            if name.lower() == "file" and "format" not in node:
                out["format"] = "binary"
            if mapped not in types:
                types.append(mapped)
        if node.get("nullable") is True and types and "null" not in types:
            types.append("null")
        return types or None

    def _exclusive_bounds(self, node: dict, out: dict) -> None:
        for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            value = node.get(key)
            if value is True and bound in out:  # OpenAPI 3.0 / draft-4 boolean form
                out[key] = out.pop(bound)
            elif not isinstance(value, bool) and _number(value) is not None:
                out[key] = _number(value)

    def _object_keywords(self, node: dict, out: dict, stack: tuple[str, ...]) -> None:
        props = node.get("properties")
        required: list[str] = []
        if isinstance(props, dict):
            out["properties"] = {}
            for name, sub in props.items():
                if not isinstance(name, str):
                    continue
                if isinstance(sub, dict) and sub.get("required") is True:
                    required.append(name)  # Swagger-era per-property flag
                out["properties"][name] = self._convert(sub, stack)
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict):
            out["patternProperties"] = {k: self._convert(v, stack) for k, v in patterns.items() if isinstance(k, str)}
        extra = node.get("additionalProperties")
        if isinstance(extra, (bool, dict)):
            out["additionalProperties"] = self._convert(extra, stack)
        raw_required = node.get("required")
        if isinstance(raw_required, list):
            required.extend(r for r in raw_required if isinstance(r, str))
        if required:
            out["required"] = list(dict.fromkeys(required))

    def _array_keywords(self, node: dict, out: dict, stack: tuple[str, ...]) -> None:
        items = node.get("items")
        if isinstance(items, list):
            out["prefixItems"] = [self._convert(i, stack) for i in items]
        elif isinstance(items, (dict, bool)):
            out["items"] = self._convert(items, stack)
        prefix = node.get("prefixItems")
        if isinstance(prefix, list) and "prefixItems" not in out:
            out["prefixItems"] = [self._convert(i, stack) for i in prefix]


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        if number != number or number in (float("inf"), float("-inf")):
            return None
        return int(number) if number.is_integer() else number
    return None


def _count(value: Any) -> int | None:
    number = _number(value)
    if number is None or number < 0:
        return None
    return int(number)
