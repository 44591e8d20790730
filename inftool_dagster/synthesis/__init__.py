"""Multi-agent synthesis: scenario plan → User Simulator ⇄ Assistant ⇄ MCP Server → trajectories."""

from .blueprints import SCENARIO_TYPES, Blueprint, Planner, ScenarioMix
from .runner import SynthConfig, export_hf, export_jsonl, load_trajectories, synthesize

__all__ = ["SCENARIO_TYPES", "Blueprint", "Planner", "ScenarioMix", "SynthConfig", "export_hf", "export_jsonl",
           "load_trajectories", "synthesize"]
