"""Rounds of the self-evolution loop: one dynamic partition per round (r0000, r0001, …)."""

import dagster as dg

rounds = dg.DynamicPartitionsDefinition(name="rounds")


def round_key(index: int) -> str:
    return f"r{index:04d}"
