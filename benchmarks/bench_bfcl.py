"""BFCL evaluation speed: entries/s at batch 1 (baseline) vs the batched path, same run, same
entries; and the scorer's verdicts/s on every Python AST entry (correct + mutated outputs).

    .venv/bin/python benchmarks/bench_bfcl.py [--entries 16] [--batch-size 8] [--max-new-tokens 128]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from inftool_dagster.bfcl import evaluate, load_category, score_entry
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.tool_calls import ToolCall, render_python
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.llm.types import SamplingParams

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def scorer_rate() -> dict:
    from tests.test_bfcl import AST_CATEGORIES, gold_output, mutate

    rng = random.Random(0)
    work = []
    for category in AST_CATEGORIES:
        for entry in load_category(category):
            good = gold_output(entry, rng)
            for output in (good, mutate(good, entry, rng)):
                calls = [ToolCall(next(iter(c)), next(iter(c.values()))) for c in output]
                work.append((entry, render_python(calls), category))
    t0 = time.perf_counter()
    valid = sum(score_entry(e, text, c)["valid"] for e, text, c in work)
    seconds = time.perf_counter() - t0
    return {
        "verdicts": len(work),
        "valid": valid,
        "seconds": round(seconds, 2),
        "verdicts_per_s": round(len(work) / seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--entries", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()
    report = {"scorer": scorer_rate()}
    print(json.dumps(report), flush=True)
    # batch size is what this measures: ``generate`` in float32 (docs/bfcl.md's table)
    backend = TransformersBackend(
        TransformersConfig(model=args.model, batch_size=1, decoder="generate", dtype="float32")
    )
    backend.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=1))  # load
    runs = {}
    for batch in (1, args.batch_size):
        backend.config.batch_size = batch
        with tempfile.TemporaryDirectory() as tmp:
            summary = evaluate(
                backend,
                ["simple_python"],
                tmp,
                model_name=args.model,
                limit=args.entries,
                max_new_tokens=args.max_new_tokens,
                stop_after_calls=False,
            )
            verdicts = [
                json.loads(line)
                for line in (Path(tmp) / "score" / args.model / "BFCL_v4_simple_python_score.json")
                .read_text()
                .splitlines()[1:]
            ]
        runs[batch] = {
            "seconds": summary["seconds"],
            "entries_per_s": summary["entries_per_s"],
            "accuracy": summary["accuracy"]["simple_python"],
            "failed_ids": sorted(v["id"] for v in verdicts),
        }
    base, fast = runs[1], runs[args.batch_size]
    report.update(
        {
            "entries": args.entries,
            "batch_1": {k: v for k, v in base.items() if k != "failed_ids"},
            f"batch_{args.batch_size}": {k: v for k, v in fast.items() if k != "failed_ids"},
            "speedup": round(fast["entries_per_s"] / base["entries_per_s"], 2),
            "same_verdicts": base["failed_ids"] == fast["failed_ids"],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
