"""Verification gates, dedup and data-quality suites (no Dagster imports); the training views
built from the verified set are in ``training/views.py``."""

from .gates import GATES, GateConfig, Verifier
from .runner import CorruptTrajectories, VerifyConfig, read_trajectories, verify

__all__ = ["GATES", "GateConfig", "Verifier", "CorruptTrajectories", "VerifyConfig", "read_trajectories", "verify"]
