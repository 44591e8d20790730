"""Generation that computes a shared prompt prefix once instead of once per sequence.

On 2 CPU cores prefill is most of the cost of a BFCL entry or a GRPO group: every BFCL prompt
begins with the same system prompt, and a GRPO group is ``n`` copies of one prompt. Here the
prefix common to a batch is run through the model once (batch 1), its KV cache is repeated
to the batch, and ``model.generate`` continues from it with only the suffixes as new input:

    ids:  [ shared prefix | pad … pad | suffix_i ]     attention_mask 0 on the pads

Positions come from the attention mask, so each row sees exactly the positions and keys it
would see unpadded; greedy outputs equal plain ``generate`` up to float rounding (tested).
A prefix cache is kept per job (``PrefixCache``) so that chunks after the first only extend it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from inftool_dagster.compat.transformers_cache import crop, layer_keys_values, repeat_rows

MIN_SHARED = 16  # shorter common prefixes are not worth a separate forward pass


def common_prefix_length(rows: Sequence[Sequence[int]]) -> int:
    """Length of the longest token prefix all ``rows`` share."""
    if not rows:
        return 0
    first, n = rows[0], min(len(r) for r in rows)
    for k in range(n):
        token = first[k]
        if any(r[k] != token for r in rows):
            return k
    return n


class PrefixCache:
    """The KV cache of one token prefix, extended (never recomputed) for longer prefixes."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.ids: list[int] = []
        self.cache: Any = None

    def for_prefix(self, ids: list[int]) -> Any:
        """A fresh copy of the cache holding exactly ``ids`` (reusing what is already computed)."""
        import torch
        from transformers import DynamicCache

        keep = common_prefix_length([self.ids, ids])
        if self.cache is None or keep == 0:
            self.ids, self.cache = [], DynamicCache(config=self.model.config)
        elif keep < len(self.ids):
            crop(self.cache, keep - len(self.ids))  # negative: tokens to drop
            self.ids = self.ids[:keep]
        if len(ids) > len(self.ids):
            new = torch.tensor([ids[len(self.ids) :]], device=self.model.device)
            with torch.inference_mode():
                self.model(input_ids=new, past_key_values=self.cache, use_cache=True, logits_to_keep=1)
            self.ids = list(ids)
        return copy.deepcopy(self.cache)


def _left_padded(rows: list[list[int]], pad_id: int, device: Any) -> tuple[Any, Any]:
    """Token rows left-padded to the longest, and their attention mask."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.tensor([[pad_id] * (width - len(r)) + r for r in rows], device=device)
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
    return ids, mask


def _with_pad_id(generate_kwargs: dict, pad_id: int) -> dict:
    """A GenerationConfig carries its own pad id; plain keyword arguments get ``pad_id``."""
    return generate_kwargs if "generation_config" in generate_kwargs else {"pad_token_id": pad_id, **generate_kwargs}


def generate_rows(
    model: Any, rows: list[list[int]], pad_id: int, generate_kwargs: dict, prefix_cache: PrefixCache | None = None
) -> Any:
    """New tokens (a ``[len(rows), T]`` tensor, pad-filled after EOS) for token-id ``rows``.

    With a ``prefix_cache`` the rows' common prefix (all but each row's last token at most)
    is computed once; without one, or when the common prefix is short, this is plain
    left-padded ``generate``.
    """
    import torch

    device = model.device
    generate_kwargs = _with_pad_id(generate_kwargs, pad_id)
    shared = min(common_prefix_length(rows), min(len(r) for r in rows) - 1)
    if prefix_cache is None or shared < MIN_SHARED:
        ids, mask = _left_padded(rows, pad_id, device)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, **generate_kwargs)
        return out[:, ids.shape[1] :]
    prefix = rows[0][:shared]
    cache = prefix_cache.for_prefix(prefix)
    repeat_rows(cache, len(rows))
    suffixes = [r[shared:] for r in rows]
    width = max(len(s) for s in suffixes)
    ids = torch.tensor([prefix + [pad_id] * (width - len(s)) + s for s in suffixes], device=device)
    mask = torch.tensor([[1] * shared + [0] * (width - len(s)) + [1] * len(s) for s in suffixes], device=device)
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=mask, past_key_values=cache, **generate_kwargs)
    return out[:, shared + width :]


def generate_groups(
    model: Any,
    prompts: list[list[int]],
    copies: list[int],
    pad_id: int,
    generate_kwargs: dict,
    prefix_cache: PrefixCache,
) -> Any:
    """New tokens for ``copies[i]`` completions of each distinct prompt, decoded as one batch.

    Each prompt (but its last token) is prefilled once through ``prefix_cache`` (so prompts
    also share their common start), its KV cache is left-padded to the longest prompt and
    repeated to its copies; ``generate`` then runs every completion of every prompt together,
    the way GRPO wants a group (one prompt, many samples) and a step (several groups).
    """
    import torch
    import torch.nn.functional as F
    from transformers import DynamicCache

    width = max(len(p) for p in prompts)
    caches = [prefix_cache.for_prefix(p[:-1]) for p in prompts]
    repeats = torch.tensor(copies, device=model.device)
    cache = DynamicCache(config=model.config)
    layers = [layer_keys_values(part) for part in caches]
    for index in range(len(layers[0])):
        keys, values = [], []
        for part in layers:
            layer_keys, layer_values = part[index]
            pad = width - 1 - layer_keys.shape[-2]  # left-pad the sequence axis with masked slots
            keys.append(F.pad(layer_keys, (0, 0, pad, 0)))
            values.append(F.pad(layer_values, (0, 0, pad, 0)))
        cache.update(
            torch.cat(keys).repeat_interleave(repeats, dim=0),
            torch.cat(values).repeat_interleave(repeats, dim=0),
            index,
        )
    ids, mask = _left_padded([p for p, n in zip(prompts, copies) for _ in range(n)], pad_id, model.device)
    with torch.inference_mode():
        out = model.generate(
            input_ids=ids, attention_mask=mask, past_key_values=cache, **_with_pad_id(generate_kwargs, pad_id)
        )
    return out[:, width:]
