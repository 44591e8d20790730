"""Tool calls in model output: render them in each common style, and parse them back.

Parsers never raise: garbage yields a ``ParseResult`` with ``failure`` set and its reason.
Styles: Hermes ``<tool_call>{json}</tool_call>`` blocks, JSON objects/lists
(``{"name": ..., "arguments": {...}}``), and BFCL-style Python call lists ``[f(a=1, b="x")]``.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_PY_START = re.compile(r"^\[?\s*[A-Za-z_][\w.]*\s*\(")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
MAX_PARSE_CHARS = 100_000


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]

    def to_openai(self, call_id: str) -> dict:
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments, ensure_ascii=False)},
        }


@dataclass
class ParseResult:
    calls: list[ToolCall] = field(default_factory=list)
    style: str | None = None  # hermes | json | python
    failure: str | None = None  # why nothing (or not everything) parsed

    @property
    def ok(self) -> bool:
        return self.failure is None and bool(self.calls)


# --- rendering -------------------------------------------------------------------
def render_python(calls: list[ToolCall]) -> str:
    return (
        "["
        + ", ".join(
            f"{c.name}(" + ", ".join(f"{k}={_py_literal(v)}" for k, v in c.arguments.items()) + ")" for c in calls
        )
        + "]"
    )


def render_json(calls: list[ToolCall]) -> str:
    return json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls], ensure_ascii=False)


def render_hermes(calls: list[ToolCall]) -> str:
    return "\n".join(
        f"<tool_call>\n{json.dumps({'name': c.name, 'arguments': c.arguments}, ensure_ascii=False)}\n</tool_call>"
        for c in calls
    )


def _py_literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid Python string literal too
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return json.dumps(str(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py_literal(str(k))}: {_py_literal(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))


# --- parsing ---------------------------------------------------------------------
def parse_tool_calls(text: Any) -> ParseResult:
    """Parse any supported style; never raises."""
    try:
        if not isinstance(text, str):
            return ParseResult(failure=f"output is {type(text).__name__}, not text")
        if len(text) > MAX_PARSE_CHARS:
            return ParseResult(failure=f"output longer than {MAX_PARSE_CHARS} characters")
        stripped = _FENCE.sub("", text.strip()).strip()
        if not stripped:
            return ParseResult(failure="empty output")
        if "<tool_call>" in stripped:
            return _parse_hermes(stripped)
        if stripped[0] in "[{":
            as_json = _parse_json(stripped)
            if as_json.ok or stripped[0] == "{":
                return as_json
            as_python = _parse_python(stripped)
            # `[name(` is a Python call list: its own failure says more than JSON's.
            return as_python if as_python.ok or _PY_START.match(stripped) else as_json
        if _PY_START.match(stripped.lstrip("[")):
            return _parse_python(stripped)
        return ParseResult(failure="no tool call found in the output")
    except (RecursionError, MemoryError, ValueError, TypeError, SyntaxError) as exc:  # belt and braces
        return ParseResult(failure=f"unparseable output: {type(exc).__name__}")


def _parse_hermes(text: str) -> ParseResult:
    calls: list[ToolCall] = []
    for block in _HERMES.findall(text):
        result = _parse_json(block.strip())
        if not result.ok:
            return ParseResult(calls=calls, style="hermes", failure=f"bad <tool_call> block: {result.failure}")
        calls.extend(result.calls)
    if not calls:
        return ParseResult(style="hermes", failure="empty <tool_call> block")
    return ParseResult(calls=calls, style="hermes")


def _parse_json(text: str) -> ParseResult:
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        return ParseResult(style="json", failure=f"invalid JSON: {exc.msg} at char {exc.pos}")
    if text[end:].strip() and not text[end:].strip().startswith(("<", "\n")):
        return ParseResult(style="json", failure="trailing text after the JSON value")
    items = value if isinstance(value, list) else [value]
    if not items:
        return ParseResult(style="json", failure="empty call list")
    calls = []
    for item in items:
        call = _json_call(item)
        if isinstance(call, str):
            return ParseResult(calls=calls, style="json", failure=call)
        calls.append(call)
    return ParseResult(calls=calls, style="json")


def _json_call(item: Any) -> ToolCall | str:
    if not isinstance(item, dict):
        return f"call is {type(item).__name__}, not an object"
    if isinstance(item.get("function"), dict):  # OpenAI tool_calls entry
        item = item["function"]
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return "call has no name"
    args = item.get("arguments", item.get("parameters", {}))
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            return f"arguments of {name} are not valid JSON"
    if not isinstance(args, dict):
        return f"arguments of {name} are not an object"
    return ToolCall(name, args)


_KEYWORD = re.compile(r"[^\s=,()\[\]{}'\"]+(?=\s*=(?!=))")


def _keyword_names(text: str) -> tuple[str, dict[str, str]]:
    """Real APIs name parameters ``api-version``, ``$.xgafv``, ``X-Amz-Date`` or ``from``, which a
    Python call cannot spell (``f(api-version="1")`` is not Python): outside string literals, each
    such keyword directly inside a call's parentheses is replaced by a placeholder identifier, and
    the mapping back is returned. Identifiers that are not Python keywords are left as they are."""
    out: list[str] = []
    names: dict[str, str] = {}
    stack: list[str] = []
    i, quote, expect_key = 0, "", False
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "'\"":
            quote, expect_key = ch, False
        elif ch in "([{":
            stack.append(ch)
            expect_key = ch == "("
        elif ch in ")]}":
            stack = stack[:-1]
            expect_key = False
        elif ch == ",":
            expect_key = bool(stack) and stack[-1] == "("
        elif not ch.isspace() and expect_key:
            expect_key = False
            match = _KEYWORD.match(text, i)
            if match:
                key = match.group(0)
                if not key.isidentifier() or keyword.iskeyword(key):
                    placeholder = f"__inftool_kw{len(names)}__"
                    names[placeholder] = key
                    out.append(placeholder)
                    i = match.end()
                    continue
        out.append(ch)
        i += 1
    return "".join(out), names


def _parse_python(text: str) -> ParseResult:
    source, names = _keyword_names(text if text.startswith("[") else f"[{text}]")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        return ParseResult(style="python", failure=f"not a Python call list: {exc.msg}")
    if not isinstance(tree.body, (ast.List, ast.Tuple)):
        return ParseResult(style="python", failure="not a list of calls")
    calls = []
    for node in tree.body.elts:
        if not isinstance(node, ast.Call):
            return ParseResult(calls=calls, style="python", failure="list element is not a call")
        name = _dotted(node.func)
        if name is None:
            return ParseResult(calls=calls, style="python", failure="call target is not a name")
        if node.args:
            return ParseResult(calls=calls, style="python", failure=f"{name} has positional arguments")
        args = {}
        for kw in node.keywords:
            if kw.arg is None:
                return ParseResult(calls=calls, style="python", failure=f"{name} uses **kwargs")
            arg = names.get(kw.arg, kw.arg)
            try:
                args[arg] = ast.literal_eval(kw.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return ParseResult(calls=calls, style="python", failure=f"argument {arg} of {name} is not a literal")
        calls.append(ToolCall(name, args))
    if not calls:
        return ParseResult(style="python", failure="empty call list")
    return ParseResult(calls=calls, style="python")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def call_list_end(text: str) -> int | None:
    """Where a complete bracketed call list ``[f(a="x]"), g()]`` at the start of ``text`` ends
    (the index after its closing bracket), or None while it is open or when the text does not
    start with one (after spaces and a code fence). Brackets inside string literals, escapes
    and triple quotes included, do not count."""
    start = len(text) - len(text.lstrip(" \n\t`"))
    if start >= len(text) or text[start] != "[":
        return None
    depth, quote, k = 0, "", start
    while k < len(text):
        char = text[k]
        if quote:
            if char == "\\":
                k += 2
                continue
            if text.startswith(quote, k):
                k += len(quote)
                quote = ""
                continue
        elif char in "'\"":
            quote = char * 3 if text.startswith(char * 3, k) else char
            k += len(quote)
            continue
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return None
