"""LLM backends (transformers, vLLM, OpenAI-compatible) and tool-call formats."""

from .backend import BackendConfig, LLMBackend, OpenAIConfig, TransformersConfig, VLLMConfig
from .factory import make_backend
from .tool_calls import ParseResult, ToolCall, parse_tool_calls
from .types import Generation, SamplingParams

__all__ = [
    "BackendConfig",
    "Generation",
    "LLMBackend",
    "OpenAIConfig",
    "ParseResult",
    "SamplingParams",
    "ToolCall",
    "TransformersConfig",
    "VLLMConfig",
    "make_backend",
    "parse_tool_calls",
]
