"""Writes the headline experiment's report (docs/headline.md, docs/img/headline.png) from its
results, so that every figure in the doc comes from ``experiments/headline.py``."""

from __future__ import annotations

from pathlib import Path

from inftool_dagster.evaluation.intervals import fmt, overlaps
from inftool_dagster.evaluation.paired import describe, verdict
from inftool_dagster.evaluation.report import REPORT_SERIES, paired_series, report_png, series_value
from inftool_dagster.evolution import best_round

SUMMARY = "non_live_python_ast_summary"
# issue 22's aims for the best loop round (by dev), on the test split; "heldout_exact": the probe
AIMS = {
    "simple_python": 0.60,
    "multiple": 0.50,
    "parallel": 0.30,
    "irrelevance": 0.70,
    SUMMARY: 0.40,
    "live_simple": 0.40,
    "heldout_exact": 0.30,
}


def _aim_value(row: dict, key: str) -> dict | None:
    return row.get("heldout", {}).get("exact") if key == "heldout_exact" else series_value(row, "bfcl", key)


def _aims_table(results: dict) -> list[str]:
    """The aims against the loop round chosen on dev, with the base model beside it; an aim counts
    as met when the point estimate reaches it (the interval says how surely)."""
    best, base = _chosen_round(results, "loop"), results.get("base")
    if not best:
        return ["- (no loop round yet)"]
    lines = [
        f"| figure (test split) | aim | base | loop {best['round']} (best dev) | met |",
        "|---|---|---|---|---|",
    ]
    for key, aim in AIMS.items():
        value = _aim_value(best, key)
        met = "—" if not value or value.get("accuracy") is None else ("yes" if value["accuracy"] >= aim else "no")
        lines.append(f"| {key} | ≥ {aim:.2f} | {fmt(_aim_value(base, key)) if base else '—'} | {fmt(value)} | {met} |")
    return lines


def _cell(result: dict | None) -> str:
    if not result or result.get("accuracy") is None:
        return "—"
    lo, hi = result["ci95"]
    return f"{result['accuracy']:.3f} [{lo:.2f}, {hi:.2f}]"


def _rows(results: dict) -> list[tuple[str, dict]]:
    rows = [("—", results["base"])] if results.get("base") else []
    for name, variant_rows in results.get("variants", {}).items():
        rows += [(name, r) for r in sorted(variant_rows, key=lambda r: r["round"])]
    return rows


