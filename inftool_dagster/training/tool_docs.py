"""How a training row's tools are shown to the model: trimmed documents and namespaced names.

Real APIs' documents are long (a median SFT chat is ~900 tokens, 13 % of them learnt): the
tool list is most of what an SFT step computes, and a third of the chats do not fit at all.
Most of it is optional parameters (a median tool has 5, a quarter have 13 or more, and one or
two are required). ``optional_params`` shows each tool's required parameters, those the row's
calls use, and at most that many others (chosen by the tool's name, so some are always there
to be left out); ``description_chars`` cuts each description to its first sentence. Names,
types, enums and defaults stay, so every gold call stays valid, and a step sees more chats.

Catalog names are ``spec_operation`` identifiers, never dotted, while many tool sets
(BFCL's among them, and MCP allows it) namespace with dots: ``math.hypot``,
``law.civil.get_case_details``; a model that never saw a dot copies such a name only up to it.
``dotted_share`` of the rows show their tools with their first one or two underscores as dots,
the same renaming in the tool list, the calls and the tool results of that row.

Only the training rendering changes: the catalog, the MCP Server and every evaluation are not
touched.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass

from inftool_dagster.llm.prompts import call_arguments, function_doc

_SENTENCE_END = re.compile(r"(?<=[.!?])\s|\n")


def trim(text: str, chars: int) -> str:
    """``text``'s first sentence when it fits in ``chars``, else its words up to ``chars``."""
    text = (text or "").strip()
    if chars <= 0 or len(text) <= chars:
        return text
    end = _SENTENCE_END.search(text)
    if end and 0 < end.start() <= chars:
        return text[: end.start()].strip()
    cut = text[:chars].rsplit(" ", 1)[0].rstrip(" ,;:")
    return f"{cut}…"


def _trim_schema(schema: object, chars: int) -> object:
    if isinstance(schema, list):
        return [_trim_schema(s, chars) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            out[key] = trim(value, chars)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _trim_schema(sub, chars) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "additionalProperties"):
            out[key] = _trim_schema(value, chars)
        else:
            out[key] = value
    return out


def trimmed_tools(tools: list[dict], chars: int) -> list[dict]:
    """OpenAI tool dicts whose function and parameter descriptions are cut by ``trim``."""
    if chars <= 0:
        return tools
    out = []
    for tool in tools:
        tool = copy.deepcopy(tool)
        fn = function_doc(tool)
        if isinstance(fn.get("description"), str):
            fn["description"] = trim(fn["description"], chars)
        if isinstance(fn.get("parameters"), dict):
            fn["parameters"] = _trim_schema(fn["parameters"], chars)
        out.append(tool)
    return out


def _fraction(key: str, salt: str) -> float:
    digest = hashlib.blake2b(f"{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def dotted(name: str) -> str:
    """``name`` with its first one or two underscores (chosen by the name) as dots, leaving at
    least two words after the last dot: ``inspector_add_tags`` → ``inspector.add_tags``,
    ``law_civil_get_case`` → ``law.civil.get_case`` or ``law.civil_get_case``."""
    parts = name.split("_")
    if len(parts) < 2 or not all(parts):
        return name
    dots = min(len(parts) - 1, 1 + int(_fraction(name, "dots") * 2))
    dots = 1 if len(parts) - dots < 2 else dots  # keep an action after the namespace
    return ".".join(parts[:dots]) + "." + "_".join(parts[dots:])


def _used_arguments(messages: list[dict]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            used.setdefault(fn.get("name", ""), set()).update(call_arguments(fn.get("arguments")))
    return used


def fewer_optional(tools: list[dict], messages: list[dict], keep: int) -> list[dict]:
    """The tools with their required and used parameters and at most ``keep`` other optional ones."""
    used = _used_arguments(messages)
    out = []
    for tool in tools:
        fn = function_doc(tool)
        params = fn.get("parameters") if isinstance(fn.get("parameters"), dict) else {}
        properties = params.get("properties") if isinstance(params.get("properties"), dict) else {}
        required = set(params.get("required") or [])
        must = required | used.get(fn["name"], set())
        others = sorted((p for p in properties if p not in must), key=lambda p: _fraction(f"{fn['name']}.{p}", "opt"))
        shown = must | set(others[:keep])
        if len(shown) == len(properties):
            out.append(tool)
            continue
        tool = copy.deepcopy(tool)
        fn = function_doc(tool)
        fn["parameters"]["properties"] = {k: v for k, v in properties.items() if k in shown}
        out.append(tool)
    return out


@dataclass(frozen=True)
class ToolRendering:
    """What ``sft_sequences`` does to a row's tools before rendering it (the defaults: nothing)."""

    description_chars: int = 0
    dotted_share: float = 0.0
    optional_params: int | None = None

    def renames(self, row_id: str, tools: list[dict]) -> dict[str, str]:
        """Old name → shown name for this row (empty unless the row is among ``dotted_share``)."""
        if self.dotted_share <= 0 or _fraction(row_id, "dotted") >= self.dotted_share:
            return {}
        names = [function_doc(t)["name"] for t in tools]
        shown = {n: dotted(n) for n in names}
        if len(set(shown.values())) < len(shown):
            return {}  # two tools would look alike
        return {old: new for old, new in shown.items() if old != new}

    def apply(self, row_id: str, messages: list[dict], tools: list[dict]) -> tuple[list[dict], list[dict]]:
        """The row's messages and tools as the model is shown them."""
        tools = trimmed_tools(tools, self.description_chars)
        if self.optional_params is not None:
            tools = fewer_optional(tools, messages, self.optional_params)
        renames = self.renames(row_id, tools)
        if not renames:
            return messages, tools
        tools = copy.deepcopy(tools)
        for tool in tools:
            fn = function_doc(tool)
            fn["name"] = renames.get(fn["name"], fn["name"])
        messages = copy.deepcopy(messages)
        for message in messages:
            for call in message.get("tool_calls") or []:
                fn = call.get("function") or {}
                if fn.get("name") in renames:
                    fn["name"] = renames[fn["name"]]
            if message.get("role") == "tool" and message.get("name") in renames:
                message["name"] = renames[message["name"]]
        return messages, tools


AS_IN_CATALOG = ToolRendering()
