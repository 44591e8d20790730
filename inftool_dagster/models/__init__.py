"""Model registry and offline loading (embedded default: SmolLM2-135M-Instruct)."""

from .registry import DEFAULT_MODEL, EMBEDDED, ModelResolutionError, ResolvedModel, resolve_model

__all__ = ["DEFAULT_MODEL", "EMBEDDED", "ModelResolutionError", "ResolvedModel", "resolve_model"]
