"""How much a set of user requests sounds like people: the yardsticks the User Simulator's
realizer is measured by (``inftool synth --requests-only``).

- ``param_name_rate``: the share of requests that need a call in which some argument's value
  comes right after its parameter's name ("... using city Tokyo and days 11"). A model trained
  on such requests learns to copy values that sit next to their parameter names; people and
  BFCL's questions state values in context ("the weather in Tokyo over the next 11 days").
- ``distinct_1/2/3``: distinct n-grams over all n-grams of all requests (lower-cased word
  tokens): how little the requests repeat each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from inftool_dagster.catalog.naming import name_words

_TOKEN = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
NEAR = 1  # words allowed between a parameter's name and its value: "city Tokyo", "city: Tokyo", "city of Tokyo"


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _scalars(key: str, value: Any) -> Iterable[tuple[str, str]]:
    """(parameter name, value text) for every scalar in an argument (nested keys name their own)."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float, str)):
        yield key, str(value)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(key, item)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _scalars(str(k), v)


def _find(haystack: list[str], needle: list[str]) -> list[int]:
    n = len(needle)
    return [i for i in range(len(haystack) - n + 1) if haystack[i : i + n] == needle] if n else []


def _beside(words: list[str], name: list[str], value: list[str]) -> bool:
    names = _find(words, name)
    for start in _find(words, value):
        if any(0 <= start - (n + len(name)) <= NEAR for n in names):
            return True
    return False


def names_beside_values(request: str, arguments: Mapping[str, Any]) -> list[str]:
    """The parameters of ``arguments`` whose name stands at most ``NEAR`` words before one of
    their values in ``request`` ("days 11", "city of Tokyo"). A name after its value is a unit
    or a noun people use ("the next 11 days") and is not counted."""
    words = tokens(request)
    return [
        str(key)
        for key, value in arguments.items()
        if any(
            _beside(words, form, tokens(text))
            for name, text in _scalars(str(key), value)
            for form in _name_forms(name)
            if tokens(text)
        )
    ]


def _name_forms(name: str) -> list[list[str]]:
    """The name in words ("pet id") and as written ("petid" for ``petId``)."""
    forms = [name_words(name), tokens(re.sub(r"[_\-.]+", "", name))]
    return [f for i, f in enumerate(forms) if f and f not in forms[:i]]


def distinct_n(texts: Sequence[str], n: int) -> float:
    grams = [tuple(t[i : i + n]) for t in (tokens(x) for x in texts) for i in range(len(t) - n + 1)]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def request_metrics(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Figures over ``rows`` of ``{"request": str, "calls": [{"name", "arguments"}], ...}``:
    ``param_name_rate`` counts only requests whose calls have arguments."""
    with_args = [r for r in rows if any(c.get("arguments") for c in r.get("calls") or [])]
    beside = sum(1 for r in with_args if any(names_beside_values(r["request"], c["arguments"]) for c in r["calls"]))
    texts = [r["request"] for r in rows]
    return {
        "requests": len(rows),
        "requests_with_arguments": len(with_args),
        "param_name_beside_value": beside,
        "param_name_rate": round(beside / len(with_args), 4) if with_args else None,
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "distinct_3": distinct_n(texts, 3),
        "mean_words": round(sum(len(tokens(t)) for t in texts) / len(texts), 1) if texts else 0.0,
    }
