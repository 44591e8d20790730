"""How the loop evolves by itself: the domain's ``EvolutionSettings`` (stop rule, gap boost,
headline score) as a Dagster resource, so its fields and defaults are defined once."""

import dagster as dg

from inftool_dagster.evolution.stopping import EvolutionSettings


class EvolutionResource(dg.ConfigurableResource, EvolutionSettings):
    """Set per deployment or per run (``resources.evolution.config``); it is a ``StopRule``."""
