"""Held-out evaluation: the policy on prompts whose tools it never saw in training.

The policy answers each prompt of the fixed held-out probe (evaluation/probe.py) greedily in
the project's prompt format and the gated rewards score it. ``exact`` is BFCL-style: well-
formed, the right functions, every gold argument matched, nothing hallucinated (for a "do not
call" prompt: no call). Every figure carries its counts and 95 % interval, overall and per
scenario type; failed generations are counted, never silently scored. Real APIs' tool names
and arguments are long: 48 new tokens cut a third of the call lists short, hence 128.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from inftool_dagster.bfcl.settings import EvalSettings
from inftool_dagster.evaluation.intervals import mean_interval, proportion
from inftool_dagster.llm.prompts import prompt_mode_messages
from inftool_dagster.llm.types import SamplingParams, count_failures

from .rewards import REWARD_FUNCS

EXACT = ("format", "name", "arguments")
_EVAL = EvalSettings()  # the probe generates as BFCL evaluation does by default


def probe_conversations(frame: pl.DataFrame) -> list[list[dict]]:
    """GRPO-style rows (``prompt`` and ``tools`` JSON) as chats in the project's prompt format (the
    tools in the system message, the way the policy is trained), so that every backend —
    transformers, vLLM, an OpenAI-compatible server — sees the same text."""
    return [
        prompt_mode_messages(json.loads(p), json.loads(t))
        for p, t in zip(frame["prompt"].to_list(), frame["tools"].to_list())
    ]


def heldout_eval(
    backend: Any,
    frame: pl.DataFrame,
    weights: dict[str, float],
    max_new_tokens: int = _EVAL.max_new_tokens,
    stop_after_calls: bool = _EVAL.stop_after_calls,
) -> dict:
    """The probe's figures; ``stop_after_calls`` ends an output where its call list closes (only the
    calls are scored, as in ``bfcl.evaluate``), so a policy that talks on after calling costs no time."""
    if frame.is_empty():
        return {
            "prompts": 0,
            "reward": None,
            "accuracy": None,
            "exact": None,
            "generation_errors": 0,
            "prompts_too_long": 0,
        }
    params = SamplingParams(max_new_tokens=max_new_tokens, stop_after_calls=stop_after_calls)
    outputs = backend.generate(probe_conversations(frame), params)
    failures = count_failures(outputs)
    texts = [o[0].text if o[0].ok else "" for o in outputs]
    gold = frame["gold_calls"].to_list()
    scores = {name: REWARD_FUNCS[name](texts, gold) for name in {*weights, *EXACT} if name in REWARD_FUNCS}
    parts = {name: sum(values) / len(texts) for name, values in scores.items()}
    hits = exact_hits(scores, [o[0].ok for o in outputs])
    reward = sum(weights[n] * parts[n] for n in weights if n in parts)
    per_prompt = [sum(weights[n] * scores[n][i] for n in weights if n in scores) for i in range(len(texts))]
    kinds = frame["scenario_type"].to_list() if "scenario_type" in frame.columns else ["all"] * len(texts)
    by_scenario = {
        kind: proportion(sum(h for h, k in zip(hits, kinds) if k == kind), kinds.count(kind))
        for kind in sorted(set(kinds))
    }
    exact = proportion(sum(hits), len(hits))
    return {
        "prompts": len(texts),
        "reward": round(reward, 4),
        "reward_ci95": mean_interval(per_prompt),
        "parts_ci95": {n: mean_interval(scores[n]) for n in sorted(scores)},
        "accuracy": exact["accuracy"],
        "exact": exact,
        "by_scenario": by_scenario,
        **failures,
        **{n: round(v, 4) for n, v in parts.items()},
        "generation": {"max_new_tokens": max_new_tokens, "stop_after_calls": stop_after_calls},
        "outputs": texts,
        "hits": hits,
    }


def exact_hits(scores: dict[str, list[float]], ok: list[bool]) -> list[bool]:
    """Each prompt's exact verdict from its reward scores: every ``EXACT`` part full. A failed
    generation is wrong (an empty text would pass a "do not call" prompt), and counted apart."""
    return [ok[i] and all(scores[n][i] >= 1.0 for n in EXACT) for i in range(len(ok))]


def rescore_hits(record: dict, frame: pl.DataFrame) -> list[bool]:
    """The exact verdicts of a ``heldout_eval`` record written before it kept ``hits``, from its
    ``outputs`` (where a generation failed, its text is empty). Raises if they do not add up to
    the record's own count: the frame is not the probe it was scored on."""
    texts = record["outputs"]
    failed = record.get("generation_errors", 0) + record.get("prompts_too_long", 0)
    gold = frame["gold_calls"].to_list()
    scores = {n: REWARD_FUNCS[n](texts, gold) for n in EXACT}
    hits = exact_hits(scores, [bool(t) or not failed for t in texts])
    if sum(hits) != record["exact"]["correct"]:
        raise ValueError(f"rescored {sum(hits)} exact hits, the record says {record['exact']['correct']}")
    return hits
