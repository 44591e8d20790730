"""The figures behind docs/evolution.md's "headline pilot" section, read from a headline variant's
round artifacts and its Dagster instance: tools whose parameter names a Python call cannot spell,
the gates' rejections of each round's policy conversations, the next round's scenario weights,
the share of each GRPO step's completions cut at the length limit, and seconds per asset. Written
to ``docs/bench/pilot_findings.json`` (the pilot, at 9d525a5) or ``--record``.

    .venv/bin/python experiments/pilot_findings.py [--home .experiments/headline/loop] [--record PATH]
"""

from __future__ import annotations

import argparse
import json
import keyword
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spellable(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def clipped(log: Path) -> list[float] | None:
    """Per GRPO step, the share of completions that hit ``max_completion_length`` (TRL's log)."""
    if not log.exists():
        return None
    key = "completions/clipped_ratio"
    return [round(e[key], 3) for e in json.loads(log.read_text()) if key in e]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=str(ROOT / ".experiments" / "headline" / "loop"))
    parser.add_argument("--record", default=str(ROOT / "docs" / "bench" / "pilot_findings.json"))
    args = parser.parse_args()
    import dagster as dg
    import polars as pl

    from inftool_dagster.assets.partitions import ROUND_TAG
    from inftool_dagster.definitions import ROUND_ASSETS
    from inftool_dagster.layout import RoundLayout

    home = Path(args.home)
    assets = {a.key.to_user_string() for a in ROUND_ASSETS}
    rounds = {}
    with dg.DagsterInstance.from_config(str(home / "dagster_home")) as instance:
        for key in sorted(p.name for p in (home / "rounds").iterdir()):
            layout = RoundLayout.local(home, key)
            if not layout.gaps().exists():
                continue  # a round that did not finish
            catalog = pl.read_parquet(layout.catalog() / "catalog.parquet", columns=["parameters"])
            schemas = [json.loads(p) if isinstance(p, str) else (p or {}) for p in catalog["parameters"].to_list()]
            gated = pl.read_parquet(layout.gated())
            seconds: dict[str, float] = {}
            for record in instance.get_run_records(filters=dg.RunsFilter(tags={ROUND_TAG: key})):
                for step in instance.get_run_step_stats(record.dagster_run.run_id):
                    if step.start_time and step.end_time and step.step_key in assets:
                        seconds[step.step_key] = round(step.end_time - step.start_time, 1)
            rounds[key] = {
                "tools": len(schemas),
                "tools_with_unspellable_parameter": sum(
                    any(not spellable(k) for k in s.get("properties", {})) for s in schemas
                ),
                "tools_with_unspellable_required_parameter": sum(
                    any(not spellable(k) for k in s.get("required", [])) for s in schemas
                ),
                "policy_conversations": gated.height,
                "rejected_by_gate": dict(
                    gated.filter(~pl.col("verified")).group_by("rejected_by").len().sort("rejected_by").iter_rows()
                ),
                "next_scenario_weights": (weights := json.loads(layout.gaps().read_text())["scenario_weights"]),
                "next_scenario_shares": {k: round(v / sum(weights.values()), 3) for k, v in weights.items()},
                "grpo_clipped_ratio": clipped(layout.policy() / "grpo" / "checkpoint" / "training_log.json"),
                "seconds_by_asset": seconds,
            }
    out = Path(args.record)
    record = {"home": str(home), "rounds": rounds, "command": "experiments/pilot_findings.py " + " ".join(sys.argv[1:])}
    out.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: {x: v[x] for x in list(v)[:5]} for k, v in rounds.items()}, indent=1))


if __name__ == "__main__":
    main()