def _bfcl_table(results: dict) -> list[str]:
    rows = _rows(results)
    categories = list(next((r["bfcl_test"]["categories"] for _, r in rows if r.get("bfcl_test")), {}))
    sizes = {
        c: next(r["bfcl_test"]["categories"][c]["total"] for _, r in rows if c in r["bfcl_test"]["categories"])
        for c in categories
    }
    head = (
        "| variant | round | "
        + " | ".join(f"{c} (n={sizes[c]})" for c in categories)
        + " | non-live Python AST | failed |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in rows:
        test = r["bfcl_test"]
        failed = (test.get("generation_errors") or 0) + (test.get("prompts_too_long") or 0)
        lines.append(
            f"| {name} | {r['round']} | "
            + " | ".join(_cell(test["categories"].get(c)) for c in categories)
            + f" | {_cell(test['summaries'].get(SUMMARY))} | {failed} |"
        )
    return lines


def _loop_table(results: dict) -> list[str]:
    head = (
        "| variant | round | Assistant that synthesized | held-out exact | held-out reward | policy yield "
        "| SFT rows (policy / gold replay / gold only) | GRPO prompts (boundary kept / candidates) "
        "| frac_reward_zero_std | dev score (loop's input) | minutes |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, r in _rows(results):
        sft = r.get("training_rows", {}).get("sft", {})
        grpo = r.get("training_rows", {}).get("grpo_prompts", {}).get("gold", "—")
        by = r.get("synthesized_by")
        source = (
            "—"
            if by is None
            else ", ".join(
                "base model" if "/" not in b else b.split("/rounds/")[-1].split("/policy")[0] + " checkpoint"
                for b in by
            )
        )
        heldout = r.get("heldout", {})
        dev = f"{r['dev_score']:.3f}" if r.get("dev_score") is not None else "—"
        lines.append(
            f"| {name} | {r['round']} | {source} | {fmt(heldout.get('exact'))} | "
            f"{_reward(heldout)} | {fmt(r.get('yield', {}).get('yield'))} | "
            f"{_sources(sft)} | {grpo}{_boundary(r)} | {_zero_std(r)} | {dev} | {r.get('minutes', '—')}"
            + (" (copied from loop)" if r.get("shared_with") else "")
            + " |"
        )
    return lines


def _sources(sft: dict) -> str:
    return " / ".join(str(sft.get(k, 0)) for k in ("policy", "gold_replay", "gold_only")) if sft else "— / — / —"


def _boundary(row: dict) -> str:
    kept = row.get("training", {}).get("boundary") or {}
    return f" ({kept['kept']} / {kept['candidates']})" if kept.get("candidates") else ""


def _zero_std(row: dict) -> str:
    value = row.get("training", {}).get("frac_reward_zero_std_mean")
    return "—" if value is None else f"{value:.2f}"


def _reward(heldout: dict) -> str:
    if heldout.get("reward") is None:
        return "—"
    ci = heldout.get("reward_ci95")
    return f"{heldout['reward']:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def _comparisons(results: dict) -> list[str]:
    """Each variant's last round against the base model and against loop's same round (its last
    where loop has no such round), and each variant's dev-chosen round against loop's, on every
    reported series. Where both rows keep their per-item outcomes (the same BFCL entries, the same
    probe prompts) the verdict is McNemar's exact test at 5 % (``evaluation.paired``); elsewhere
    (the yield's 12 blueprints) a difference whose intervals overlap is called noise."""
    out = []
    base = results.get("base")
    variants = {name: sorted(rows, key=lambda r: r["round"]) for name, rows in results.get("variants", {}).items()}
    last = [(name, rows[-1]) for name, rows in variants.items() if rows]
    chosen = _chosen_round(results, "loop")
    if chosen and chosen is not variants["loop"][-1]:  # the round the headline reports, chosen on dev
        last.insert(0, ("loop", chosen))
    loop_rows = variants.get("loop", [])
    compared = []
    for name, row in last:
        loop = next((r for r in loop_rows if r["round"] == row["round"]), loop_rows[-1] if loop_rows else None)
        against_loop = [(f"loop {loop['round']}", loop)] if name != "loop" and loop else []
        compared.append((name, row, [("base", base), *against_loop]))
    for name in variants:
        mine = _chosen_round(results, name)
        if name != "loop" and chosen and mine and len(variants[name]) > 1:
            compared.append((f"{name} (dev-chosen)", mine, [(f"loop {chosen['round']} (dev-chosen)", chosen)]))
    for metric, source, key in REPORT_SERIES:
        for name, row, pairs in compared:
            for other_name, other in pairs:
                if other is None:
                    continue
                a, b = series_value(row, source, key), series_value(other, source, key)
                if not a or not b or a.get("accuracy") is None or b.get("accuracy") is None:
                    continue
                paired = paired_series(row, other, source, key)
                apart = "intervals overlap" if overlaps(a, b) else "intervals apart"
                if paired:
                    said = f"{describe(paired)}; {apart}"
                else:
                    said = "inside the noise (intervals overlap)" if overlaps(a, b) else "outside the noise"
                out.append(
                    f"- {metric}: {name} {row['round']} {a['accuracy']:.3f} vs {other_name} "
                    f"{b['accuracy']:.3f} — {said}"
                )
    return out


def write_report(results: dict, docs: Path, command: str, loop_command: str | None = None) -> Path:
    """``docs/headline.md``, its plot and the README's headline block; ``command`` runs every variant
    reported, ``loop_command`` (the README's) the loop alone."""
    docs = Path(docs)
    (docs / "img").mkdir(parents=True, exist_ok=True)
    series = _rows(results)
    labels = [f"{name}:{r['round']}" if name != "—" else "base" for name, r in series]
    (docs / "img" / "headline.png").write_bytes(report_png([r for _, r in series], labels))
    settings = next(iter(results.get("settings", {}).values()), {})
    sample = settings.get("test_sample")
    scope = (
        f"a uniform sample of {sample} entries per category from the test split"
        if sample
        else "the whole test split of each category"
    )
    text = [
        "# The headline experiment, measured so it can be trusted",
        "",
        "Written by `experiments/headline.py` (do not edit by hand). Reproduce:",
        "",
        "```bash",
        command,
        "```",
        "",
        "**Protocol.** Every round is the full Dagster round job on its own instance. Round N's Assistant "
        "(the policy that synthesizes the round's conversations) is round N−1's checkpoint; round r0000's is "
        "the base model. The loop's decisions (capability gaps, stop rule) read BFCL's *dev* split only "
        f"({settings.get('dev_sample')} entries per category); everything below is on BFCL's *test* split — "
        f"{scope} (the same entries for every row; the split is a stable hash of the entry id, "
        "`inftool_dagster/bfcl/splits.py`) — and on the experiment's fixed held-out probe: whole API specs "
        f"never offered in any round's training, {settings.get('probe_prompts')} prompts (simple, multiple, "
        "parallel, irrelevance), the same prompts for the base model and every round. Every accuracy is "
        "shown with its Wilson 95 % interval in brackets; the summaries' intervals are normal intervals on "
        "the mean of the category proportions. `failed` counts generations that failed (errors, over-long "
        "prompts), scored wrong. Policy yield: the share of the policy's own conversations on "
        f"{settings.get('yield_blueprints')} fixed blueprints (training tools) that pass every gate.",
        "",
        f"Settings: {settings.get('specs')} APIs.guru specs (every {settings.get('every')}th), "
        f"{settings.get('trajectories')} blueprints per round for the policy and {settings.get('gold_only', 0)} "
        f"gold-only, SFT {settings.get('sft_steps')} steps (batch 4), GRPO {settings.get('grpo_steps')} steps on "
        f"prompts at the policy's boundary (from {settings.get('boundary_candidates', 0)} candidates), "
        f"lr {settings.get('learning_rate')}, greedy, "
        f"≤ {settings.get('max_new_tokens')} new tokens, {settings.get('dtype')}, the project's compact prompt.",
        "",
        "Variants run: " + ", ".join(results.get("variants", {})) + " (and the base model); a variant not "
        "listed was not run under this protocol. Rounds done: "
        + "; ".join(
            f"{name} {len(rows)} of {results.get('settings', {}).get(name, {}).get('rounds', '?')}"
            for name, rows in results.get("variants", {}).items()
        )
        + " (the command above resumes a variant where it stopped).",
        "",
        "## BFCL test split",
        "",
        *_bfcl_table(results),
        "",
        "## The loop's own claim: held-out tools, the policy's yield, where the training rows came from",
        "",
        *_loop_table(results),
        "",
        "![headline](img/headline.png)",
        "",
        "## Aims (issue 22) against the loop round chosen on dev",
        "",
        *_aims_table(results),
        "",
        "## Differences and noise",
        "",
        "Rows scored on the same items are compared item by item: McNemar's exact test on the items "
        "only one of the two passes, at 5 % (`inftool_dagster/evaluation/paired.py`); the non-live AST "
        "summary pools its four categories' entries (equal sizes, equal weights). Overlapping intervals "
        "are shown beside it: they ignore the pairing and miss differences the paired test sees. With this "
        "many comparisons, about one in twenty is called outside the noise by chance. Rows kept without "
        "per-item outcomes (and the yield's 12 blueprints) fall back to the intervals.",
        "",
        *(_comparisons(results) or ["- (no comparison yet)"]),
        "",
        "Raw figures: `docs/bench/headline.json` (per round: per-category counts and intervals, summaries, "
        "held-out probe per scenario type, yield per scenario type, training rows by source, minutes).",
        "",
    ]
    path = docs / "headline.md"
    path.write_text("\n".join(text))
    readme = docs.parent / "README.md"
    if readme.exists():
        write_readme_block(readme, results, loop_command or command, scope)
    return path


def _chosen_round(results: dict, name: str) -> dict | None:
    """The variant's round chosen on the **dev** score (``evolution.best_round``: the earlier round
    on a tie): choosing by test would let test data pick the checkpoint."""
    rows = sorted(results.get("variants", {}).get(name, []), key=lambda r: r["round"])
    if not rows:
        return None
    best = best_round([r["round"] for r in rows], [r.get("dev_score") for r in rows])
    return next((r for r in rows if r["round"] == best), None)


def _share_phrase(results: dict) -> str:
    sft = [r.get("training_rows", {}).get("sft", {}) for r in results["variants"].get("loop", [])]
    policy = sum(x.get("policy", 0) for x in sft)
    total = policy + sum(x.get("gold_replay", 0) + x.get("gold_only", 0) for x in sft)
    if not total:
        return "no SFT rows"
    return f"{policy} of {total} SFT rows ({policy / total:.0%}) are the policy's own conversations"


def _seed_lines(results: dict, best: dict) -> list[str]:
    """The loop run again with another seed: its dev-chosen round against the headline's, item by item."""
    lines = []
    for name in results.get("variants", {}):
        other = _chosen_round(results, name) if name.startswith("loop_seed") else None
        if not other:
            continue
        parts = []
        for label, source, key in (("non-live AST", "bfcl", SUMMARY), ("held-out exact", "heldout", "exact")):
            a, b = series_value(other, source, key), series_value(best, source, key)
            paired = paired_series(other, best, source, key)
            said = verdict(paired) if paired else ("inside the noise" if overlaps(a, b) else "outside the noise")
            parts.append(f"{label} {fmt(a)}, {said} against seed 0's")
        lines.append(
            f"- the loop again, {name.removeprefix('loop_')} (its dev-chosen round {other['round']}): "
            + "; ".join(parts)
        )
    return lines


def write_readme_block(readme: Path, results: dict, command: str, scope: str) -> None:
    """The README's headline paragraph, between its markers, from the same results."""
    base, best = results.get("base"), _chosen_round(results, "loop")
    if not base or not best:
        return
    pick = lambda r, c: series_value(r, "bfcl", c)  # noqa: E731
    cats = [c for c in best["bfcl_test"]["categories"] if pick(base, c) and pick(best, c)]
    lines = [
        f"On BFCL's **test split** ({scope}; the loop itself only ever reads the dev split), "
        f"{len(results['variants'].get('loop', []))} rounds of the closed loop on "
        f"{next(iter(results.get('settings', {}).values()), {}).get('specs')} APIs.guru specs take "
        "SmolLM2-135M-Instruct (base → loop round " + best["round"] + ", the round with the best *dev* score; "
        "95 % intervals in brackets):",
        "",
        f"- non-live Python AST summary: {fmt(pick(base, SUMMARY))} → **{fmt(pick(best, SUMMARY))}**",
    ]
    lines += [f"- {c}: {fmt(pick(base, c))} → {fmt(pick(best, c))}" for c in cats]
    lines += [
        f"- held-out probe (whole specs never trained on), exact: {fmt(base['heldout'].get('exact'))} → "
        f"{fmt(best['heldout'].get('exact'))}",
        f"- the policy's own yield on fixed blueprints: {fmt(base['yield'].get('yield'))} → "
        f"{fmt(best['yield'].get('yield'))}",
        *_seed_lines(results, best),
        "- training data per round (SFT rows: the policy's own verified conversations / gold replays of "
        "its failures / gold-only replays of the plan): "
        + "; ".join(
            f"{r['round']} {_sources(r.get('training_rows', {}).get('sft', {}))}"
            for r in sorted(results["variants"].get("loop", []), key=lambda r: r["round"])
        )
        + f" — {_share_phrase(results)}",
        "",
        "Small-model anchors (BFCL v4 leaderboard, whole categories, non-live AST / simple / irrelevance): "
        "Qwen3-0.6B 71.8 / 64.2 / 80.8; Hammer2.1-0.5B 66.0 / 62.4 / 80.8; Granite-4.0-350M 67.9 / 61.7 / "
        "60.8. Tables, ablations run ("
        + (", ".join(v for v in results["variants"] if v != "loop") or "none")
        + "), noise comparisons: `docs/headline.md`. "
        f"Reproduce: `{command}`.",
    ]
    text = readme.read_text()
    start, end = text.index("<!-- headline:start"), text.index("<!-- headline:end -->")
    head = text[start : text.index("\n", start) + 1]
    readme.write_text(text[:start] + head + "\n".join(lines) + "\n" + text[end:])
