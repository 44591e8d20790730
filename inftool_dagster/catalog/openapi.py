"""OpenAPI 3.0/3.1 and Swagger 2.0 operations → tool functions.

Every operation becomes one function whose single ``parameters`` object merges path,
query, header and body parameters; ``param_locations`` remembers where each argument
goes so that a real HTTP call (or the simulator) can be made from a tool call.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from .naming import operation_base_name
from .records import Rejection, ToolFunction
from .schema_convert import MAX_DESCRIPTION, SchemaConverter

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Headers that transports set themselves; a tool call should not carry them.
SKIPPED_HEADERS = frozenset({"authorization", "content-type", "accept", "user-agent", "content-length"})
PARAM_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "example",
)
JSON_MEDIA = re.compile(r"^application/([\w.+-]*\+)?json")


def spec_version(document: dict) -> str | None:
    """``openapi-3.0`` / ``openapi-3.1`` / ``swagger-2.0``, or None for something else."""
    if isinstance(document.get("openapi"), str):
        return "openapi-3.1" if document["openapi"].startswith("3.1") else "openapi-3.0"
    if str(document.get("swagger", "")).startswith("2"):
        return "swagger-2.0"
    return None


def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]{1,80}>", " ", text)).strip()


def _domain(info: dict, spec_id: str) -> str:
    categories = info.get("x-apisguru-categories") or info.get("x-inftool-domain")
    if isinstance(categories, list) and categories and isinstance(categories[0], str):
        return categories[0]
    if isinstance(categories, str):
        return categories
    return spec_id.split("/", 1)[0].split(".", 1)[0] or "general"


def spec_slug(spec_id: str, info: dict) -> str:
    """Short prefix for function names: the spec file's own name (``petstore``, ``accessanalyzer``)."""
    last = spec_id.rsplit("/", 1)[-1]
    if last in ("openapi", "swagger", "api", "spec") and "/" in spec_id:
        last = spec_id.rsplit("/", 2)[-2]
    return last or _clean_text(info.get("title")) or "api"


def extract_openapi(document: dict, spec_id: str, source: str) -> tuple[list[ToolFunction], list[Rejection]]:
    version = spec_version(document)
    assert version is not None
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    title = _clean_text(info.get("title")) or spec_id
    domain = _domain(info, spec_id)
    slug = spec_slug(spec_id, info)
    converter = SchemaConverter(document, openapi30=version != "openapi-3.1")
    functions: list[ToolFunction] = []
    rejections: list[Rejection] = []
    paths = document.get("paths")
    if not isinstance(paths, dict):
        paths = {}
    for path, item in paths.items():
        item = converter.deref(item)
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        shared = item.get("parameters") if isinstance(item.get("parameters"), list) else []
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            label = f"{method.upper()} {path}"
            try:
                function = _operation_function(
                    converter,
                    version,
                    operation,
                    shared,
                    method,
                    path,
                    spec_id=spec_id,
                    title=title,
                    domain=domain,
                    slug=slug,
                )
            except RecursionError:
                rejections.append(
                    Rejection(
                        source,
                        spec_id,
                        "operation",
                        "schema_too_deep",
                        "schema nests beyond Python's recursion limit",
                        label,
                    )
                )
                continue
            except Exception as exc:  # one broken operation never stops the spec
                rejections.append(
                    Rejection(
                        source, spec_id, "operation", "operation_error", f"{type(exc).__name__}: {exc}"[:500], label
                    )
                )
                continue
            functions.append(function)
    if not functions and not rejections:
        rejections.append(
            Rejection(source, spec_id, "spec", "no_operations", "the spec defines no operations under 'paths'")
        )
    return functions, rejections


