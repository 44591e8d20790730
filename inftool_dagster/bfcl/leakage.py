"""Guard against BFCL leaking into synthesis or training.

A training set must not contain a BFCL function name (as an offered or called tool) or a
BFCL question (normalized text). The index is built from every category's data in the
pinned wheel.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .data import ALL_CATEGORIES, load_category

_NORM = re.compile(r"[^a-z0-9]+")


def normalize_question(text: str) -> str:
    return _NORM.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class BFCLIndex:
    function_names: frozenset[str]
    questions: frozenset[str]


@lru_cache(maxsize=1)
def bfcl_index() -> BFCLIndex:
    names, questions = set(), set()
    for category in ALL_CATEGORIES:
        for entry in load_category(category):
            for function in entry.get("function") or []:
                names.add(function["name"])
            for turn in entry.get("question") or []:
                for message in turn if isinstance(turn, list) else [turn]:
                    if isinstance(message, dict) and message.get("role") == "user" and message.get("content"):
                        normalized = normalize_question(message["content"])
                        if len(normalized) >= 20:  # short generic turns ("yes", "thanks") are not leaks
                            questions.add(normalized)
    return BFCLIndex(frozenset(names), frozenset(questions))


@dataclass
class LeakReport:
    function_names: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.function_names and not self.questions


def find_leaks(tool_lists: list[str | list], chats: list[str | list]) -> LeakReport:
    """``tool_lists``: OpenAI tool lists (JSON or decoded); ``chats``: message lists (JSON or decoded)."""
    index = bfcl_index()
    report = LeakReport()
    names = set()
    for tools in tool_lists:
        for tool in json.loads(tools) if isinstance(tools, str) else tools:
            names.add(tool["function"]["name"] if "function" in tool else tool["name"])
    report.function_names = sorted(names & index.function_names)
    for chat in chats:
        for message in json.loads(chat) if isinstance(chat, str) else chat:
            if message.get("role") == "user" and normalize_question(message.get("content") or "") in index.questions:
                report.questions.append(message["content"])
    return report
