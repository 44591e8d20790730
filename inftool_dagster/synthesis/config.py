"""Synthesis settings and their defaults: the one place they are defined (the Dagster assets and
the CLI read them from here). Cheap to import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .blueprints import ScenarioMix


@dataclass
class SynthConfig:
    n: int
    seed: int = 0
    shard_size: int = 16
    # Shards synthesized together: their conversations share each turn's generate call, so the
    # decoder has more rows to batch (each shard is still written, and resumed, on its own).
    shards_per_wave: int = 4
    max_new_tokens: int = 96
    round_key: str = "adhoc"
    policy_model: str = ""
    simulator_model: str | None = None
    mix: ScenarioMix | None = None
    tool_weights: dict[str, float] | None = None
    tree_dir: str | None = None  # an MCP tree: plan from its canonical tools, domains and clusters
    realizer: str = "natural"  # the User Simulator's requests: "natural" (values in context) or the old "grammar"
