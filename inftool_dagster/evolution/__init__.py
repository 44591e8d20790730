"""Self-evolution: capability gaps → next round's targets; stop rules (no Dagster imports)."""

from .gaps import capability_gaps, error_kind, tool_weights
from .stopping import StopRule, should_stop

__all__ = ["capability_gaps", "error_kind", "tool_weights", "StopRule", "should_stop"]
