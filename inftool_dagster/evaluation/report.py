"""A round's record for reports (test split, held-out probe, yield, training rows by source) and
the by-round plot with 95 % error bars. Reads only report-side artifacts: nothing here feeds
the loop."""

from __future__ import annotations

import json
from pathlib import Path

from inftool_dagster.bfcl.evaluate import entry_outcomes, summary_weights
from inftool_dagster.evolution.plots import finish_png
from inftool_dagster.layout import RoundLayout

from .intervals import fmt
from .paired import describe, paired_difference, pooled_items

REPORT_SERIES = (
    ("BFCL test: non-live Python AST", "bfcl", "non_live_python_ast_summary"),
    ("BFCL test: irrelevance", "bfcl", "irrelevance"),
    ("held-out probe: exact", "heldout", "exact"),
    ("policy yield (fixed blueprints)", "yield", "yield"),
)


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def round_record(layout: RoundLayout) -> dict:
    """The report record of one round directory (``rounds/<key>``)."""
    test = _json(layout.bfcl_summary("test"))
    heldout_record = _json(layout.heldout_scores())
    heldout = {k: v for k, v in heldout_record.items() if k not in ("outputs", "hits")}
    yielded = _json(layout.yield_scores())
    training = _json(layout.training_summary())
    stages = _json(layout.policy_stages()).get("stages", {})
    rows = ["| category | accuracy [95% CI] (correct/total) |", "|---|---|"]
    rows += [f"| {c} | {fmt(r)} |" for c, r in test.get("categories", {}).items()]
    rows += [f"| **{c}** | {fmt(r)} |" for c, r in test.get("summaries", {}).items()]
    return {
        "round": layout.key,
        "bfcl_test": {
            "categories": test.get("categories", {}),
            "summaries": test.get("summaries", {}),
            "split": test.get("split"),
            "sample": test.get("sample"),
            "generation_errors": test.get("generation_errors"),
            "prompts_too_long": test.get("prompts_too_long"),
        },
        "bfcl_test_table": "\n".join(rows),
        "heldout": heldout,
        "yield": yielded,
        "training_rows": training.get("rows_by_source", {}),
        "training": _training_figures(stages),
        "outcomes": round_outcomes(layout, heldout_record),
    }


def round_outcomes(layout: RoundLayout, heldout: dict) -> dict:
    """Per-item verdicts, for paired comparisons between rounds: each BFCL test entry's and each
    held-out probe prompt's (``hits`` of the round's ``heldout.json`` record, in probe order, with
    the probe's fingerprint; None for a record written before it kept them)."""
    test = layout.bfcl("test")
    return {
        "bfcl": entry_outcomes(test) if (test / "summary.json").exists() else {},
        "heldout": {"probe": heldout.get("probe"), "hits": heldout["hits"]} if "hits" in heldout else None,
    }


def _training_figures(stages: dict) -> dict:
    """The round's training in a few figures: steps per stage, GRPO's boundary selection, reward
    curve and mean share of groups without reward variance."""
    grpo = stages.get("grpo", {})
    zero = grpo.get("frac_reward_zero_std") or []
    return {
        "steps": {m: s.get("steps") for m, s in stages.items()},
        "seconds_per_step": {m: s.get("seconds_per_step") for m, s in stages.items()},
        "boundary": grpo.get("boundary", {}),
        "rewards": grpo.get("rewards", []),
        "frac_reward_zero_std_mean": round(sum(zero) / len(zero), 4) if zero else None,
    }


def series_value(record: dict, source: str, key: str) -> dict | None:
    if source == "bfcl":
        test = record.get("bfcl_test", {})
        return test.get("summaries", {}).get(key) or test.get("categories", {}).get(key)
    return (record.get(source) or {}).get(key)


def series_outcomes(record: dict, source: str, key: str) -> dict[str, bool] | None:
    """The items behind one report series, ``{item: passed}``, where the record keeps them (None
    otherwise): a BFCL category's entries, a summary's pooled entries when each weighs the same,
    the probe's prompts (named by the probe's fingerprint, so two probes share no item)."""
    outcomes = record.get("outcomes") or {}
    if source == "bfcl":
        bfcl = outcomes.get("bfcl") or {}
        if key in bfcl:
            return bfcl[key]
        weights = summary_weights({c: {"total_count": len(v)} for c, v in bfcl.items()}, key)
        return pooled_items(bfcl, weights) if weights else None
    if source == "heldout" and key == "exact" and outcomes.get("heldout"):
        probe, hits = outcomes["heldout"]["probe"], outcomes["heldout"]["hits"]
        return {f"{probe}/{i}": bool(h) for i, h in enumerate(hits)}
    return None


def paired_lines(record: dict, earlier: dict) -> str:
    """Markdown lines: ``record`` against an ``earlier`` round on each series both keep per-item
    outcomes for, item by item (McNemar's exact test, ``evaluation.paired``)."""
    lines = []
    for name, source, key in REPORT_SERIES:
        result = paired_series(record, earlier, source, key)
        if result:
            now, then = (sum(series_outcomes(r, source, key).values()) for r in (record, earlier))
            lines.append(f"- {name}: {now} vs {then} in {earlier['round']} — {describe(result)}")
    return "\n".join(lines) or "—"


def paired_series(record: dict, other: dict, source: str, key: str) -> dict | None:
    """McNemar's exact test of ``record`` against ``other`` on one series' shared items (None where
    either record keeps no per-item outcomes for it)."""
    a, b = series_outcomes(record, source, key), series_outcomes(other, source, key)
    return paired_difference(a, b) if a and b else None


def report_png(records: list[dict], labels: list[str] | None = None) -> bytes:
    """Each report series by round, with 95 % intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = labels or [r["round"] for r in records]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for offset, (name, source, key) in enumerate(REPORT_SERIES):
        points = [(i, series_value(r, source, key)) for i, r in enumerate(records)]
        points = [(i + (offset - 1.5) * 0.05, v) for i, v in points if v and v.get("accuracy") is not None]
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [p[1]["accuracy"] for p in points]
        err = [[y - p[1]["ci95"][0] for p, y in zip(points, ys)], [p[1]["ci95"][1] - y for p, y in zip(points, ys)]]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=name)
    return finish_png(fig, ax, labels, "accuracy (95% CI)")
