"""Stable, unique, identifier-safe function names.

Names must be valid identifiers for every tool-calling format (OpenAI: ``^[a-zA-Z0-9_-]{1,64}$``,
Python call lists: identifiers), stable across runs, and unique across a whole catalog.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

MAX_NAME = 64
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


_NAME_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def name_words(name: str) -> list[str]:
    """A parameter's name as the words people would read in it: ``petId`` / ``from_currency`` /
    ``x-amz-date`` → ``["pet", "id"]`` / ``["from", "currency"]`` / ``["x", "amz", "date"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)
    return _NAME_WORD.findall(re.sub(r"[_\-.]+", " ", spaced).lower())


def snake(text: str) -> str:
    """``listPets`` / ``pets.list`` / ``GET /pets/{id}`` → ``list_pets`` / ``pets_list`` / ``get_pets_id``."""
    text = _CAMEL.sub("_", text)
    text = _NON_WORD.sub("_", text).strip("_").lower()
    return re.sub(r"_+", "_", text)


def short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:length]


def identifier(text: str, *, fallback: str = "fn") -> str:
    """An identifier-safe name of at most 64 characters (a hash keeps truncated names distinct)."""
    name = snake(text) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if len(name) > MAX_NAME:
        name = f"{name[: MAX_NAME - 9].rstrip('_')}_{short_hash(text)}"
    return name


def operation_base_name(spec_slug: str, operation_id: str | None, method: str, path: str) -> str:
    """``{spec}_{operationId}`` or, without an operationId, ``{spec}_{method}_{path}``."""
    path_words = re.sub(r"\{([^}]*)\}", r"by_\1", path)
    local = operation_id if operation_id else f"{method}_{path_words}"
    local_snake = snake(local) or method
    prefix = snake(spec_slug)
    if prefix and not local_snake.startswith(prefix + "_"):
        local_snake = f"{prefix}_{local_snake}"
    return identifier(local_snake, fallback="api")


def make_unique(base_names: list[str], keys: list[str]) -> list[str]:
    """Give every name that occurs more than once a hash of its stable key as suffix.

    Order-independent: a name's final form depends only on the set of names and its own key.
    """
    counts = Counter(base_names)
    out: list[str] = []
    for name, key in zip(base_names, keys):
        if counts[name] > 1:
            suffix = short_hash(key, length=8)
            name = f"{name[: MAX_NAME - 9].rstrip('_')}_{suffix}"
        out.append(name)
    # A key collision (same key twice) is a true duplicate; number them deterministically.
    seen: Counter[str] = Counter()
    final = []
    for name in out:
        seen[name] += 1
        final.append(name if seen[name] == 1 else f"{name[: MAX_NAME - 4]}_{seen[name]:03d}")
    return final
