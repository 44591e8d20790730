"""Counts and 95 % intervals for every accuracy the project reports.

A proportion gets the Wilson score interval (good at 0, 1 and small n). BFCL's summaries (a
weighted mean of category accuracies) get a normal interval on the mean of independent
proportions, each category's standard error taken from its Wilson half-width (so a category at
0 or 1 still contributes its uncertainty).
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(correct: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of ``correct/total`` (None when ``total`` is 0)."""
    if total <= 0:
        return None
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def proportion(correct: int, total: int) -> dict:
    """``{"accuracy", "correct", "total", "ci95"}`` for one count."""
    return {
        "accuracy": round(correct / total, 4) if total else None,
        "correct": int(correct),
        "total": int(total),
        "ci95": wilson(correct, total),
    }


def weighted_mean_of_proportions(parts: list[tuple[int, int, float]], z: float = Z95) -> dict | None:
    """Weighted mean of several proportions ``(correct, total, weight)`` with a normal 95 % interval,
    each proportion's standard error from its Wilson half-width (None if any is empty)."""
    if not parts or any(total <= 0 for _, total, _ in parts):
        return None
    mean = sum(w * c / t for c, t, w in parts)
    variance = sum((w * (wilson(c, t, z)[1] - wilson(c, t, z)[0]) / (2 * z)) ** 2 for c, t, w in parts)
    half = z * math.sqrt(variance)
    return {
        "accuracy": round(mean, 4),
        "correct": sum(c for c, _, _ in parts),
        "total": sum(t for _, t, _ in parts),
        "ci95": (round(max(0.0, mean - half), 4), round(min(1.0, mean + half), 4)),
        "categories": len(parts),
    }


def mean_of_proportions(parts: list[tuple[int, int]], z: float = Z95) -> dict | None:
    """Unweighted mean of several proportions with a normal 95 % interval (None if any is empty)."""
    return weighted_mean_of_proportions([(c, t, 1 / len(parts)) for c, t in parts], z) if parts else None


def mean_interval(values: list[float], z: float = Z95) -> tuple[float, float] | None:
    """Normal 95 % interval of a mean of scores in [0, 1] (a reward), clipped to [0, 1]."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return round(max(0.0, mean - z * sd / math.sqrt(n)), 4), round(min(1.0, mean + z * sd / math.sqrt(n)), 4)


def overlaps(a: dict | None, b: dict | None) -> bool | None:
    """Whether two results' intervals overlap (a difference inside the noise), None if unknown."""
    if not a or not b or not a.get("ci95") or not b.get("ci95"):
        return None
    return a["ci95"][0] <= b["ci95"][1] and b["ci95"][0] <= a["ci95"][1]


def fmt(result: dict | None, digits: int = 3) -> str:
    """``0.210 [0.172, 0.253] (84/400)`` for tables."""
    if not result or result.get("accuracy") is None:
        return "—"
    lo, hi = result["ci95"]
    return f"{result['accuracy']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}] ({result['correct']}/{result['total']})"
