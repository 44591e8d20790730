"""BFCL's decoding of prompting-model output: ``[f(a=1), g(b="x")]`` → ``[{"f": {"a": 1}}, {"g": {...}}]``.

Follows BFCL's ``default_decode_ast_prompting`` / ``ast_parse`` / ``resolve_ast_call`` for
Python, so that a model output decodes to the same structure the official checker sees. Java
and JavaScript go through BFCL's own tree-sitter parsers (loaded from the pinned wheel), whose
values stay strings for the checker's type converters. Decoding raises ``DecodeError`` where
BFCL's decoder raises.
"""

from __future__ import annotations

import ast
from typing import Any


class DecodeError(ValueError):
    pass


def decode_ast(text: str, language: str = "python") -> list[dict]:
    text = text.strip("`\n ")
    if not text.startswith("["):
        text = "[" + text
    if not text.endswith("]"):
        text = text + "]"
    if language != "python":
        return _decode_with_bfcl_parser(text[1:-1], language)
    cleaned = text.strip().strip("'")
    try:
        parsed = ast.parse(cleaned, mode="eval")
        if isinstance(parsed.body, ast.Call):
            return [_call(parsed.body)]
        out = []
        for element in parsed.body.elts:
            if not isinstance(element, ast.Call):
                raise DecodeError(f"not a call: {ast.unparse(element)[:80]}")
            out.append(_call(element))
        return out
    except DecodeError:
        raise
    except Exception as exc:  # SyntaxError, AttributeError (no .elts), ...: all decode failures
        raise DecodeError(f"{type(exc).__name__}: {exc}") from None


_SPACE = " \t\n\r\f"
_STRIP = "`\n "  # what BFCL strips from both ends before decoding
_STRING_PREFIXES = {"r", "u", "b", "f", "t", "br", "rb", "fr", "rf", "tr", "rt"}


def cannot_decode_to_calls(text: str) -> bool:
    """True when no continuation of ``text`` can decode (Python) to a list of calls, so that
    generation may stop early with the same BFCL verdict.

    The decoder parses ``"[" + text + "]"`` and needs every list element to be a call. When the
    first element starts with a (dotted) name and the name is followed by anything but ``(``,
    ``[``, ``.``, a quote, ``#`` or ``\\``, that element is a name, an operator expression
    or a syntax error, never a call: ``Sure, here is``, ``To compute the area``, ``I'm sorry``.
    Anything else (a call under way, a number, a bracket) is left undecided: the rule only
    says "hopeless" where Python's grammar leaves no way back.
    """
    i, n = 0, len(text)
    while i < n and text[i] in _STRIP:
        i += 1
    if i < n and text[i] == "[":
        i += 1
        while i < n and text[i] in _SPACE:
            i += 1
    while True:
        if i >= n or not text[i].isidentifier():
            return False  # undecided: not a name (or nothing yet)
        start = i
        while i < n and ("a" + text[i]).isidentifier():
            i += 1
        name = text[start:i]
        while i < n and text[i] in _SPACE:
            i += 1
        if i >= n:
            return False
        if text[i] in "\"'":  # only a string prefix (r"…", f'…') can stand before a quote
            return i > start + len(name) or name.lower() not in _STRING_PREFIXES
        if text[i] != ".":
            return text[i] not in "([#\\"
        i += 1
        while i < n and text[i] in _SPACE:
            i += 1


def _decode_with_bfcl_parser(source: str, language: str) -> Any:
    from .official import bfcl_module

    if language == "java":
        parse = bfcl_module("model_handler.parser.java_parser").parse_java_function_call
    elif language == "javascript":
        parse = bfcl_module("model_handler.parser.js_parser").parse_javascript_function_call
    else:
        raise ValueError(f"unknown language {language!r}")
    try:
        return parse(source)
    except Exception as exc:  # the parsers raise SyntaxError and plain Exception alike
        raise DecodeError(f"{type(exc).__name__}: {exc}") from None


BLOCKED_CALL = "inftool_call_not_offered()"  # undefined: BFCL's eval reports a NameError, as for any unknown name


def to_execution_calls(decoded: list[dict], allowed: frozenset[str]) -> list[str]:
    """BFCL's ``decoded_output_to_execution_list``: ``[{"f": {"a": 1}}]`` → ``["f(a=1)"]``.

    Built from decoded literals (never from the raw model text). BFCL ``eval``s these strings,
    so a name outside ``allowed`` (the backends' methods) becomes a call of an undefined name:
    the same "Error during execution" BFCL records, without reaching builtins or modules."""
    calls = []
    for item in decoded:
        for name, args in item.items():
            if name not in allowed or not all(isinstance(k, str) and k.isidentifier() for k in args):
                calls.append(BLOCKED_CALL)
                continue
            calls.append(f"{name}({','.join(f'{k}={v!r}' for k, v in args.items())})")
    return calls


def _call(node: ast.Call) -> dict:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return {".".join(reversed(parts)): {kw.arg: _value(kw.value) for kw in node.keywords}}


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        return -node.operand.value
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        return {_value(k): _value(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.BinOp):
        return _safe_arith(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return ast.unparse(node) if not node.keywords else _call(node)
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Lambda):
        raise DecodeError("lambda arguments are not evaluated")
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeError(f"Unsupported AST type: {type(node)}")


def _safe_arith(node: ast.AST) -> Any:
    """BFCL ``eval``s binary operations; evaluate arithmetic on literals only (no code execution)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_safe_arith(node.operand)
    if isinstance(node, ast.BinOp):
        left, right = _safe_arith(node.left), _safe_arith(node.right)
        ops = {
            ast.Add: lambda a, b: a + b,
            ast.Sub: lambda a, b: a - b,
            ast.Mult: lambda a, b: a * b,
            ast.Div: lambda a, b: a / b,
            ast.Pow: lambda a, b: a**b if abs(b) < 64 else _too_big(),
            ast.Mod: lambda a, b: a % b,
            ast.FloorDiv: lambda a, b: a // b,
        }
        op = ops.get(type(node.op))
        if op is None:
            raise DecodeError(f"unsupported operator {type(node.op).__name__}")
        try:
            return op(left, right)
        except Exception as exc:
            raise DecodeError(f"{type(exc).__name__}: {exc}") from None
    raise DecodeError(f"non-literal operand {ast.unparse(node)[:40]}")


def _too_big():
    raise DecodeError("exponent too large")


def is_function_calling_format(decoded: Any) -> bool:
    """BFCL's ``is_function_calling_format_output``: a list of single-key dicts of dicts."""
    if type(decoded) is not list:
        return False
    return all(type(item) is dict and len(item) == 1 and type(next(iter(item.values()))) is dict for item in decoded)


def is_empty_output(decoded: Any) -> bool:
    """BFCL's ``is_empty_output``: [], [{}], or anything not in calling format."""
    return not is_function_calling_format(decoded) or len(decoded) == 0 or (len(decoded) == 1 and len(decoded[0]) == 0)
