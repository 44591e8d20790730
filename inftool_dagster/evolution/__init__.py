"""Self-evolution: capability gaps → next round's targets; stop rules (no Dagster imports)."""

from .gaps import DevSplitRequired, capability_gaps, dev_results, error_kind, tool_weights
from .stopping import EvolutionSettings, StopRule, best_round, should_stop

__all__ = [
    "DevSplitRequired",
    "dev_results",
    "capability_gaps",
    "error_kind",
    "tool_weights",
    "EvolutionSettings",
    "StopRule",
    "should_stop",
    "best_round",
]
