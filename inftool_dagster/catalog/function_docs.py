"""OpenAI-style tool lists, BFCL function documents and MCP ``tools/list`` results → functions."""

from __future__ import annotations

from typing import Any

import orjson

from .naming import SAFE_NAME, identifier
from .records import Rejection, ToolFunction
from .schema_convert import MAX_DESCRIPTION, SchemaConverter


def detect_function_docs(document: Any) -> tuple[str, list[dict]] | None:
    """Return (format, raw tool dicts) when ``document`` is a function listing, else None."""
    if isinstance(document, dict):
        if isinstance(document.get("result"), dict) and "tools" in document["result"]:
            document = document["result"]  # a JSON-RPC response envelope
        if isinstance(document.get("tools"), list):
            return "mcp-tools", [t for t in document["tools"] if isinstance(t, dict)]
        if "name" in document and ("parameters" in document or "function" in document):
            document = [document]
        elif document.get("type") == "function":
            document = [document]
    if not isinstance(document, list) or not document:
        return None
    tools: list[dict] = []
    for entry in document:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("function"), dict):  # OpenAI {"type": "function", "function": {...}}
            tools.append(entry["function"])
        elif isinstance(entry.get("function"), list):  # BFCL question entry with its documents
            tools.extend(f for f in entry["function"] if isinstance(f, dict))
        elif "name" in entry and ("parameters" in entry or "inputSchema" in entry or "description" in entry):
            tools.append(entry)
    if not tools:
        return None
    fmt = "mcp-tools" if any("inputSchema" in t for t in tools) else "function-docs"
    return fmt, tools


def extract_function_docs(
    fmt: str, tools: list[dict], spec_id: str, source: str
) -> tuple[list[ToolFunction], list[Rejection]]:
    functions: list[ToolFunction] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for tool in tools:
        raw_name = tool.get("name")
        if not isinstance(raw_name, str) or not raw_name.strip():
            rejections.append(Rejection(source, spec_id, "operation", "no_name", "tool has no name"))
            continue
        if raw_name in seen:  # BFCL files repeat the same document across entries
            continue
        seen.add(raw_name)
        schema = tool.get("inputSchema", tool.get("parameters", {"type": "object", "properties": {}}))
        converter = SchemaConverter(schema)
        try:
            parameters = converter.convert(schema)
        except RecursionError:
            rejections.append(
                Rejection(
                    source,
                    spec_id,
                    "operation",
                    "schema_too_deep",
                    "schema nests beyond Python's recursion limit",
                    raw_name,
                )
            )
            continue
        if not isinstance(parameters, dict) or parameters.get("type") not in (None, "object"):
            rejections.append(
                Rejection(
                    source,
                    spec_id,
                    "operation",
                    "parameters_not_object",
                    "a tool's parameters must be a JSON object schema",
                    raw_name,
                )
            )
            continue
        parameters.setdefault("type", "object")
        parameters.setdefault("properties", {})
        output = tool.get("outputSchema") or tool.get("response")
        response = SchemaConverter(output).convert(output) if isinstance(output, dict) else None
        description = tool.get("description") if isinstance(tool.get("description"), str) else ""
        functions.append(
            ToolFunction(
                name=raw_name if SAFE_NAME.match(raw_name) else identifier(raw_name, fallback="tool"),
                description=" ".join(description.split())[:MAX_DESCRIPTION] or raw_name,
                parameters=orjson.dumps(parameters).decode(),
                response_schema=orjson.dumps(response).decode() if response is not None else None,
                spec_id=spec_id,
                spec_title=spec_id,
                domain=str(tool.get("x-inftool-domain") or spec_id.split("/")[0]),
                source_format=fmt,
                operation_id=raw_name,
                param_locations=orjson.dumps({k: {"in": "body", "name": k} for k in parameters["properties"]}).decode(),
                notes=list(converter.notes),
                stable_key=f"{spec_id}\x1f{raw_name}",
            )
        )
    return functions, rejections
