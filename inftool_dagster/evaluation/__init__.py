"""Measurement that can be trusted: intervals on every accuracy, the fixed held-out probe, and
the policy's own data yield (plain Python, no Dagster imports)."""
