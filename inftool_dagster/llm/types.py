"""Backend-neutral generation types."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

Message = dict[str, Any]  # OpenAI chat format: {"role": ..., "content": ..., "tool_calls": ...}


class SamplingParams(BaseModel):
    """What every backend honours (the OpenAI chat-completions subset)."""

    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(0.0, ge=0.0)  # 0 = greedy
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)
    seed: int | None = None
    n: int = Field(1, ge=1)  # completions per prompt (GRPO groups)
    # Optional early end: True on a generated text ends that sequence (transformers backend; others ignore it).
    stop_when: Callable[[str], bool] | None = Field(None, exclude=True)
    # End a row as soon as its text is a complete bracketed call list ``[f(a=1), g()]`` (the
    # prompting format's answer): nothing after the closing bracket is generated.
    stop_after_calls: bool = False


@dataclass
class Generation:
    """One completion, or a recorded failure for that item (``error`` set, ``text`` empty)."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"  # stop | length | error
    error: str | None = None
    attempts: int = 1
    meta: dict[str, Any] = field(default_factory=dict)
    failure_kind: str | None = None  # prompt_too_long | generation_error (counted by evaluations)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failure(cls, reason: str, attempts: int = 1, kind: str = "generation_error") -> Generation:
        return cls(text="", finish_reason="error", error=reason, attempts=attempts, failure_kind=kind)


def count_failures(generations: list[list[Generation]]) -> dict[str, int]:
    """``{"generation_errors", "prompts_too_long"}`` over a batch's outputs (first sample of each item)."""
    kinds = [g[0].failure_kind for g in generations if g and not g[0].ok]
    return {
        "generation_errors": sum(k != "prompt_too_long" for k in kinds),
        "prompts_too_long": sum(k == "prompt_too_long" for k in kinds),
    }


def truncate_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the first stop string; (text, whether a stop was hit)."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
