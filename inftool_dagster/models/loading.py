"""Load a resolved model and tokenizer with transformers, strictly offline."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from inftool_dagster.compat.transformers_cache import drop_stale_gguf_quantizer

from .registry import ModelResolutionError, ResolvedModel, resolve_model


@contextmanager
def offline():
    """No hub traffic while loading: a missing file is an error, never a download."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_tokenizer(resolved: ResolvedModel):
    from transformers import AutoTokenizer

    with offline():
        tokenizer = AutoTokenizer.from_pretrained(resolved.path, **resolved.from_pretrained_kwargs())
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(resolved: ResolvedModel, *, dtype: Any = None, device: str | None = None):
    import torch
    from transformers import AutoModelForCausalLM

    with offline():
        try:
            model = AutoModelForCausalLM.from_pretrained(
                resolved.path, dtype=dtype or torch.float32, **resolved.from_pretrained_kwargs()
            )
        except OSError as exc:
            raise ModelResolutionError(f"cannot load {resolved.name!r} offline: {exc}") from exc
    drop_stale_gguf_quantizer(model)
    if device:
        model = model.to(device)
    model.eval()
    return model


@dataclass
class ModelInfo:
    name: str
    path: str
    gguf_file: str | None
    parameters: int
    context_length: int | None
    architecture: str
    chat_template: bool
    chat_template_tools: bool
    vocab_size: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def model_info(name_or_path: str) -> ModelInfo:
    resolved = resolve_model(name_or_path)
    tokenizer = load_tokenizer(resolved)
    model = load_model(resolved)
    config = model.config
    template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else None
    return ModelInfo(
        name=resolved.name,
        path=resolved.path,
        gguf_file=resolved.gguf_file,
        parameters=sum(p.numel() for p in model.parameters()),
        context_length=getattr(config, "max_position_embeddings", None),
        architecture=(config.architectures or [config.model_type])[0],
        chat_template=template is not None,
        chat_template_tools=bool(template and "tools" in template),
        vocab_size=len(tokenizer),
    )
