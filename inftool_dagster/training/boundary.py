"""Prompts at the policy's capability boundary, for GRPO.

A GRPO group whose completions all get the same reward has zero advantage: it costs a rollout
and a backward pass and moves nothing (TRL logs the share as ``frac_reward_zero_std``). Before
training, each candidate prompt gets ``num_generations`` sampled completions from the policy
being trained, scored with the training rewards; only prompts whose group has more than one
reward value are kept (DAPO's dynamic sampling, done once per stage instead of per batch). The
rollouts use the project's continuous decoder on a bf16 copy where the CPU computes bf16
natively, as GRPO's own rollouts do.
"""

from __future__ import annotations

import random
import time
from typing import Any

from .config import TrainConfig
from .rewards import reward_functions


def group_rewards(completions: list[list[str]], gold_calls: list[Any], config: TrainConfig) -> list[list[float]]:
    """The weighted training reward of every completion, per prompt."""
    names = list(config.reward_weights)
    funcs = reward_functions(names, config.catalog_dir)
    flat = [c for group in completions for c in group]
    golds = [g for group, g in zip(completions, gold_calls) for _ in group]
    total = [0.0] * len(flat)
    for name, func in zip(names, funcs):
        for i, value in enumerate(func(flat, golds)):
            total[i] += config.reward_weights[name] * value
    out, start = [], 0
    for group in completions:
        out.append(total[start : start + len(group)])
        start += len(group)
    return out


def sample_groups(model: Any, tokenizer: Any, prompts: list[str], config: TrainConfig) -> list[list[str]]:
    """``num_generations`` sampled completions per prompt (the GRPO rollout settings)."""
    import torch

    from inftool_dagster.llm.backend import resolve_dtype
    from inftool_dagster.llm.continuous import ContinuousDecoder, DecodeSettings, supports

    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    eos = tokenizer.eos_token_id
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rollout = model
    if resolve_dtype(config.rollout_dtype, device) == "bfloat16" and model.dtype == torch.float32:
        import copy

        rollout = copy.deepcopy(model).to(torch.bfloat16)
    rollout.eval()
    try:
        if supports(rollout):
            settings = DecodeSettings(
                max_new_tokens=config.max_completion_length,
                eos_ids=frozenset([eos] if isinstance(eos, int) else eos),
                temperature=config.temperature,
                seed=config.seed,
            )
            outputs = ContinuousDecoder(rollout).generate(ids, settings, copies=[config.num_generations] * len(ids))
            return [[tokenizer.decode(s.tokens, skip_special_tokens=True) for s in group] for group in outputs]
        torch.manual_seed(config.seed)
        groups = []
        with torch.no_grad():
            for row in ids:
                prompt = torch.tensor([row], device=rollout.device)
                new = rollout.generate(
                    prompt,
                    do_sample=True,
                    temperature=config.temperature,
                    max_new_tokens=config.max_completion_length,
                    num_return_sequences=config.num_generations,
                    pad_token_id=tokenizer.pad_token_id or eos,
                )
                groups.append(tokenizer.batch_decode(new[:, len(row) :], skip_special_tokens=True))
        return groups
    finally:
        model.train()


def boundary_rows(model: Any, tokenizer: Any, rows: dict[str, list], config: TrainConfig) -> tuple[dict, dict]:
    """The rows (``prompt``, ``gold_calls``) whose sampled group has reward variance, from at most
    ``config.boundary_candidates`` candidates drawn at random, and what the selection saw."""
    start = time.perf_counter()
    order = list(range(len(rows["prompt"])))
    random.Random(config.seed).shuffle(order)
    order = order[: config.boundary_candidates]
    prompts = [rows["prompt"][i] for i in order]
    golds = [rows["gold_calls"][i] for i in order]
    rewards = group_rewards(sample_groups(model, tokenizer, prompts, config), golds, config)
    varied = [i for i, r in zip(order, rewards) if max(r) - min(r) > 1e-6]
    means = [sum(r) / len(r) for r in rewards]
    stats = {
        "candidates": len(order),
        "kept": len(varied),
        "all_same_reward": len(order) - len(varied),
        "all_zero": sum(max(r) <= 1e-6 for r in rewards),
        "all_full": sum(min(r) >= 1 - 1e-6 for r in rewards),
        "mean_reward": round(sum(means) / len(means), 4) if means else None,
        "seconds": round(time.perf_counter() - start, 2),
    }
    if not varied:  # nothing at the boundary: train on the candidates rather than not at all
        stats["fallback"] = "no candidate had reward variance; GRPO uses every candidate"
        varied = order
    return {k: [v[i] for i in varied] for k, v in rows.items()}, stats
