"""How much the User Simulator's requests sound like people, on the APIs.guru catalog.

Plans ``--n`` blueprints (with the MCP tree when ``--tree`` is given) and realizes their first
requests as ``inftool synth --requests-only`` does, then records ``param_name_rate`` (a value
right after its parameter's name), distinct-1/2/3, the leak check's pass rate (LLM path) and
example requests under ``--label`` in ``docs/bench/requests.json`` (other labels are kept, so
realizers compare on the same plan).

    .venv/bin/python benchmarks/bench_requests.py --catalog DIR [--tree DIR] [--n 2000] [--realizer grammar|natural]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--tree", default=None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realizer", default="grammar", choices=["grammar", "natural"])
    parser.add_argument("--label", default=None, help="The record's key (default: the realizer).")
    parser.add_argument("--work", default="/tmp/bench_requests")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "requests.json")
    args = parser.parse_args()
    from inftool_dagster.synthesis import SynthConfig, realize_requests

    args.label = args.label or args.realizer
    config = SynthConfig(n=args.n, seed=args.seed, tree_dir=args.tree, realizer=args.realizer)
    summary = realize_requests(args.catalog, Path(args.work) / args.label, config)
    frame = pl.read_parquet(summary["out"])
    examples = frame.filter(pl.col("scenario_type") != "irrelevance").head(8)["request"].to_list()
    record = json.loads(args.out.read_text()) if args.out.exists() else {}
    record[args.label] = {
        **{k: v for k, v in summary.items() if k != "out"},
        "catalog": args.catalog,
        "tree": args.tree,
        "examples": examples,
        "command": "benchmarks/bench_requests.py " + " ".join(sys.argv[1:]),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record[args.label]))


if __name__ == "__main__":
    main()
