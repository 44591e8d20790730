"""How a BFCL evaluation runs, with its defaults: the one place they are defined (``evaluate``,
the round's evaluation assets and ``inftool bfcl eval`` read them from here)."""

from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance"]


class EvalSettings(BaseModel):
    categories: list[str] = list(DEFAULT_CATEGORIES)  # a plain default: Dagster shows it in the launchpad
    max_new_tokens: int = Field(128, ge=1)
    prompt_format: str = Field(
        "bfcl",
        pattern="^(bfcl|compact)$",
        description="bfcl: BFCL's own prompt (leaderboard-comparable); compact: the "
        "project's, the one inftool-trained policies are trained on.",
    )
    stop_after_calls: bool = Field(True, description="End each output where its call list closes.")
