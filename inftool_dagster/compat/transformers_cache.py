"""transformers internals the generate path (``llm/shared_prefix.py``) and model loading use:
``DynamicCache.crop`` and ``batch_repeat_interleave``, a cache's per-layer ``keys``/``values``,
and the ``hf_quantizer`` flag a GGUF checkpoint keeps after it is dequantized. Callers ask
``shared_prefix_available()`` first and fall back to plain ``generate`` elsewhere."""

from __future__ import annotations

from typing import Any

from . import fast_path, mark

FEATURE = "transformers_cache"


def shared_prefix_available() -> bool:
    return fast_path(FEATURE)


def crop(cache: Any, keep: int) -> None:
    """Keep the first ``keep`` positions of ``cache``."""
    cache.crop(keep)


def repeat_rows(cache: Any, times: int) -> None:
    """Repeat the cache's (single) row ``times`` times along the batch axis, in place."""
    mark(FEATURE)
    cache.batch_repeat_interleave(times)


def layer_keys_values(cache: Any) -> list[tuple[Any, Any]]:
    """Each layer's ``(keys, values)`` tensors ``[batch, kv_heads, length, head_dim]``."""
    mark(FEATURE)
    return [(layer.keys, layer.values) for layer in cache.layers]


def drop_stale_gguf_quantizer(model: Any) -> None:
    """GGUF checkpoints load dequantized to float32 but stay flagged as quantized, which makes
    the Trainer refuse to fine-tune them. The weights are plain tensors: drop the stale flag
    (on a transformers version this was not written for, after a warning: nothing else loads
    a GGUF model for training)."""
    fast_path("gguf_quantizer_flag")
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None and type(quantizer).__name__ == "GgufHfQuantizer":
        model.hf_quantizer = None
        if "is_quantized" in vars(model):
            model.is_quantized = False
