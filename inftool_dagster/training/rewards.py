"""Gated reward functions with TRL's signature: ``f(completions, gold_calls, **kwargs) -> list[float]``.

The format gate comes first: when a completion neither parses as tool calls nor is a correct
refusal/clarification (gold ``[]``), every component is 0. Behind it: function-name
correctness, then per-argument credit with BFCL-style normalization and a penalty per
hallucinated parameter, and (where a catalog is given) execution success on the MCP Server's
simulated tools. TRL sums the components with ``reward_weights`` and logs each one
per step (``rewards/<name>/mean``).
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from inftool_dagster.llm.tool_calls import parse_tool_calls
from inftool_dagster.verification.matching import values_match

HALLUCINATION_PENALTY = 0.25


def _text(completion: Any) -> str:
    if isinstance(completion, list):  # conversational: [{"role": "assistant", "content": ...}]
        return "".join(m.get("content") or "" for m in completion)
    return completion or ""


def _gold(value: Any) -> list[dict]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


def _parsed(completion: Any) -> tuple[bool, list[dict]]:
    """(parsed as calls, calls)."""
    result = parse_tool_calls(_text(completion))
    return result.ok, [{"name": c.name, "arguments": c.arguments} for c in result.calls] if result.ok else []


def _gate(completion: Any, ok: bool, calls: list[dict], gold: list[dict]) -> bool:
    """Calls that parse; with gold [] a plain answer (no call, nothing that looks like one attempted)."""
    return ok if gold else not calls and not _text(completion).lstrip().startswith(("[", "{", "<tool_call>"))


def format_gate(completion: Any, gold: list[dict]) -> bool:
    return _gate(completion, *_parsed(completion), gold)


def _gated(completions: list, gold_calls: list, score: Callable[[list[dict], list[dict]], float]) -> list[float]:
    """Parse each completion once; 0 behind a failed gate, 1 for a correct no-call, else ``score(calls, gold)``."""
    out = []
    for completion, gold in zip(completions, gold_calls):
        gold = _gold(gold)
        ok, calls = _parsed(completion)
        if not _gate(completion, ok, calls, gold):
            out.append(0.0)
        elif not gold:
            out.append(float(not calls))
        else:
            out.append(score(calls, gold))
    return out


def format_reward(completions: list, gold_calls: list, **_: Any) -> list[float]:
    """1 when the completion is well-formed for its scenario (calls, or a no-call answer when gold is [])."""
    return [float(format_gate(c, _gold(g))) for c, g in zip(completions, gold_calls)]


def _name_f1(calls: list[dict], gold: list[dict]) -> float:
    want, got = Counter(c["name"] for c in gold), Counter(c["name"] for c in calls)
    hit = sum((want & got).values())
    return 0.0 if not hit else 2 * hit / (sum(want.values()) + sum(got.values()))


def name_reward(completions: list, gold_calls: list, **_: Any) -> list[float]:
    """F1 of called function names against the gold's (1 for a correct no-call), 0 behind the gate."""
    return _gated(completions, gold_calls, _name_f1)


def _argument_credit(calls: list[dict], gold: list[dict]) -> float:
    remaining = list(calls)
    credit, total, extra = 0, 0, 0
    for want in gold:
        total += max(1, len(want["arguments"]))
        match = next((c for c in remaining if c["name"] == want["name"]), None)
        if match is None:
            continue
        remaining.remove(match)
        args = match["arguments"] if isinstance(match["arguments"], dict) else {}
        credit += sum(1 for k, v in want["arguments"].items() if k in args and values_match(args[k], v))
        credit += not want["arguments"] and not args
        extra += sum(1 for k in args if k not in want["arguments"])
    return max(0.0, credit / total - HALLUCINATION_PENALTY * extra)


def argument_reward(completions: list, gold_calls: list, **_: Any) -> list[float]:
    """Share of gold arguments matched (BFCL normalization), minus a penalty per hallucinated parameter."""
    return _gated(completions, gold_calls, _argument_credit)


def execution_reward_for(server: Any) -> Callable[..., list[float]]:
    """Share of a completion's calls the MCP Server executes (known tool, schema-valid arguments,
    no tool error), each completion in a fresh session; 0 behind the gate, 1 for a correct no-call."""
    from inftool_dagster.mcp_server.simulator import ToolCallError

    sessions = itertools.count()

    def executed(calls: list[dict], gold: list[dict]) -> float:
        session, ok = f"reward:{next(sessions)}", 0
        for call in calls:
            try:
                server.call(call["name"], call["arguments"], session_key=session)
                ok += 1
            except ToolCallError:
                pass
        return ok / len(calls) if calls else 0.0

    def execution_reward(completions: list, gold_calls: list, **_: Any) -> list[float]:
        return _gated(completions, gold_calls, executed)

    return execution_reward


REWARD_FUNCS = {"format": format_reward, "name": name_reward, "arguments": argument_reward}


def reward_functions(names: list[str], catalog_dir: str | None = None) -> list[Callable[..., list[float]]]:
    """The reward functions for ``names``; ``execution`` needs the catalog its MCP Server serves."""
    funcs = []
    for name in names:
        if name == "execution":
            if not catalog_dir:
                raise ValueError("the execution reward needs a tool catalog (catalog_dir / --catalog)")
            from inftool_dagster.mcp_server.server import CatalogServer

            funcs.append(execution_reward_for(CatalogServer.from_catalog(catalog_dir)))
        elif name in REWARD_FUNCS:
            funcs.append(REWARD_FUNCS[name])
        else:
            raise ValueError(f"unknown reward '{name}'; known: {', '.join([*REWARD_FUNCS, 'execution'])}")
    return funcs
