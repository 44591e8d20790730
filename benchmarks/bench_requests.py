"""How much the User Simulator's requests sound like people, on the APIs.guru catalog.

Plans ``--n`` blueprints (with the MCP tree when ``--tree`` is given) and realizes their first
requests as ``inftool synth --requests-only`` does, then records ``param_name_rate`` (a value
right after its parameter's name), distinct-1/2/3, the leak check's pass rate (LLM path) and
example requests under ``--label`` in ``docs/bench/requests.json`` (other labels are kept, so
realizers compare on the same plan).

    .venv/bin/python benchmarks/bench_requests.py --catalog DIR [--tree DIR] [--n 2000] [--realizer grammar|natural]
        [--simulator-model smollm2-135m-instruct]   # the LLM path: rewrites kept only past the leak check
        [--reference-bfcl]                          # BFCL's own questions at the same number of words

distinct-n over a corpus falls as the corpus grows (Heaps' law), so ``--reference-bfcl`` gives the
figure people's questions reach at the same size: BFCL's user turns (every category with single
questions), shuffled with a fixed seed and cut at the realizer's word count.
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
    parser.add_argument("--simulator-model", default=None, help="Rewrite each request with this model (LLM path).")
    parser.add_argument("--reference-bfcl", action="store_true", help="Also BFCL's questions at the same size.")
    parser.add_argument("--work", default="/tmp/bench_requests")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "requests.json")
    args = parser.parse_args()
    from inftool_dagster.synthesis import SynthConfig, realize_requests

    args.label = args.label or args.realizer
    simulator = None
    if args.simulator_model:
        from inftool_dagster.llm.backend import TransformersConfig
        from inftool_dagster.llm.transformers_backend import TransformersBackend

        simulator = TransformersBackend(TransformersConfig(model=args.simulator_model))
    config = SynthConfig(
        n=args.n, seed=args.seed, tree_dir=args.tree, realizer=args.realizer, simulator_model=args.simulator_model
    )
    summary = realize_requests(args.catalog, Path(args.work) / args.label, config, simulator)
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
    if args.simulator_model:
        llm = frame.filter(pl.col("source") == "llm")
        record[args.label]["llm_examples"] = llm.head(6)["request"].to_list()
    if args.reference_bfcl:
        record[args.label]["bfcl_questions_same_size"] = bfcl_reference(frame["request"].to_list())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record[args.label]))


def bfcl_reference(requests: list[str], seed: int = 0) -> dict:
    """distinct-1/2/3 of BFCL's user questions cut at the same number of words as ``requests``."""
    import random

    from inftool_dagster.bfcl.data import load_category
    from inftool_dagster.synthesis.request_metrics import distinct_n, tokens

    questions = []
    for category in REFERENCE_CATEGORIES:
        for entry in load_category(category):
            turn = entry["question"][0] if isinstance(entry["question"][0], list) else entry["question"]
            questions += [m["content"] for m in turn if m.get("role") == "user" and isinstance(m.get("content"), str)]
    random.Random(seed).shuffle(questions)
    budget = sum(len(tokens(r)) for r in requests)
    taken, words = [], 0
    for question in questions:
        if words >= budget:
            break
        taken.append(question)
        words += len(tokens(question))
    return {
        "categories": REFERENCE_CATEGORIES,
        "questions": len(taken),
        "words": words,
        "of_available": len(questions),
        **{f"distinct_{n}": distinct_n(taken, n) for n in (1, 2, 3)},
    }


REFERENCE_CATEGORIES = [
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_irrelevance",
]


if __name__ == "__main__":
    main()
