"""Paired comparisons: two models scored on the same items.

Two rounds evaluated on the same BFCL entries or the same probe prompts differ only where one
passes and the other fails; McNemar's exact test asks whether those discordant items split
further from half and half than chance allows. It sees differences that two overlapping Wilson
intervals hide (the intervals ignore the pairing), and it is the test for "inside the noise"
wherever both sides' per-item outcomes are on record.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ALPHA = 0.05


def paired_difference(a: Mapping[str, bool], b: Mapping[str, bool]) -> dict | None:
    """``a`` against ``b`` on the items both were scored on: ``{"items", "a_only", "b_only",
    "p_value"}``, the two-sided exact McNemar p-value (a binomial test on the discordant items);
    None when they share no item."""
    from scipy.stats import binomtest

    common = [k for k in a if k in b]
    if not common:
        return None
    a_only = sum(1 for k in common if a[k] and not b[k])
    b_only = sum(1 for k in common if b[k] and not a[k])
    discordant = a_only + b_only
    p_value = binomtest(a_only, discordant, 0.5).pvalue if discordant else 1.0
    return {"items": len(common), "a_only": a_only, "b_only": b_only, "p_value": round(float(p_value), 4)}


def pooled_items(outcomes: Mapping[str, Mapping[str, bool]], weights: Mapping[str, float]) -> dict[str, bool] | None:
    """One summary's items (``category/entry_id``) when the summary is the plain share of them,
    i.e. every item weighs the same (a category's weight over its size is equal for all): then
    McNemar on the pooled items tests the summary. None when the weights differ or a category is missing."""
    if any(not outcomes.get(c) for c in weights):
        return None
    per_item = {round(w / len(outcomes[c]), 12) for c, w in weights.items()}
    if len(per_item) != 1:
        return None
    return {f"{c}/{i}": passed for c in weights for i, passed in outcomes[c].items()}


def verdict(result: dict) -> str:
    """``outside the noise`` when the paired test rejects equality at ``ALPHA``, else ``inside the noise``."""
    return "outside the noise" if result["p_value"] < ALPHA else "inside the noise"


def describe(result: dict | None) -> str:
    """``outside the noise (paired on 120 items: 9 only the first passes, 1 only the second,
    exact McNemar p = 0.021)`` for reports."""
    if not result:
        return "no paired outcomes"
    p = "p < 0.001" if result["p_value"] < 0.001 else f"p = {result['p_value']:.3f}"
    return (
        f"{verdict(result)} (paired on {result['items']} items: {result['a_only']} only the first passes, "
        f"{result['b_only']} only the second, exact McNemar {p})"
    )


def compare_runs(first: str | Path, second: str | Path) -> dict:
    """Two ``bfcl evaluate`` directories (two models, or one model twice) compared entry by entry:
    per category and per BFCL summary whose entries weigh the same, each side's count and the
    paired test. Raises ``BFCLDataError`` when they share no scored entry."""
    from inftool_dagster.bfcl import BFCLDataError, entry_outcomes
    from inftool_dagster.bfcl.evaluate import SUMMARIES, summary_weights

    a, b = entry_outcomes(first), entry_outcomes(second)
    rows: dict[str, dict] = {}
    for category in (c for c in a if c in b):
        rows[category] = _row(a[category], b[category])
    sizes = {c: {"total_count": len(a[c])} for c in rows}
    for summary in SUMMARIES:
        weights = summary_weights(sizes, summary)
        if not weights or len(weights) < 2:  # a one-category summary is that category's row
            continue
        pooled_a, pooled_b = pooled_items(a, weights), pooled_items(b, weights)
        if pooled_a and pooled_b:
            rows[summary] = _row(pooled_a, pooled_b)
    if not any(r["paired"] for r in rows.values()):
        raise BFCLDataError(f"{first} and {second} share no scored BFCL entry")
    return {"first": str(first), "second": str(second), "alpha": ALPHA, "comparisons": rows}


def _row(a: Mapping[str, bool], b: Mapping[str, bool]) -> dict:
    paired = paired_difference(a, b)
    common = [k for k in a if k in b]
    return {
        "first": f"{sum(a[k] for k in common)}/{len(common)}",
        "second": f"{sum(b[k] for k in common)}/{len(common)}",
        "paired": paired,
        "verdict": verdict(paired) if paired else "no shared entries",
    }
