"""Bundled modules of tools written as Python functions (``inftool catalog build py:...``)."""
