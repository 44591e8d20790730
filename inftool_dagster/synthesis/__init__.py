"""Multi-agent synthesis: scenario plan → User Simulator ⇄ Assistant ⇄ MCP Server → trajectories.

Names load on first use, so that ``synthesis.config`` (the settings) imports on its own."""

from __future__ import annotations

from inftool_dagster.lazy_exports import lazy_getattr

_WHERE = {
    "SCENARIO_TYPES": "blueprints",
    "Blueprint": "blueprints",
    "Planner": "blueprints",
    "ScenarioMix": "blueprints",
    "SynthConfig": "config",
    "export_hf": "runner",
    "export_jsonl": "runner",
    "load_trajectories": "runner",
    "realize_requests": "runner",
    "synthesize": "runner",
}
__all__ = sorted(_WHERE)


__getattr__ = lazy_getattr(__name__, _WHERE)
