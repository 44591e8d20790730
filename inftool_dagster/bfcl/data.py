"""BFCL data from the pinned ``bfcl-eval`` wheel (fetched with ``pip download --no-deps``, cached).

Only ``bfcl_eval/data/`` is read: the questions and function docs per category, and the
possible answers. The package's dependency tree is never installed.
"""

from __future__ import annotations

import json
import os
import zipfile
from functools import cache
from pathlib import Path

from inftool_dagster.storage.wheels import cache_dir, fetch_wheel

BFCL_VERSION = "2026.3.23"
BFCL_REQUIREMENT = f"bfcl-eval=={BFCL_VERSION}"
BFCL_WHEEL = f"bfcl_eval-{BFCL_VERSION}-py3-none-any.whl"
BFCL_SHA256 = "3bb6dfa5f0c68ad403c9ec50b00db2bb3b4cc9b38ab1ff33f48fe30d853d3a0a"

PYTHON_AST = ("simple_python", "multiple", "parallel", "parallel_multiple")
NON_LIVE = (
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
)
LIVE = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple", "live_irrelevance", "live_relevance")
MULTI_TURN = ("multi_turn_base", "multi_turn_miss_func", "multi_turn_miss_param", "multi_turn_long_context")
ALL_CATEGORIES = NON_LIVE + LIVE + MULTI_TURN
AST = tuple(c for c in NON_LIVE + LIVE if not c.endswith("relevance"))
GROUPS = {
    "non_live": NON_LIVE,
    "live": LIVE,
    "multi_turn": MULTI_TURN,
    "ast": AST,
    "python_ast": PYTHON_AST,
    "single_turn": NON_LIVE + LIVE,
    "all": ALL_CATEGORIES,
}


def expand_categories(spec: str) -> list[str]:
    """``"ast,irrelevance"`` → categories; group names (``non_live``, ``live``, ``multi_turn``,
    ``ast``, ``python_ast``, ``single_turn``, ``all``) expand in place, duplicates dropped."""
    out: list[str] = []
    for name in (part.strip() for part in spec.split(",")):
        for category in GROUPS.get(name, (name,) if name else ()):
            if category not in out:
                out.append(category)
    return out


class BFCLDataError(RuntimeError):
    pass


def data_dir() -> Path:
    """The extracted ``bfcl_eval/data`` of the pinned wheel."""
    target = cache_dir() / "bfcl" / BFCL_VERSION
    marker = target / "VERIFIED"
    if marker.exists() and marker.read_text().strip() == BFCL_SHA256:
        return target
    wheel = fetch_wheel(BFCL_REQUIREMENT, BFCL_WHEEL, BFCL_SHA256)
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("bfcl_eval/data/") and member.endswith(".json"):
                out = target / member[len("bfcl_eval/data/") :]
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_suffix(".partial")
                tmp.write_bytes(archive.read(member))
                os.replace(tmp, out)
    marker.write_text(BFCL_SHA256)
    return target


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@cache
def load_category(category: str) -> tuple[dict, ...]:
    """Entries (id, question, function) with ``possible_answer`` attached where the category has one."""
    if category not in ALL_CATEGORIES:
        raise BFCLDataError(f"unknown BFCL category '{category}'; known: {', '.join(ALL_CATEGORIES)}")
    root = data_dir()
    path = root / f"BFCL_v4_{category}.json"
    if not path.exists():
        raise BFCLDataError(f"{path.name} is not in {BFCL_WHEEL}")
    entries = _jsonl(path)
    answers_path = root / "possible_answer" / path.name
    if answers_path.exists():
        answers = {a["id"]: a["ground_truth"] for a in _jsonl(answers_path)}
        for entry in entries:
            entry["possible_answer"] = answers.get(entry["id"])
    return tuple(entries)


def language_of(category: str) -> str:
    return "java" if category.endswith("java") else "javascript" if category.endswith("javascript") else "python"
