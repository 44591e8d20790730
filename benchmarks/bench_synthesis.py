"""Synthesis throughput and coverage.

Part 1 (the model in the loop): ``synthesize`` with the default model on the bundled sample
catalog. The baseline, measured in the same run, is the model alone: one batched ``generate``
over the same first-step prompts the loop sends. Printed: trajectories/s, the share of wall
time spent outside the model (planning, User Simulator, MCP calls, parquet), and the ratio
of pipeline time per trajectory to bare model time per trajectory.

Part 2 (coverage, no model): plan + realize N blueprints on a catalog (default: the bundled
samples; pass ``--catalog`` for the full APIs.guru build) and report the distribution of
scenario types, tools and domains, and request diversity (distinct 1-/2-/3-gram ratios).

    .venv/bin/python benchmarks/bench_synthesis.py [--n 32] [--coverage-n 2000] [--catalog DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.sources import SAMPLE_SPECS
from inftool_dagster.llm.backend import TransformersConfig
from inftool_dagster.llm.transformers_backend import TransformersBackend
from inftool_dagster.llm.types import SamplingParams
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.mcp_server.simulator import load_tools
from inftool_dagster.synthesis.blueprints import Planner
from inftool_dagster.synthesis.config import SynthConfig
from inftool_dagster.synthesis.conversation import openai_tools
from inftool_dagster.synthesis.runner import load_trajectories, synthesize
from inftool_dagster.synthesis.user_simulator import UserSimulator
from inftool_dagster.verification.dedup import distinct_ngrams


def coverage(catalog_dir: Path, n: int, seed: int) -> dict:
    tools = load_tools(catalog_dir)
    t0 = time.perf_counter()
    planner = Planner(tools, seed=seed)
    blueprints = planner.plan(0, n)
    plan_s = time.perf_counter() - t0
    user = UserSimulator({t.name: t.description for t in tools}, None, seed)
    t0 = time.perf_counter()
    requests = [text for text, _ in user.requests(blueprints)]
    realize_s = time.perf_counter() - t0
    scenario = Counter(b.scenario_type for b in blueprints)
    used_tools = Counter(t for b in blueprints for t in b.targets)
    domains = Counter(b.domain for b in blueprints)
    return {
        "catalog_tools": len(tools),
        "blueprints": len(blueprints),
        "planner_rejected": dict(planner.rejected),
        "plan_seconds": round(plan_s, 3),
        "realize_seconds": round(realize_s, 3),
        "scenario_types": dict(scenario.most_common()),
        "distinct_target_tools": len(used_tools),
        "tool_coverage": round(len(used_tools) / max(1, len(tools)), 4),
        "top_tool_share": round(used_tools.most_common(1)[0][1] / max(1, sum(used_tools.values())), 4)
        if used_tools
        else 0,
        "distinct_domains": len(domains),
        "top_domains": dict(domains.most_common(5)),
        "distinct_1": distinct_ngrams(requests, 1),
        "distinct_2": distinct_ngrams(requests, 2),
        "distinct_3": distinct_ngrams(requests, 3),
    }


def model_loop(catalog_dir: Path, model: str, n: int, batch: int, max_new: int, shard_size: int) -> dict:
    # docs/synthesis.md's configuration: ``generate`` at ``batch`` in float32, one shard per call
    policy = TransformersBackend(TransformersConfig(model=model, batch_size=batch, decoder="generate", dtype="float32"))
    policy.generate([[{"role": "user", "content": "hi"}]], SamplingParams(max_new_tokens=1))  # load and warm up
    with tempfile.TemporaryDirectory() as tmp:
        config = SynthConfig(n=n, shard_size=shard_size, max_new_tokens=max_new, policy_model=model, shards_per_wave=1)
        t0 = time.perf_counter()
        summary = synthesize(catalog_dir, tmp, config, policy)
        wall = time.perf_counter() - t0
        frame = load_trajectories(tmp)
    # baseline: the model alone on the same first-step prompts (one batched generate)
    server = CatalogServer.from_catalog(catalog_dir)
    blueprints = Planner(list(server.tools.values()), seed=0).plan(0, n)
    user = UserSimulator({k: t.description for k, t in server.tools.items()}, None, 0)
    convs = [[{"role": "user", "content": text}] for text, _ in user.requests(blueprints)]
    tools = [openai_tools(server, b.tools) for b in blueprints]
    t0 = time.perf_counter()
    policy.generate(convs, SamplingParams(max_new_tokens=max_new), tools)
    first_step_s = time.perf_counter() - t0
    steps = int(frame["n_assistant_steps"].sum())
    model_s = summary["model_seconds"]
    outside = wall - model_s
    return {
        "trajectories": summary["produced"],
        "assistant_steps": steps,
        "wall_seconds": round(wall, 2),
        "trajectories_per_s": round(summary["produced"] / wall, 3),
        "model_seconds": model_s,
        "outside_model_share": round(outside / wall, 4),
        "baseline_model_only_first_step_seconds": round(first_step_s, 2),
        "baseline_model_only_seconds_per_step": round(first_step_s / n, 3),
        "pipeline_seconds_per_step": round(wall / max(1, steps), 3),
        "ratio_pipeline_vs_model_only_per_step": round((wall / max(1, steps)) / (first_step_s / n), 3),
        "tool_calls": int(frame["n_tool_calls"].sum()),
        "tool_errors": int(frame["tool_errors"].sum()),
        "scenario_types": dict(Counter(frame["scenario_type"].to_list()).most_common()),
        "distinct_2_requests": distinct_ngrams(frame["request"].to_list(), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--n", type=int, default=32, help="Trajectories through the model (0: skip part 1).")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=96)
    parser.add_argument("--coverage-n", type=int, default=2000)
    parser.add_argument("--catalog", default=None, help="A built catalog dir for part 2 (default: bundled samples).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        sample_dir = Path(tmp) / "catalog"
        build_catalog([SAMPLE_SPECS], workers=1).write(sample_dir)
        report: dict = {}
        report["coverage"] = coverage(Path(args.catalog) if args.catalog else sample_dir, args.coverage_n, 0)
        print(json.dumps({"coverage": report["coverage"]}, indent=1), flush=True)
        if args.n:
            report["model_loop"] = model_loop(
                sample_dir, args.model, args.n, args.batch_size, args.max_new_tokens, args.shard_size
            )
            print(json.dumps({"model_loop": report["model_loop"]}, indent=1), flush=True)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
