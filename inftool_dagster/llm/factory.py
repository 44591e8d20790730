"""Build the backend a config describes. Kept apart from ``backend.py`` (the interface and the
configs), which every backend imports, so that no module imports its own importer."""

from __future__ import annotations

from typing import Any

from .backend import BackendConfig, LLMBackend, OpenAIConfig, TransformersConfig, VLLMConfig


def make_backend(config: Any) -> LLMBackend:
    """Build the backend a config describes (a dict is validated first)."""
    from pydantic import TypeAdapter

    cfg = TypeAdapter(BackendConfig).validate_python(config) if isinstance(config, dict) else config
    if isinstance(cfg, TransformersConfig):
        from .transformers_backend import TransformersBackend

        return TransformersBackend(cfg)
    if isinstance(cfg, VLLMConfig):
        from .vllm_backend import VLLMBackend

        return VLLMBackend(cfg)
    if isinstance(cfg, OpenAIConfig):
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(cfg)
    raise TypeError(f"unknown backend config {cfg!r}")
