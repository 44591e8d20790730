"""Runs of the round job on a real, persistent Dagster instance (``inftool round run``) and a
probe of the Dagster UI's GraphQL API (``inftool ui``, the UI tests)."""
