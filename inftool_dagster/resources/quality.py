"""Data-quality bounds the round's checks enforce (typed, set per deployment or per run)."""

import dagster as dg


class DataQualityResource(dg.ConfigurableResource):
    """Bounds for the great-expectations suites on trajectories and the verified set."""

    min_pass_rate: float = 0.0  # a first round with a weak policy verifies few trajectories
    max_duplicate_rate: float = 0.5
    max_scenario_share: float = 0.6
    min_scenario_types: int = 1
    max_failure_share: float = 0.02  # evaluations: most share of failed generations before the round fails

    def bounds(self):
        from inftool_dagster.verification.quality import QualityBounds

        return QualityBounds(min_pass_rate=self.min_pass_rate, max_duplicate_rate=self.max_duplicate_rate,
                             max_scenario_share=self.max_scenario_share, min_scenario_types=self.min_scenario_types)
