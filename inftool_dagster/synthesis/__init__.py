"""Multi-agent synthesis: scenario plan → User Simulator ⇄ Assistant ⇄ MCP Server → trajectories.

Names load on first use, so that ``synthesis.config`` (the settings) imports on its own."""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "SCENARIO_TYPES": "blueprints",
    "Blueprint": "blueprints",
    "Planner": "blueprints",
    "ScenarioMix": "blueprints",
    "SynthConfig": "config",
    "export_hf": "runner",
    "export_jsonl": "runner",
    "load_trajectories": "runner",
    "synthesize": "runner",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
