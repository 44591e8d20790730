"""Verification gates, dedup, data-quality suites and training views (no Dagster imports)."""

from .gates import GATES, GateConfig, Verifier
from .runner import CorruptTrajectories, VerifyConfig, read_trajectories, verify

__all__ = ["GATES", "GateConfig", "Verifier", "CorruptTrajectories", "VerifyConfig", "read_trajectories", "verify"]
