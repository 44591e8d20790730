"""BFCL-style matching of predicted calls against gold calls.

The rules follow BFCL's AST checker, applied to a single gold value per parameter:
strings compare after BFCL's ``standardize_string`` (drop spaces and ``,./-_*^``, lower-case,
single → double quotes); an int is accepted where a float is expected; lists compare
element-wise, dicts key-wise; a parameter the gold does not name is unexpected; parallel calls
match order-insensitively. Every mismatch carries a reason (the error type that capability
gaps count).
"""

from __future__ import annotations

import re
from typing import Any

from inftool_dagster.bfcl.checker import standardize_string  # one copy of BFCL's string rule

PLACEHOLDER = re.compile(r"^\$result\[(\d+)\]\.(\w+)$")


def values_match(predicted: Any, gold: Any) -> bool:
    if isinstance(gold, bool) or isinstance(predicted, bool):
        return type(gold) is type(predicted) and gold == predicted
    if isinstance(gold, float) and isinstance(predicted, (int, float)):
        return float(predicted) == gold
    if isinstance(gold, int) and isinstance(predicted, (int, float)):
        return predicted == gold
    if isinstance(gold, str):
        return isinstance(predicted, str) and standardize_string(predicted) == standardize_string(gold)
    if isinstance(gold, list):
        return (
            isinstance(predicted, list)
            and len(predicted) == len(gold)
            and all(values_match(p, g) for p, g in zip(predicted, gold))
        )
    if isinstance(gold, dict):
        return (
            isinstance(predicted, dict)
            and predicted.keys() == gold.keys()
            and all(values_match(predicted[k], gold[k]) for k in gold)
        )
    return predicted == gold


def call_mismatch(predicted: dict, gold: dict) -> str | None:
    """None when ``predicted`` matches ``gold``; otherwise the error type and detail."""
    if predicted.get("name") != gold["name"]:
        return f"wrong_function: {predicted.get('name')} instead of {gold['name']}"
    args, want = predicted.get("arguments") or {}, gold["arguments"]
    for key in want:
        if key not in args:
            return f"missing_argument: {key}"
    for key in args:
        if key not in want:
            return f"extra_argument: {key}"
    for key, value in want.items():
        got = args[key]
        if not values_match(got, value):
            if type(got) is not type(value) and not (isinstance(value, float) and isinstance(got, int)):
                return f"wrong_type: {key} is {type(got).__name__}, expected {type(value).__name__}"
            return f"wrong_value: {key}"
    return None


def calls_mismatch(predicted: list[dict], gold: list[dict], ordered: bool = False) -> str | None:
    """Match call lists; parallel calls are order-insensitive (each gold call used once)."""
    if len(predicted) != len(gold):
        return f"wrong_call_count: {len(predicted)} calls, expected {len(gold)}"
    if ordered:
        for p, g in zip(predicted, gold):
            reason = call_mismatch(p, g)
            if reason:
                return reason
        return None
    left = list(range(len(gold)))
    first_reason = None
    for p in predicted:
        for j in left:
            reason = call_mismatch(p, gold[j])
            if reason is None:
                left.remove(j)
                break
            first_reason = first_reason or reason
        else:
            return first_reason or "no matching gold call"
    return None


def resolve_placeholders(call: dict, results: list[Any]) -> dict:
    """Fill ``$result[i].field`` gold values from the tool results the conversation produced."""
    args = {}
    for key, value in call["arguments"].items():
        match = PLACEHOLDER.match(value) if isinstance(value, str) else None
        if match:
            index, field = int(match.group(1)), match.group(2)
            result = results[index] if index < len(results) else None
            if isinstance(result, list) and result:
                result = result[0]
            value = _id_of(result, field, key) if isinstance(result, dict) else None
        args[key] = value
    return {"name": call["name"], "arguments": args}


def _id_of(result: dict, field: str, param: str) -> Any:
    """The identifier in a create result: ``field``, else the parameter's own name, else an ``*id`` key."""
    for key in (field, param):
        if key in result:
            return result[key]
    return next((v for k, v in result.items() if k.lower().endswith("id") and isinstance(v, (str, int))), None)
