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
            from .backend import resolve_dtype

            dtype = resolve_dtype(config.dtype, config.device)
            model = model or load_model(resolved, dtype=getattr(torch, dtype), device=config.device)
        self.model = model
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "left"  # decoder-only batching: pad on the left
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._continuous = None
        if config.decoder == "continuous":
            from .continuous import ContinuousDecoder, supports

            if supports(self.model):
                self._continuous = ContinuousDecoder(
                    self.model,
                    slots=config.slots,
                    max_cache_tokens=config.max_cache_tokens,
                    prefix_blocks=config.prefix_blocks,
                )
            else:
                log.info(
                    "continuous decoding does not support %s; using generate",
                    getattr(self.model.config, "model_type", "?"),
                )

    def describe(self) -> dict:
        rows = {"slots": self.config.slots} if self._continuous is not None else {"batch_size": self.config.batch_size}
        return {
            "backend": self.name,
            "decoder": self.decoder,
            "dtype": str(self.model.dtype).removeprefix("torch."),
            **rows,
        }

    @property
    def decoder(self) -> str:
        """The decoder in use: ``continuous`` or ``generate``."""
        return "continuous" if self._continuous is not None else "generate"

    def _generate_continuous(self, rows: list[list[int]], params: SamplingParams) -> list[list[Generation]]:
        """All rows and their ``n`` samples through the continuous decoder; texts cut and
        reasons set as the ``generate`` path does."""
        from .continuous import DecodeSettings

        tok = self.tokenizer
        settings = DecodeSettings(
            max_new_tokens=params.max_new_tokens,
            eos_ids=frozenset(_eos_ids(self.model, tok)),
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop=_text_stop(tok, params),
        )
        try:
            outputs = self._continuous.generate(rows, settings, copies=[params.n] * len(rows))
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
            log.warning("out of memory in continuous decoding (%s); this call falls back to generate", str(exc)[:200])
            return self._generate_items(rows, params)
        result = []
        for row, samples in zip(rows, outputs):
            generations = []
            for sample in samples:
                text, cut = _cut(tok.decode(sample.tokens, skip_special_tokens=True), params)
                generations.append(
                    Generation(
                        text=text,
                        prompt_tokens=len(row),
                        completion_tokens=len(sample.tokens),
                        finish_reason="stop" if sample.stopped or cut else "length",
                    )
                )
            result.append(generations)
        return result

    def prompts(self, conversations: list[list[Message]], tools: list[list[dict]] | None) -> list[str]:
        return [
            render_prompt(self.tokenizer, conv, tools[i] if tools else None, self.config.tool_format)
            for i, conv in enumerate(conversations)
        ]

    def generate(self, conversations, params: SamplingParams, tools=None) -> list[list[Generation]]:
        prompts = self.prompts(conversations, tools)
        return self.generate_prompts(prompts, params)

    def generate_prompts(self, prompts: list[str], params: SamplingParams) -> list[list[Generation]]:
        """Generate for already-rendered prompts (a prompt over ``max_prompt_tokens`` is a
        recorded failure) with the configured decoder."""
        rows = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        out: list[list[Generation]] = [[] for _ in prompts]
        limit = self.config.max_prompt_tokens
        for i, row in enumerate(rows):
            if len(row) > limit:
                out[i] = [
                    Generation.failure(
                        f"prompt too long: {len(row)} tokens > max_prompt_tokens={limit}", kind="prompt_too_long"
                    )
                    for _ in range(params.n)
                ]
        kept = [i for i in range(len(prompts)) if len(rows[i]) <= limit]
        run = self._generate_continuous if self._continuous is not None else self._generate_items
        for i, generations in zip(kept, run([rows[i] for i in kept], params)):
            out[i] = generations
        return out

    def _generate_items(self, rows: list[list[int]], params: SamplingParams) -> list[list[Generation]]:
        """``transformers.generate`` over length-bucketed batches of the rows' ``n`` samples."""
        from inftool_dagster.compat.transformers_cache import shared_prefix_available

        from .shared_prefix import PrefixCache

        out: list[list[Generation]] = [[] for _ in rows]
        items = [i for i in range(len(rows)) for _ in range(params.n)]
        items.sort(key=lambda i: (len(rows[i]), i))  # similar lengths together: less padding; copies adjacent
        prefix_cache = PrefixCache(self.model) if self.config.shared_prefix and shared_prefix_available() else None
        for start, chunk in self._batches(items, rows):
            for i, generation in zip(chunk, self._generate_splitting(chunk, rows, params, start, prefix_cache)):
                out[i].append(generation)
        return out

    def _generate_splitting(
        self, chunk: list[int], rows: list[list[int]], params: SamplingParams, offset: int, prefix_cache: Any
    ) -> list[Generation]:
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
            return self._generate_splitting(
                chunk[:half], rows, params, offset, prefix_cache
            ) + self._generate_splitting(chunk[half:], rows, params, offset + half, prefix_cache)

    def _batches(self, items: list[int], rows: list[list[int]]):
        """(offset, chunk) over length-sorted ``items``: at most ``batch_size`` rows and at most
        ``max_batch_tokens`` tokens of padded prompt per chunk (always at least one row)."""
        start = 0
        while start < len(items):
            end = start + 1
            while (
                end < len(items)
                and end - start < self.config.batch_size
                and (end - start + 1) * len(rows[items[end]]) <= self.config.max_batch_tokens
            ):
                end += 1
            yield start, items[start:end]
            start = end

    def _generate_batch(
        self, rows: list[list[int]], params: SamplingParams, offset: int, prefix_cache: Any = None
    ) -> list[Generation]:
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
            text, stopped = _cut(tok.decode(used, skip_special_tokens=True), params)
            stopped = stopped or (
                predicate_stop is not None and predicate_stop.stopped(index) and len(used) < params.max_new_tokens
            )
            finish = "stop" if end is not None or stopped else "length"
            generations.append(
                Generation(text=text, prompt_tokens=len(prompt), completion_tokens=len(used), finish_reason=finish)
            )
        return generations


def _cut(text: str, params: SamplingParams) -> tuple[str, bool]:
    """A generated text cut at its first stop string and, with ``stop_after_calls``, after its
    closed call list; (text, whether it was cut). Both decoders finish their texts here."""
    text, cut = truncate_at_stop(text, params.stop)
    if params.stop_after_calls:
        from .tool_calls import call_list_end

        end = call_list_end(text)
        if end is not None:
            return text[:end], True
    return text, cut


def _text_stop(tokenizer: Any, params: SamplingParams):
    """The per-row rule on generated text (stop strings, ``stop_when`` on an output's first
    tokens, a closed call list), or None when the params set none."""
    if not (params.stop or params.stop_when or params.stop_after_calls):
        return None
    from .tool_calls import call_list_end

    def stop(tokens: list[int]) -> bool:
        text = tokenizer.decode(tokens, skip_special_tokens=True)
        if params.stop and any(s and s in text for s in params.stop):
            return True
        if params.stop_when is not None and len(tokens) <= PREDICATE_TOKENS and params.stop_when(text):
            return True
        return params.stop_after_calls and call_list_end(text) is not None

    return stop


PREDICATE_TOKENS = 24  # ``stop_when`` decides on an output's start (as ``TextPredicateStop``)


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


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
