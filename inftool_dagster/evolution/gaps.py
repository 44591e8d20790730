"""Capability gaps: where the round's policy fails, turned into the next round's sampling weights.

Inputs: BFCL score files (failed entries with BFCL error types) and the gated synthetic
trajectories (reject reasons per scenario type and tool domain). Outputs: error rates per
category, per error type and per domain, plus ``scenario_weights`` (the ScenarioMix of the
next round) and ``domain_weights`` (tool sampling), each raised in proportion to the error
rate so that the next round practises what this one got wrong.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl

from inftool_dagster.synthesis.blueprints import ScenarioMix

from .stopping import EvolutionSettings

_DEFAULTS = EvolutionSettings()

# BFCL category → the scenario type that practises it
CATEGORY_TO_SCENARIO = {
    "simple_python": "simple",
    "live_simple": "simple",
    "multiple": "multiple",
    "live_multiple": "multiple",
    "parallel": "parallel",
    "live_parallel": "parallel",
    "parallel_multiple": "parallel_multiple",
    "live_parallel_multiple": "parallel_multiple",
    "irrelevance": "irrelevance",
    "live_irrelevance": "irrelevance",
}
# BFCL error types → the error taxonomy the issue names
ERROR_KIND = [
    ("wrong_func_name", "wrong_function"),
    ("missing_required", "missing_argument"),
    ("missing_optional", "missing_argument"),
    ("unexpected_param", "extra_argument"),
    ("type_error", "wrong_type"),
    ("value_error", "wrong_value"),
    ("irrelevance_error", "false_call_on_irrelevance"),
    ("wrong_count", "wrong_call_count"),
    ("cannot_find_match", "wrong_call_count"),
    ("decoder_failed", "unparseable_output"),
    ("decoder_wrong_output_format", "unparseable_output"),
    ("relevance_error", "missed_call"),
]
GATE_KIND = {
    "wrong_function": "wrong_function",
    "missing_argument": "missing_argument",
    "extra_argument": "extra_argument",
    "hallucinated_parameter": "extra_argument",
    "wrong_type": "wrong_type",
    "invalid_arguments": "wrong_type",
    "wrong_value": "wrong_value",
    "false_call_on_irrelevance": "false_call_on_irrelevance",
    "wrong_call_count": "wrong_call_count",
    "no_call": "missed_call",
    "called_without_asking": "missed_clarification",
    "hallucinated_tool": "wrong_function",
    "tool_not_offered": "wrong_function",
}


def error_kind(bfcl_error_type: str) -> str:
    return next((kind for key, kind in ERROR_KIND if key in bfcl_error_type), "other")


def bfcl_errors(score_dir: Path) -> tuple[dict[str, float], Counter]:
    """(error rate per category, count per error kind) from ``BFCL_v4_<cat>_score.json`` files."""
    rates, kinds = {}, Counter()
    for path in sorted(Path(score_dir).glob("BFCL_v4_*_score.json")):
        lines = path.read_text().splitlines()
        header = json.loads(lines[0])
        category = path.name[len("BFCL_v4_") : -len("_score.json")]
        rates[category] = 1.0 - header["accuracy"]
        kinds.update(error_kind(json.loads(line).get("error_type", "")) for line in lines[1:] if line.strip())
    return rates, kinds


def synthetic_errors(gated: pl.DataFrame) -> tuple[dict[str, float], dict[str, float], Counter]:
    """(failure rate per scenario type, per domain, count per error kind) from gated trajectories."""
    if gated.is_empty():
        return {}, {}, Counter()
    failed = ~pl.col("verified")
    by_type = dict(gated.group_by("scenario_type").agg(failed.mean()).iter_rows())
    by_domain = dict(gated.group_by("domain").agg(failed.mean()).iter_rows())
    kinds = Counter(
        GATE_KIND.get((reason or "").split(":")[0], (reason or "other").split(":")[0])
        for reason in gated.filter(failed)["reject_reason"].to_list()
    )
    return by_type, by_domain, kinds


class DevSplitRequired(ValueError):
    """Something tried to steer the loop with BFCL results that are not the dev split."""


def dev_results(bfcl_dir: Path | None) -> tuple[Path | None, dict]:
    """(score directory, summary) of a BFCL evaluation that must be on the dev split: anything
    else (test, all, or a summary that does not say) raises ``DevSplitRequired``."""
    if bfcl_dir is None or not (Path(bfcl_dir) / "summary.json").exists():
        return None, {}
    summary = json.loads((Path(bfcl_dir) / "summary.json").read_text())
    if summary.get("split") != "dev":
        raise DevSplitRequired(
            f"{bfcl_dir} holds BFCL split {summary.get('split')!r}: only the dev split may "
            "inform capability gaps or the stop rule"
        )
    return Path(bfcl_dir) / "score" / summary.get("model", "policy").replace("/", "_"), summary


def capability_gaps(
    dev_bfcl_dir: Path | None,
    gated: pl.DataFrame,
    base_mix: ScenarioMix | None = None,
    boost: float = _DEFAULTS.gap_boost,
    score_key: str = _DEFAULTS.score_key,
    min_share: dict[str, float] | None = None,
) -> dict:
    """Error rates and the next round's weights: weight × (1 + boost × error rate), then raised
    where a scenario's share would fall under ``min_share``. BFCL errors come from the dev split
    only (``dev_results``); ``score`` is the dev summary's ``score_key``."""
    base = (base_mix or ScenarioMix()).weights()
    score_dir, summary = dev_results(dev_bfcl_dir)
    bfcl_rates, bfcl_kinds = bfcl_errors(score_dir) if score_dir and score_dir.exists() else ({}, Counter())
    type_rates, domain_rates, synth_kinds = synthetic_errors(gated)
    scenario_error: dict[str, list[float]] = {}
    for category, rate in bfcl_rates.items():
        if category in CATEGORY_TO_SCENARIO:
            scenario_error.setdefault(CATEGORY_TO_SCENARIO[category], []).append(rate)
    for scenario, rate in type_rates.items():
        scenario_error.setdefault(scenario, []).append(rate)
    weights = {
        s: round(w * (1 + boost * (sum(scenario_error.get(s, [0])) / len(scenario_error.get(s, [0])))), 4)
        for s, w in base.items()
    }
    weights = keep_shares(weights, min_share or {})
    return {
        "bfcl_error_rate": {k: round(v, 4) for k, v in bfcl_rates.items()},
        "bfcl_error_kinds": dict(bfcl_kinds.most_common()),
        "synthetic_error_rate": {k: round(v, 4) for k, v in type_rates.items()},
        "synthetic_error_kinds": dict(synth_kinds.most_common()),
        "domain_error_rate": {k: round(v, 4) for k, v in domain_rates.items()},
        "scenario_weights": weights,
        "domain_weights": {d: round(1 + boost * r, 4) for d, r in domain_rates.items()},
        "score": summary.get("summary", {}).get(score_key),
        "score_split": summary.get("split"),
        "score_ci95": (summary.get("summaries", {}).get(score_key) or {}).get("ci95"),
    }


def keep_shares(weights: dict[str, float], min_share: dict[str, float]) -> dict[str, float]:
    """``weights`` with each scenario in ``min_share`` raised, where needed, to that share of the
    total, the others unchanged: a floor that binds gets m × (the others' sum) / (1 − Σ binding m)."""
    floored = {s: m for s, m in min_share.items() if s in weights and m > 0}
    binding: set[str] = set()
    while True:  # each pass binds at least one more floor, or ends
        free = sum(w for s, w in weights.items() if s not in binding)
        share = sum(floored[s] for s in binding)
        out = {s: max(w, floored[s] * free / (1 - share)) if s in binding else w for s, w in weights.items()}
        total = sum(out.values())
        newly = {s for s, m in floored.items() if s not in binding and out[s] < m * total - 1e-9}
        if not newly:
            return {s: round(w, 4) for s, w in out.items()}
        binding |= newly


def tool_weights(domain_weights: dict[str, float], tool_domains: dict[str, str]) -> dict[str, float]:
    """Per-tool sampling weights for the Planner from per-domain weights (1 where unknown)."""
    return {
        name: domain_weights.get(domain, 1.0)
        for name, domain in tool_domains.items()
        if domain_weights.get(domain, 1.0) != 1.0
    }