def _operation_function(
    converter: SchemaConverter,
    version: str,
    operation: dict,
    shared: list,
    method: str,
    path: str,
    *,
    spec_id: str,
    title: str,
    domain: str,
    slug: str,
) -> ToolFunction:
    converter.notes = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    locations: dict[str, dict[str, str]] = {}

    def add(name: str, schema: Any, location: str, is_required: bool, original: str) -> None:
        key = name if name not in properties else f"{location}_{name}"
        if key in properties:
            key = f"{location}_{name}_{len(properties)}"
        properties[key] = schema
        locations[key] = {"in": location, "name": original}
        if is_required:
            required.append(key)

    merged: dict[tuple[str, str], dict] = {}
    own = operation.get("parameters") if isinstance(operation.get("parameters"), list) else []
    for raw in [*shared, *own]:  # operation-level parameters override path-level ones
        param = converter.deref(raw)
        if isinstance(param, dict) and isinstance(param.get("name"), str):
            merged[(param["name"], str(param.get("in")))] = param
    body_schema: Any = None
    body_required = False
    for (name, location), param in merged.items():
        if location == "body":  # Swagger 2.0
            body_schema, body_required = param.get("schema", {}), bool(param.get("required"))
            continue
        if location == "cookie" or (location == "header" and name.lower() in SKIPPED_HEADERS):
            continue
        schema = converter.convert(_parameter_schema(param))
        if isinstance(schema, dict):
            description = _clean_text(param.get("description"))
            if description and "description" not in schema:
                schema = {**schema, "description": description[:MAX_DESCRIPTION]}
        add(name, schema, location, location == "path" or param.get("required") is True, name)

    if version != "swagger-2.0" and "requestBody" in operation:
        body = converter.deref(operation["requestBody"])
        if isinstance(body, dict):
            body_schema, body_required = _media_schema(body.get("content")), body.get("required") is True
    if body_schema is not None:
        converted = converter.convert(body_schema)
        if _is_plain_object(converted):
            body_props = converted.get("properties", {})
            body_req = set(converted.get("required", [])) if body_required else set()
            for name, sub in body_props.items():
                add(name, sub, "body", name in body_req, name)
        else:
            add("body", converted, "body", body_required, "body")

    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = list(dict.fromkeys(required))
    response = _response_schema(converter, operation, version)
    summary = _clean_text(operation.get("summary"))
    description = _clean_text(operation.get("description"))
    if summary and description and not description.startswith(summary):
        text = f"{summary}. {description}"
    else:
        text = summary or description
    operation_id = operation.get("operationId") if isinstance(operation.get("operationId"), str) else None
    return ToolFunction(
        name=operation_base_name(slug, operation_id, method, path),
        description=(text or f"{method.upper()} {path}")[:MAX_DESCRIPTION],
        parameters=orjson.dumps(parameters).decode(),
        response_schema=orjson.dumps(response).decode() if response is not None else None,
        spec_id=spec_id,
        spec_title=title,
        domain=domain,
        source_format=version,
        method=method.upper(),
        path=path,
        operation_id=operation_id,
        param_locations=orjson.dumps(locations).decode(),
        notes=list(converter.notes),
        stable_key=f"{spec_id}\x1f{method}\x1f{path}",
    )


def _parameter_schema(param: dict) -> Any:
    if "schema" in param:
        return param["schema"]
    if isinstance(param.get("content"), dict):
        return _media_schema(param["content"]) or {}
    # Swagger 2.0: the schema keywords live on the parameter itself.
    return {k: param[k] for k in PARAM_SCHEMA_KEYS if k in param}


def _media_schema(content: Any) -> Any:
    """Pick the JSON media type's schema (else form, else the first)."""
    if not isinstance(content, dict) or not content:
        return None
    ordered = sorted(
        content.items(),
        key=lambda kv: (
            0
            if isinstance(kv[0], str) and JSON_MEDIA.match(kv[0])
            else 1
            if kv[0] in ("application/x-www-form-urlencoded", "multipart/form-data")
            else 2
        ),
    )
    for _, media in ordered:
        if isinstance(media, dict) and "schema" in media:
            return media["schema"]
    return None


def _is_plain_object(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and isinstance(schema.get("properties"), dict)
        and schema.get("type", "object") in ("object", ["object"], ["object", "null"])
        and not any(k in schema for k in ("allOf", "anyOf", "oneOf"))
    )


def _response_schema(converter: SchemaConverter, operation: dict, version: str) -> Any:
    responses = operation.get("responses")
    if not isinstance(responses, dict):
        return None
    # YAML reads `200:` as an int key; order 2xx first, then `default`.
    ordered = sorted(responses.items(), key=lambda kv: (not str(kv[0]).startswith("2"), str(kv[0])))
    for code, raw in ordered:
        if not (str(code).startswith("2") or code == "default"):
            continue
        response = converter.deref(raw)
        if not isinstance(response, dict):
            continue
        schema = response.get("schema") if version == "swagger-2.0" else _media_schema(response.get("content"))
        if schema is not None:
            saved = converter.max_ref_depth, converter.max_nodes
            converter.max_ref_depth, converter.max_nodes = 4, 800  # responses are only simulated
            try:
                return converter.convert(schema)
            finally:
                converter.max_ref_depth, converter.max_nodes = saved
    return None
