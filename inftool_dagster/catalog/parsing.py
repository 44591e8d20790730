"""Decode raw spec bytes into a document, classifying every failure."""

from __future__ import annotations

from typing import Any

import orjson
import yaml

try:  # the C loader is ~10x faster; fall back where libyaml is missing
    _YamlLoader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YamlLoader = yaml.SafeLoader


class SpecParseError(Exception):
    """A spec that could not be decoded; ``code`` is the rejection reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def parse_document(data: bytes, suffix: str) -> Any:
    """JSON, JSON Lines or YAML bytes → Python objects (JSONL → list of objects)."""
    if not data.strip():
        raise SpecParseError("empty", "file is empty")
    if b"\x00" in data[:8192]:
        raise SpecParseError("binary", "file contains NUL bytes: not a text spec")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecParseError("binary", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    stripped = text.lstrip()
    if suffix == ".jsonl":
        return _parse_jsonl(text)
    if stripped[:1] in "{[":
        try:
            return orjson.loads(data.lstrip(b"\xef\xbb\xbf"))
        except orjson.JSONDecodeError as exc:
            if _looks_truncated(stripped):
                raise SpecParseError("truncated", f"JSON ends before it is complete: {exc}") from None
            if stripped[:1] == "{" and "\n{" in stripped:
                return _parse_jsonl(text)
            raise SpecParseError("malformed", f"invalid JSON: {exc}") from None
    try:
        return yaml.load(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        raise SpecParseError("malformed", f"invalid YAML: {str(exc)[:300]}") from None
    except RecursionError:
        raise SpecParseError("malformed", "YAML nests too deeply") from None


def _parse_jsonl(text: str) -> list[Any]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise SpecParseError("malformed", f"invalid JSON on line {number}: {exc}") from None
    return rows


def _looks_truncated(text: str) -> bool:
    """Unbalanced brackets outside strings: the file was cut short."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth > 0 or in_string
