"""One interface for every LLM backend, chosen by typed configuration.

``generate(conversations, params, tools)`` takes a batch of OpenAI-format conversations and
returns one list of ``n`` Generations per conversation; a failing item is a recorded
failure, never a lost batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from inftool_dagster.models.registry import DEFAULT_MODEL

from .types import Generation, Message, SamplingParams


class LLMBackend(ABC):
    name: str = "backend"

    @abstractmethod
    def generate(
        self, conversations: list[list[Message]], params: SamplingParams, tools: list[list[dict]] | None = None
    ) -> list[list[Generation]]:
        """Completions for each conversation (``tools[i]``: OpenAI tool dicts offered to conversation i)."""

    def describe(self) -> dict:
        """How this backend generates (recorded beside results)."""
        return {"backend": self.name}

    def close(self) -> None:  # noqa: B027 - an optional hook: most backends hold nothing to release
        """Release what the backend holds (servers, engines)."""


class TransformersConfig(BaseModel):
    kind: Literal["transformers"] = "transformers"
    model: str = DEFAULT_MODEL
    device: str = "cpu"
    # "auto": bfloat16 where the hardware computes it natively (CPUs with AVX512-BF16 or AMX, GPUs
    # with bf16), float32 elsewhere (llm/backend.resolve_dtype)
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: int = 8
    tool_format: Literal["auto", "native", "prompt"] = "auto"
    # "continuous": llm/continuous.py (slots refilled as rows finish, shared prefix once, per-row
    # stops) for Llama-family models; "generate": transformers' batched ``generate`` (any model,
    # and the baseline the benchmarks compare against). Unsupported architectures use "generate".
    decoder: Literal["continuous", "generate"] = "continuous"
    slots: int = 32  # continuous: rows decoded together (fewer when prompts are long: max_cache_tokens)
    max_cache_tokens: int = 65536  # continuous: slots x longest row held in the KV cache
    prefix_blocks: bool = True  # continuous: prompts sharing more than the common prefix share it (prefix_blocks.py)
    shared_prefix: bool = True  # generate: compute the prompts' common prefix once per call (llm/shared_prefix.py)
    # Memory stays bounded on long prompts (real specs' deep schemas, long tool results): a batch
    # holds at most max_batch_tokens prompt tokens (fewer rows when prompts are long; generate),
    # and a prompt over max_prompt_tokens is a recorded failed item, not generated.
    max_batch_tokens: int = 16384
    max_prompt_tokens: int = 8192


class VLLMConfig(BaseModel):
    kind: Literal["vllm"] = "vllm"
    model: str
    dtype: str = "auto"
    gpu_memory_utilization: float = 0.85
    max_model_len: int | None = None
    tool_format: Literal["auto", "native", "prompt"] = "auto"


class OpenAIConfig(BaseModel):
    kind: Literal["openai"] = "openai"
    model: str
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: str = "EMPTY"
    max_concurrency: int = 8
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_s: float = 0.5


def resolve_dtype(dtype: str, device: str = "cpu") -> str:
    """``auto`` → ``bfloat16`` on hardware with native bf16 arithmetic, else ``float32``."""
    if dtype != "auto":
        return dtype
    if device.startswith("cuda"):
        import torch

        return "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
    return "bfloat16" if device == "cpu" and _cpu_has_bf16() else "float32"


def _cpu_has_bf16() -> bool:
    try:
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "").split()
    except OSError:  # not Linux: stay on float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


BackendConfig = Annotated[TransformersConfig | VLLMConfig | OpenAIConfig, Field(discriminator="kind")]
