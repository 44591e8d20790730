"""The API specifications a round ingests."""

import dagster as dg

from inftool_dagster.catalog.builder import DEFAULT_MAX_SPEC_BYTES
from inftool_dagster.catalog.sources import SAMPLE_PYTHON_TOOLS, SAMPLE_SPECS


class SpecSourcesResource(dg.ConfigurableResource):
    """Files, directories or ``.tgz`` archives of specs, ``.py`` files and ``py:`` modules of Python
    functions; empty means the bundled samples (specs and the sample module of functions)."""

    paths: list[str] = []
    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES
    workers: int = 0  # 0: one per CPU core

    def resolved_paths(self) -> list[str]:
        return list(self.paths) or [str(SAMPLE_SPECS), SAMPLE_PYTHON_TOOLS]
