"""How the loop evolves by itself: stop rule and how strongly gaps steer the next round."""

import dagster as dg


class EvolutionResource(dg.ConfigurableResource):
    max_rounds: int = 5
    patience: int = 2  # rounds without BFCL improvement before stopping
    min_improvement: float = 0.0
    gap_boost: float = 2.0  # next weight = weight × (1 + gap_boost × error rate)
    score_key: str = "non_live_python_ast_summary"  # the headline score in bfcl/summary.json

    def stop_rule(self):
        from inftool_dagster.evolution import StopRule

        return StopRule(max_rounds=self.max_rounds, patience=self.patience, min_improvement=self.min_improvement)
