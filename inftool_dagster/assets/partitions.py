"""Rounds of the self-evolution loop: one dynamic partition per round (r0000, r0001, …)."""

import dagster as dg

from inftool_dagster.layout import RoundLayout

rounds = dg.DynamicPartitionsDefinition(name="rounds")


def round_key(index: int) -> str:
    return f"r{index:04d}"


ROUND_JOB = "inftool_round"
PARENT_TAG = "inftool/parent_round"  # the round a run continues from (Dagster has no N-1 partition mapping)
ROUND_TAG = "inftool/round"


def parent_round(context) -> str | None:
    """The parent round of the run executing ``context`` (its run tag), or None for round 0."""
    return context.run.tags.get(PARENT_TAG)


def this_round(context, workspace) -> RoundLayout:
    """The artifact paths of the round (partition) ``context`` runs."""
    return workspace.round(context.partition_key)


def parent_layout(context, workspace) -> RoundLayout | None:
    """The artifact paths of the run's parent round, or None for round 0."""
    parent = parent_round(context)
    return workspace.round(parent) if parent else None
