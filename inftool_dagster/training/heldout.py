"""Held-out synthetic evaluation: the policy on prompts whose tools it never saw in training.

The training set's ``grpo_heldout`` split holds prompts for tools kept out of training
(verification/views.py). The policy answers each greedily in the project's prompt format and
the gated rewards score it; ``accuracy`` is the share answered exactly right (well-formed, the
right functions, every gold argument matched, nothing hallucinated). Real APIs' tool names
and arguments are long: 48 new tokens cut a third of the call lists short (seen on the
APIs.guru slice), hence 128.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from inftool_dagster.llm.types import SamplingParams

from .rewards import REWARD_FUNCS
from .trainer import _prompts

EXACT = ("format", "name", "arguments")


def heldout_eval(backend: Any, frame: pl.DataFrame, weights: dict[str, float], max_new_tokens: int = 128) -> dict:
    if frame.is_empty():
        return {"prompts": 0, "reward": None, "accuracy": None}
    outputs = backend.generate_prompts(_prompts(frame, backend.tokenizer), SamplingParams(max_new_tokens=max_new_tokens))
    texts = [o[0].text for o in outputs]
    gold = frame["gold_calls"].to_list()
    scores = {name: REWARD_FUNCS[name](texts, gold) for name in {*weights, *EXACT} if name in REWARD_FUNCS}
    parts = {name: sum(values) / len(texts) for name, values in scores.items()}
    exact = sum(all(scores[n][i] >= 1.0 for n in EXACT) for i in range(len(texts))) / len(texts)
    reward = sum(weights[n] * parts[n] for n in weights if n in parts)
    return {"prompts": len(texts), "reward": round(reward, 4), "accuracy": round(exact, 4),
            **{n: round(v, 4) for n, v in parts.items()}}
