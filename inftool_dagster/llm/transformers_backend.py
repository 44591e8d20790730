"""transformers backend: true batched generation with left padding, CPU or GPU."""

from __future__ import annotations

import logging
from typing import Any

from .backend import LLMBackend, TransformersConfig
from .prompts import render_prompt
from .types import Generation, Message, SamplingParams, truncate_at_stop

log = logging.getLogger(__name__)


class TransformersBackend(LLMBackend):
    name = "transformers"

    def __init__(self, config: TransformersConfig, *, model: Any = None, tokenizer: Any = None) -> None:
        import torch

        self.config = config
        if model is None or tokenizer is None:
            from inftool_dagster.models.loading import load_model, load_tokenizer
            from inftool_dagster.models.registry import resolve_model

            resolved = resolve_model(config.model)
            tokenizer = tokenizer or load_tokenizer(resolved)
            model = model or load_model(resolved, dtype=getattr(torch, config.dtype), device=config.device)
        self.model = model
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"  # decoder-only batching: pad on the left
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def prompts(self, conversations: list[list[Message]], tools: list[list[dict]] | None) -> list[str]:
        return [render_prompt(self.tokenizer, conv, tools[i] if tools else None, self.config.tool_format)
                for i, conv in enumerate(conversations)]

    def generate(self, conversations, params: SamplingParams, tools=None) -> list[list[Generation]]:
        prompts = self.prompts(conversations, tools)
        return self.generate_prompts(prompts, params)

    def generate_prompts(self, prompts: list[str], params: SamplingParams) -> list[list[Generation]]:
        """Generate for already-rendered prompts; items are length-bucketed into batches, and
        with ``shared_prefix`` the prefix the prompts share is computed once for the whole call."""
        from .shared_prefix import PrefixCache

        rows = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        out: list[list[Generation]] = [[] for _ in prompts]
        limit = self.config.max_prompt_tokens
        for i, row in enumerate(rows):
            if len(row) > limit:
                out[i] = [Generation.failure(f"prompt too long: {len(row)} tokens > max_prompt_tokens={limit}",
                                             kind="prompt_too_long") for _ in range(params.n)]
        items = [i for i in range(len(prompts)) for _ in range(params.n) if len(rows[i]) <= limit]
        items.sort(key=lambda i: (len(rows[i]), i))  # similar lengths together: less padding; copies adjacent
        prefix_cache = PrefixCache(self.model) if self.config.shared_prefix else None
        for start, chunk in self._batches(items, rows):
            for i, generation in zip(chunk, self._generate_splitting(chunk, rows, params, start, prefix_cache)):
                out[i].append(generation)
        return out

    def _generate_splitting(self, chunk: list[int], rows: list[list[int]], params: SamplingParams, offset: int,
                            prefix_cache: Any) -> list[Generation]:
        """Generate one batch; out of memory halves it and retries, and a single row that still
        does not fit is a recorded failure. Any other error propagates: a broken generation path
        must fail loudly, never read as empty outputs."""
        try:
            return self._generate_batch([rows[i] for i in chunk], params, offset, prefix_cache)
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
            log.warning("out of memory on a batch of %d rows: %s", len(chunk), str(exc)[:200])
            if len(chunk) == 1:
                return [Generation.failure(f"out of memory: {exc}"[:300])]
            half = len(chunk) // 2
            return (self._generate_splitting(chunk[:half], rows, params, offset, prefix_cache)
                    + self._generate_splitting(chunk[half:], rows, params, offset + half, prefix_cache))

    def _batches(self, items: list[int], rows: list[list[int]]):
        """(offset, chunk) over length-sorted ``items``: at most ``batch_size`` rows and at most
        ``max_batch_tokens`` tokens of padded prompt per chunk (always at least one row)."""
        start = 0
        while start < len(items):
            end = start + 1
            while (end < len(items) and end - start < self.config.batch_size
                   and (end - start + 1) * len(rows[items[end]]) <= self.config.max_batch_tokens):
                end += 1
            yield start, items[start:end]
            start = end

    def _generate_batch(self, rows: list[list[int]], params: SamplingParams, offset: int,
                        prefix_cache: Any = None) -> list[Generation]:
        import torch

        from .shared_prefix import generate_rows

        tok = self.tokenizer
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_new_tokens, "do_sample": params.temperature > 0}
        if params.temperature > 0:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
            if params.seed is not None:
                torch.manual_seed(params.seed + offset)
        if params.stop:
            kwargs.update(stop_strings=params.stop, tokenizer=tok)
        predicate_stop = None
        if params.stop_when is not None:
            from transformers import StoppingCriteriaList

            from .stopping import TextPredicateStop

            predicate_stop = TextPredicateStop(tok, params.stop_when)
            kwargs["stopping_criteria"] = StoppingCriteriaList([predicate_stop])
        new_tokens = generate_rows(self.model, rows, tok.pad_token_id, kwargs, prefix_cache)
        eos_ids = _eos_ids(self.model, tok)
        generations = []
        for index, (row, prompt) in enumerate(zip(new_tokens.tolist(), rows)):
            end = next((k for k, t in enumerate(row) if t in eos_ids), None)
            used = row[: end + 1] if end is not None else row
            text = tok.decode(used, skip_special_tokens=True)
            text, stopped = truncate_at_stop(text, params.stop)
            stopped = stopped or (predicate_stop is not None and predicate_stop.stopped(index)
                                  and len(used) < params.max_new_tokens)
            finish = "stop" if end is not None or stopped else "length"
            generations.append(Generation(text=text, prompt_tokens=len(prompt), completion_tokens=len(used),
                                          finish_reason=finish))
        return generations


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """End-of-sequence ids of the model's generation config and the tokenizer (a new set: the
    config's list is never modified)."""
    ids = model.generation_config.eos_token_id if model.generation_config is not None else None
    found = set(ids) if isinstance(ids, list) else {ids} if ids is not None else set()
    if tokenizer.eos_token_id is not None:
        found.add(tokenizer.eos_token_id)
    return found


def companion_backend(policy: TransformersBackend, model: str | None) -> TransformersBackend | None:
    """A second agent's backend on the policy's settings (the policy itself for the same model)."""
    if not model:
        return None
    if model == policy.config.model:
        return policy
    return TransformersBackend(policy.config.model_copy(update={"model": model}))
