"""transformers backend throughput on the default model: generated tokens/s at batch 1 (the
baseline, same run) and at larger batch sizes, greedy, on tool-calling prompts built from the
bundled sample catalog (BFCL prompting format).

    .venv/bin/python benchmarks/bench_backend.py [--model smollm2-135m-instruct] [--prompts 16] [--max-new-tokens 48]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import time

import orjson

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.sources import SAMPLE_SPECS
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.llm.types import SamplingParams

QUESTIONS = [
    "What's the weather going to be in Lisbon for the next 3 days?",
    "Convert 250 USD to EUR.",
    "Create a note titled Groceries with body 'milk, eggs'.",
    "Find vegan recipes with tomatoes and rice.",
    "List available cats in the pet store.",
    "What is the stock price of NVDA on NASDAQ?",
    "Book the K2 room for 2 hours.",
    "Search my notes for 'quarterly report'.",
]


def prompts(n: int) -> tuple[list[list[dict]], list[list[dict]]]:
    rows = build_catalog([SAMPLE_SPECS], workers=1).functions.to_dicts()
    rng = random.Random(0)
    convs, tools = [], []
    for i in range(n):
        chosen = rng.sample(rows, 3)
        tools.append(
            [
                {
                    "type": "function",
                    "function": {
                        "name": r["name"],
                        "description": r["description"],
                        "parameters": orjson.loads(r["parameters"]),
                    },
                }
                for r in chosen
            ]
        )
        convs.append([{"role": "user", "content": QUESTIONS[i % len(QUESTIONS)]}])
    return convs, tools


def measure(backend: TransformersBackend, convs, tools, batch: int, max_new: int) -> dict:
    backend.config.batch_size = batch
    t0 = time.perf_counter()
    out = backend.generate(convs, SamplingParams(max_new_tokens=max_new), tools)
    seconds = time.perf_counter() - t0
    generated = sum(g[0].completion_tokens for g in out)
    prompt_tokens = sum(g[0].prompt_tokens for g in out)
    return {
        "batch": batch,
        "seconds": round(seconds, 2),
        "generated_tokens": generated,
        "prompt_tokens": prompt_tokens,
        "generated_tokens_per_s": round(generated / seconds, 1),
        "texts": [g[0].text for g in out],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batches", default="1,4,8,16")
    args = parser.parse_args()
    t0 = time.perf_counter()
    # batch size is what this measures: transformers' ``generate`` in float32, the configuration of
    # docs/backends.md's table (the continuous decoder is bench_inference_trained.py's)
    backend = TransformersBackend(TransformersConfig(model=args.model, decoder="generate", dtype="float32"))
    load_s = time.perf_counter() - t0
    convs, tools = prompts(args.prompts)
    measure(backend, convs[:2], tools[:2], 2, 4)  # warm-up
    runs = [measure(backend, convs, tools, int(b), args.max_new_tokens) for b in args.batches.split(",")]
    base = runs[0]
    best = max(runs, key=lambda r: r["generated_tokens_per_s"])
    print(
        json.dumps(
            {
                "model": args.model,
                "load_seconds": round(load_s, 1),
                "prompts": args.prompts,
                "max_new_tokens": args.max_new_tokens,
                "runs": [{k: v for k, v in r.items() if k != "texts"} for r in runs],
                "best_batch": best["batch"],
                "speedup_best_vs_batch1": round(best["generated_tokens_per_s"] / base["generated_tokens_per_s"], 2),
                "greedy_outputs_identical_across_batch_sizes": all(r["texts"] == base["texts"] for r in runs),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


if __name__ == "__main__":
    main()
