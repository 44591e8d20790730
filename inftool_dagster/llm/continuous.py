"""Continuous-batching decoding for Llama-family models: a fixed set of KV-cache slots, refilled
as rows finish, one forward per step for every live row.

Why not ``model.generate``: on 2 CPU cores a model that answers with call lists is decode-bound,
and batched ``generate`` wastes most of a step on rows that have already finished (a batch runs
until its longest row ends), re-allocates its growing cache every step, and builds its masks and
positions in Python for the whole padded batch. Here:

- each row lives in a *slot* of a preallocated cache ``[slots, kv_heads, max_len, head_dim]``
  per layer; a finished row's slot is refilled from the queue at once (no padding to the
  longest row, no idle rows while work remains);
- the prefix every prompt shares (the system prompt) is computed once and copied into slots,
  and so is the longer prefix a *block* of prompts shares (the same tool docs asked different
  questions: BFCL's live categories, a synthesis turn's conversations over one tool set); prompts
  asked for ``n`` samples (GRPO groups) are prefilled once and copied ``n`` times;
  prefill runs in token-bounded chunks, so a long prompt never needs a quadratic buffer;
- a decode step is one pass over the layers with the model's own modules (its ``Linear`` and
  ``RMSNorm``), rotary from the model's rotary module, and ``scaled_dot_product_attention``
  with grouped-query heads folded into the query axis (no repeated keys);
- each row stops on its own: end-of-sequence, the token limit, or a text rule the caller gives
  (stop strings, an early verdict, the end of a complete call list).

Greedy decoding is the model's argmax at every step, as ``generate`` does; outputs can differ
from ``generate`` only where float rounding in a different batch shape flips a near-tie
(measured in ``benchmarks/bench_inference_trained.py``). Architectures outside
``SUPPORTED`` use ``model.generate``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from inftool_dagster.compat import fast_path, mark

from .prefix_blocks import Block, BlockPrefixes, deepest, prefix_blocks
from .shared_prefix import MIN_SHARED, common_prefix_length

SUPPORTED = frozenset({"llama", "mistral", "qwen2"})  # pre-norm decoders with (optionally biased) q/k/v, GQA, RoPE


def supports(model: Any) -> bool:
    """Whether ``model`` has the layout this decoder runs, on a transformers version it was
    written for (``compat``); else use ``generate``."""
    config = getattr(model, "config", None)
    inner = getattr(model, "model", None)
    if getattr(config, "model_type", None) not in SUPPORTED or not fast_path("continuous_decoder"):
        return False
    return (
        getattr(config, "sliding_window", None) is None
        and inner is not None
        and hasattr(inner, "rotary_emb")
        and hasattr(inner, "layers")
    )


@dataclass
class DecodeSettings:
    max_new_tokens: int
    eos_ids: frozenset[int]
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int | None = None
    # A rule on a row's generated token ids; True ends the row after its latest token.
    stop: Callable[[list[int]], bool] | None = None


@dataclass
class Output:
    tokens: list[int] = field(default_factory=list)
    stopped: bool = False  # ended by EOS or the stop rule (not the token limit)


class ContinuousDecoder:
    """Decode many prompts through ``slots`` cache slots (fewer when prompts are long, so that
    slots × longest row stays within ``max_cache_tokens``)."""

    def __init__(
        self,
        model: Any,
        *,
        slots: int = 32,
        max_cache_tokens: int = 65536,
        prefill_tokens: int = 4096,
        prefix_blocks: bool = True,
    ) -> None:
        if not supports(model):
            raise ValueError(
                f"continuous decoding supports {sorted(SUPPORTED)}, not {getattr(model.config, 'model_type', '?')}"
            )
        self.model = model
        self.inner = model.model
        self.slots = slots
        self.max_cache_tokens = max_cache_tokens
        self.prefill_tokens = prefill_tokens
        self.prefix_blocks = prefix_blocks  # False: only the prefix common to all prompts is shared
        config = model.config
        self.heads = config.num_attention_heads
        self.kv_heads = getattr(config, "num_key_value_heads", None) or self.heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.groups = self.heads // self.kv_heads
        self.scale = self.head_dim**-0.5

    # -- public -------------------------------------------------------------------------------

    def generate(
        self, prompts: Sequence[Sequence[int]], settings: DecodeSettings, copies: Sequence[int] | None = None
    ) -> list[list[Output]]:
        """``copies[i]`` outputs (default 1) for each prompt, in order."""
        mark("continuous_decoder")
        copies = list(copies) if copies is not None else [1] * len(prompts)
        outputs: list[list[Output]] = [[Output() for _ in range(c)] for c in copies]
        generator = None
        if settings.temperature > 0:
            generator = torch.Generator(device=self.model.device)
            generator.manual_seed(settings.seed if settings.seed is not None else torch.seed() % 2**31)
        blocks = prefix_blocks(prompts) if self.prefix_blocks else [Block([i], 0) for i in range(len(prompts))]
        block_of = deepest(blocks)
        # the prompts of each deepest block together, the groups by length (rows decoding together
        # have similar lengths, and a run's cache is sized by its longest row)
        groups: dict[int, list[int]] = {}
        for i in (i for b in blocks for i in b.members):
            groups.setdefault(id(block_of[i]) if i in block_of else -1 - i, []).append(i)
        ordered = sorted(groups.values(), key=lambda g: (max(len(prompts[i]) for i in g), g[0]))
        order = [i for group in ordered for i in group]
        with torch.inference_mode():
            for tier in self._tiers(order, prompts, settings.max_new_tokens, copies):
                self._run(tier, prompts, copies, outputs, settings, generator, block_of)
        return outputs

    # -- scheduling ---------------------------------------------------------------------------

    def _tiers(
        self, order: list[int], prompts: Sequence[Sequence[int]], max_new: int, copies: list[int]
    ) -> list[list[int]]:
        """Prompts (about length-sorted) in as few runs as memory allows: a run's cache holds
        min(slots, rows) x its longest row within ``max_cache_tokens``; a row that would break
        that starts the next run (with fewer slots)."""
        tiers: list[list[int]] = []
        rows = longest = 0
        for i in order:
            longest_with = max(longest, len(prompts[i]))
            need = min(self.slots, rows + copies[i]) * (longest_with + max_new)
            if not tiers or (need > self.max_cache_tokens and rows > 0):
                tiers.append([])
                rows = longest = 0
            tiers[-1].append(i)
            rows += copies[i]
            longest = max(longest, len(prompts[i]))
        return tiers

    def _run(
        self,
        items: list[int],
        prompts: Sequence[Sequence[int]],
        copies: list[int],
        outputs: list[list[Output]],
        settings: DecodeSettings,
        generator: Any,
        block_of: dict[int, Block],
    ) -> None:
        max_len = max(len(prompts[i]) for i in items) + settings.max_new_tokens
        slots = max(1, min(self.slots, self.max_cache_tokens // max_len, sum(copies[i] for i in items)))
        cache = _SlotCache(self.inner, slots, max_len, self.kv_heads, self.head_dim)
        shared = common_prefix_length([prompts[i] for i in items])
        shared = min(shared, min(len(prompts[i]) for i in items) - 1)
        prefix = self.prefix_kv(list(prompts[items[0]][:shared])) if shared >= MIN_SHARED else None
        shared = shared if prefix is not None else 0
        prefixes = BlockPrefixes(self, prompts, items, copies, block_of, prefix, shared)
        # work: (prompt index, copy index) pairs, a prompt's copies together
        queue = deque((i, c) for i in items for c in range(copies[i]))
        owner: list[tuple[int, int] | None] = [None] * slots
        tokens = torch.zeros(slots, dtype=torch.long, device=self.model.device)
        live = 0
        while queue or live:
            free = [s for s in range(slots) if owner[s] is None]
            if queue and (len(free) >= max(1, slots // 8) or live == 0):
                live += self._fill(free, queue, prompts, owner, tokens, cache, prefixes, outputs, settings, generator)
            if live == 0:
                continue
            for s in range(slots):  # rows ended by their first token need no decode step
                if owner[s] is not None and self._finished(owner[s], outputs, settings):
                    owner[s] = None
                    live -= 1
            if live == 0:
                continue
            if not queue:
                owner, tokens = self._compact(owner, tokens, cache)
            width = max(s for s in range(len(owner)) if owner[s] is not None) + 1
            logits = self._decode_step(tokens[:width], cache, width)
            chosen = _select(logits, settings, generator)
            tokens[:width] = chosen
            alive = torch.tensor([o is not None for o in owner[:width]], device=tokens.device)
            cache.lengths[:width] += alive  # a free slot keeps its length: it never runs past its cache
            for s, token in enumerate(chosen.tolist()):
                if owner[s] is not None:
                    i, c = owner[s]
                    outputs[i][c].tokens.append(token)

    def _finished(self, slot_owner: tuple[int, int], outputs: list[list[Output]], settings: DecodeSettings) -> bool:
        out = outputs[slot_owner[0]][slot_owner[1]]
        if out.tokens and out.tokens[-1] in settings.eos_ids:
            out.stopped = True
            return True
        if settings.stop is not None and out.tokens and settings.stop(out.tokens):
            out.stopped = True
            return True
        return len(out.tokens) >= settings.max_new_tokens

    def _compact(self, owner: list, tokens: Any, cache: _SlotCache) -> tuple[list, Any]:
        """With the queue empty, move live rows to the front when at most half the slots are
        live, so steps run on a narrower batch (a copy per halving, not per step)."""
        live = [s for s in range(len(owner)) if owner[s] is not None]
        width = max(live) + 1
        if len(live) > width // 2 or width <= 1:
            return owner, tokens
        index = torch.tensor(live, device=tokens.device)
        cache.keep(index)
        moved = tokens.clone()
        moved[: len(live)] = tokens[index]
        return [owner[s] for s in live] + [None] * (len(owner) - len(live)), moved

    def _fill(
        self,
        free: list[int],
        queue: deque,
        prompts: Sequence[Sequence[int]],
        owner: list,
        tokens: Any,
        cache: _SlotCache,
        prefixes: BlockPrefixes,
        outputs: list[list[Output]],
        settings: DecodeSettings,
        generator: Any,
    ) -> int:
        """Prefill queued rows into free slots (each distinct prompt once, after the longest prefix
        already computed for it, copied to its other samples' slots); sample their first tokens.
        Returns the number of rows started."""
        taken: list[tuple[int, int, int]] = []  # (slot, prompt, copy)
        while queue and len(taken) < len(free):
            i, c = queue.popleft()
            taken.append((free[len(taken)], i, c))
        firsts: dict[int, int] = {}
        for slot, i, _ in taken:
            firsts.setdefault(i, slot)
        by_prefix: dict[int | None, list[int]] = {}  # prompts grouped by the prefix they start from
        for i in firsts:
            by_prefix.setdefault(prefixes.key(i), []).append(i)
        logits_by_prompt: dict[int, Any] = {}
        for key, members in by_prefix.items():
            prefix, shared = prefixes.get(key)
            logits_by_prompt.update(self._prefill_grouped(members, prompts, firsts, cache, prefix, shared))
        for _, i, _ in taken:
            prefixes.taken(i)
        for slot, i, c in taken:
            if slot != firsts[i]:
                cache.copy(firsts[i], slot, len(prompts[i]))
            cache.lengths[slot] = len(prompts[i])
            owner[slot] = (i, c)
        rows = torch.stack([logits_by_prompt[i] for _, i, _ in taken])
        chosen = _select(rows, settings, generator)
        for k, (slot, i, c) in enumerate(taken):
            tokens[slot] = chosen[k]
            outputs[i][c].tokens.append(int(chosen[k]))
        return len(taken)

    def _prefill_grouped(
        self,
        distinct: list[int],
        prompts: Sequence[Sequence[int]],
        firsts: dict[int, int],
        cache: _SlotCache,
        prefix: Any,
        shared: int,
    ) -> dict[int, Any]:
        """Prefill ``distinct`` prompts after ``shared`` prefix tokens, in forwards of rows of like
        length (within the token budget, padding <= 1/2); each prompt's last-token logits."""
        logits_by_prompt: dict[int, Any] = {}
        budget = max(1, self.prefill_tokens)
        distinct = sorted(distinct, key=lambda i: len(prompts[i]))
        start = 0
        while start < len(distinct):
            end = start + 1
            while end < len(distinct):
                width = len(prompts[distinct[end]]) - shared
                real = sum(len(prompts[i]) - shared for i in distinct[start : end + 1])
                if (end - start + 1) * width > min(budget, real * 3 // 2):
                    break
                end += 1
            group = distinct[start:end]
            logits = self._prefill(
                [list(prompts[i][shared:]) for i in group], [firsts[i] for i in group], cache, prefix, shared
            )
            for k, i in enumerate(group):
                logits_by_prompt[i] = logits[k]
            start = end
        return logits_by_prompt

    # -- model passes -------------------------------------------------------------------------

    def prefix_kv(self, ids: list[int], parent: Any = None, parent_length: int = 0) -> list[tuple[Any, Any]]:
        """Keys and values of a shared prefix, per layer (``[1, kv_heads, P, head_dim]``),
        computed after the already computed ``parent`` prefix of ``parent_length`` tokens."""
        cache = _SlotCache(self.inner, 1, len(ids), self.kv_heads, self.head_dim)
        self._prefill([ids[parent_length:]], [0], cache, parent, parent_length)
        return [(k[:, :, : len(ids)].clone(), v[:, :, : len(ids)].clone()) for k, v in zip(cache.keys, cache.values)]

    def _prefill(self, suffixes: list[list[int]], slots: list[int], cache: _SlotCache, prefix: Any, shared: int) -> Any:
        """Run ``suffixes`` (after ``shared`` prefix tokens) into ``slots``; logits of each last token."""
        device = self.model.device
        rows = len(suffixes)
        width = max(len(s) for s in suffixes)
        pad = 0
        ids = torch.tensor([s + [pad] * (width - len(s)) for s in suffixes], device=device)
        slot_index = torch.tensor(slots, device=device)
        if prefix is not None:
            for layer, (k, v) in enumerate(prefix):
                cache.keys[layer][slot_index, :, :shared] = k
                cache.values[layer][slot_index, :, :shared] = v
        chunk = max(1, self.prefill_tokens // rows)
        last = torch.tensor([len(s) - 1 for s in suffixes], device=device)
        result = torch.empty(rows, self.model.config.vocab_size, dtype=torch.float32, device=device)
        for begin in range(0, width, chunk):
            part = ids[:, begin : begin + chunk]
            positions = torch.arange(shared + begin, shared + begin + part.shape[1], device=device)
            positions = positions.unsqueeze(0).expand(rows, -1)
            end = shared + begin + part.shape[1]
            mask = torch.arange(end, device=device)[None, :] <= positions[0][:, None]  # [T, end] causal
            hidden = self._layers(part, positions, cache, slot_index, mask[None, None], end, begin_at=shared + begin)
            inside = (last >= begin) & (last < begin + part.shape[1])
            for r in torch.nonzero(inside).flatten().tolist():
                result[r] = self._logits(hidden[r, int(last[r]) - begin])
        return result

    def _decode_step(self, tokens: Any, cache: _SlotCache, width: int) -> Any:
        lengths = cache.lengths[:width]
        end = int(lengths.max()) + 1
        mask = torch.arange(end, device=tokens.device)[None, :] <= lengths[:, None]  # [width, end]
        hidden = self._layers(
            tokens[:, None], lengths[:, None], cache, None, mask[:, None, None], end, begin_at=None, width=width
        )
        return self._logits(hidden[:, 0])

    def _layers(
        self,
        ids: Any,
        positions: Any,
        cache: _SlotCache,
        slot_index: Any,
        mask: Any,
        end: int,
        begin_at: int | None,
        width: int | None = None,
    ) -> Any:
        """The decoder stack on ``ids`` ``[B, T]`` at ``positions``, writing keys/values into the
        cache: at ``begin_at`` in ``slot_index``'s slots (prefill) or at each slot's length
        (decode, slots ``0..width``)."""
        inner = self.inner
        hidden = inner.embed_tokens(ids)
        cos, sin = inner.rotary_emb(hidden, positions)
        batch, steps = ids.shape
        rows = torch.arange(batch, device=ids.device)
        for layer, block in enumerate(inner.layers):
            attn = block.self_attn
            x = block.input_layernorm(hidden)
            q = attn.q_proj(x).view(batch, steps, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(x).view(batch, steps, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(x).view(batch, steps, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)  # the Llama/Qwen2/Mistral RoPE
            q, k, v = q.to(cache.dtype), k.to(cache.dtype), v.to(cache.dtype)
            keys, values = cache.keys[layer], cache.values[layer]
            if begin_at is None:  # decode: one token per slot at its own length
                keys[rows, :, positions[:, 0]] = k[:, :, 0]
                values[rows, :, positions[:, 0]] = v[:, :, 0]
                k_all, v_all = keys[:width, :, :end], values[:width, :, :end]
            else:
                keys[slot_index, :, begin_at : begin_at + steps] = k
                values[slot_index, :, begin_at : begin_at + steps] = v
                if batch == 1:  # a view of the one slot, no gather copy
                    one = slice(int(slot_index[0]), int(slot_index[0]) + 1)
                    k_all, v_all = keys[one, :, :end], values[one, :, :end]
                else:
                    k_all, v_all = keys[slot_index, :, :end], values[slot_index, :, :end]
            # grouped-query attention without repeating keys: a kv head's query heads on the query axis
            q = q.reshape(batch, self.kv_heads, self.groups * steps, self.head_dim)
            group_mask = mask if steps == 1 else mask.repeat(1, 1, self.groups, 1)
            out = F.scaled_dot_product_attention(q, k_all, v_all, attn_mask=group_mask, scale=self.scale)
            out = out.reshape(batch, self.heads, steps, self.head_dim).transpose(1, 2).reshape(batch, steps, -1)
            hidden = hidden + attn.o_proj(out.to(hidden.dtype))
            hidden = hidden + block.mlp(block.post_attention_layernorm(hidden))
        return hidden

    def _logits(self, hidden: Any) -> Any:
        return self.model.lm_head(self.inner.norm(hidden)).float()


class _SlotCache:
    """Per layer ``[slots, kv_heads, max_len, head_dim]`` keys and values, and each slot's length."""

    def __init__(self, inner: Any, slots: int, max_len: int, kv_heads: int, head_dim: int) -> None:
        weight = inner.embed_tokens.weight
        shape = (slots, kv_heads, max_len, head_dim)
        # On CPU the cache and attention stay in float32 even for bf16 weights: the small batched
        # matmuls of attention run faster in float32 there (measured), and softmax is exact.
        self.dtype = torch.float32 if weight.device.type == "cpu" else weight.dtype
        self.keys = [torch.zeros(shape, dtype=self.dtype, device=weight.device) for _ in inner.layers]
        self.values = [torch.zeros(shape, dtype=self.dtype, device=weight.device) for _ in inner.layers]
        self.lengths = torch.zeros(slots, dtype=torch.long, device=weight.device)

    def copy(self, source: int, target: int, length: int) -> None:
        for keys, values in zip(self.keys, self.values):
            keys[target, :, :length] = keys[source, :, :length]
            values[target, :, :length] = values[source, :, :length]

    def keep(self, index: Any) -> None:
        """Keep only the slots in ``index``, moved to the front (the rest become free slots)."""
        n = index.numel()
        for keys, values in zip(self.keys, self.values):
            keys[:n] = keys[index]
            values[:n] = values[index]
        self.lengths[:n] = self.lengths[index].clone()
        self.lengths[n:] = 0


def _select(logits: Any, settings: DecodeSettings, generator: Any) -> Any:
    """Next tokens: argmax (greedy), or a sample after transformers' temperature and nucleus
    (top-p) warpers, as ``generate`` samples."""
    if settings.temperature <= 0:
        return logits.argmax(-1)
    scores = TemperatureLogitsWarper(settings.temperature)(None, logits)
    if settings.top_p < 1.0:
        scores = TopPLogitsWarper(settings.top_p)(None, scores)
    return torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(-1)
