"""JSON Schema validation with ECMA-262 patterns: the one place ``pattern`` meets a regex engine.

JSON Schema patterns are ECMA-262 regular expressions. Real specs use what Python's ``re``
cannot parse (``\\p{L}`` in AWS tag keys and Cognito user names), so ``pattern``,
``patternProperties``, ``additionalProperties`` (which consults ``patternProperties``) and the
``regex`` format are evaluated with the ``regex`` package, which supports Unicode property
classes. Everything else is stock Draft 2020-12 with its format checker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import regex
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

# --- begin: the regex-engine override (keep every use of a pattern engine for validation here) ---
MATCH_SECONDS = 0.1  # real specs carry nested quantifiers that backtrack for ever on a non-match


class PatternTimeout(Exception):
    """A pattern took longer than ``MATCH_SECONDS`` on one string (catastrophic backtracking)."""


PATTERN_ERRORS = (re.error, regex.error, PatternTimeout)  # a pattern that cannot be evaluated


@lru_cache(maxsize=8192)
def compile_pattern(pattern: str) -> regex.Pattern:
    """An ECMA-262 pattern compiled by ``regex`` (raises ``regex.error`` when it cannot be)."""
    return regex.compile(pattern)


def pattern_matches(pattern: str, text: str) -> bool:
    """JSON Schema semantics: the pattern matches anywhere (a search, not a full match);
    raises ``PatternTimeout`` rather than backtracking without end."""
    try:
        return compile_pattern(pattern).search(text, timeout=MATCH_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(f"{pattern!r} did not finish on a {len(text)}-character string") from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = pattern_matches(pattern, instance)
    except PatternTimeout as exc:  # a value that cannot be shown to match within the time is refused
        yield ValidationError(f"could not be matched in time: {exc}")
        return
    if not matched:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if pattern_matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = sorted(k for k in instance if k not in known and not any(pattern_matches(p, k) for p in patterns))
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif extra is False and extras:
        listed = ", ".join(repr(k) for k in extras)
        yield ValidationError(f"Additional properties are not allowed ({listed} unexpected)")


FORMAT_CHECKER = FormatChecker(formats=())
FORMAT_CHECKER.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)


@FORMAT_CHECKER.checks("regex", raises=regex.error)
def _is_regex(instance: object) -> bool:
    return not isinstance(instance, str) or compile_pattern(instance) is not None


EcmaValidator = validators.extend(
    Draft202012Validator,
    validators={
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
    format_checker=FORMAT_CHECKER,
)
# --- end: the regex-engine override ---


def schema_validator(schema: Any, formats: bool = True) -> Any:
    """A Draft 2020-12 validator with ECMA patterns; ``formats`` turns format assertions on."""
    return EcmaValidator(schema, format_checker=FORMAT_CHECKER if formats else None)
