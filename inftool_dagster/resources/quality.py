"""Data-quality bounds the round's checks enforce: the domain's ``QualityBounds`` as a Dagster
resource (typed, set per deployment or per run), so its fields and defaults are defined once."""

import dagster as dg

from inftool_dagster.verification.quality import QualityBounds


class DataQualityResource(dg.ConfigurableResource, QualityBounds):
    """Bounds for the great-expectations suites on trajectories and the verified set; it is a
    ``QualityBounds``."""
