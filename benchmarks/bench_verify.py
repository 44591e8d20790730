"""Verification throughput on a large synthetic set, against a naive per-row loop (same run).

The set: N trajectories whose assistant is the gold replay (so their correct outcome is known),
with a share perturbed (extra parameter, wrong value, wrong type, tool error) so that every
gate has work to do. The fast path is ``Verifier.run`` (polars columns for format and
execution, validators compiled once per tool, each distinct call validated once). The
baseline is the obvious loop: per row, decode the calls and ``jsonschema.validate`` each one
(which checks the schema and builds a validator every time), then the same intent rules.
Both must agree on every verdict.

    .venv/bin/python benchmarks/bench_verify.py [--n 100000] [--baseline-n 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import jsonschema
import orjson
import polars as pl

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.sources import SAMPLE_SPECS
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis.blueprints import Planner
from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
from inftool_dagster.synthesis.user_simulator import UserSimulator
from inftool_dagster.training.views import gold_trajectory_rows
from inftool_dagster.verification.gates import Verifier


def perturb(row: dict, rng: random.Random) -> dict:
    steps = orjson.loads(row["predicted_calls"])
    kind = rng.choice(["extra", "value", "type", "tool_error"])
    if kind == "tool_error" or not steps:
        return {**row, "tool_errors": 1}
    call = steps[0][0]
    if kind == "extra":
        call["arguments"]["unexpected_flag"] = True
    elif call["arguments"]:
        key = next(iter(call["arguments"]))
        call["arguments"][key] = "changed value" if kind == "value" else 7
    return {**row, "predicted_calls": orjson.dumps(steps).decode()}


def make_set(server: CatalogServer, n: int, seed: int = 0) -> pl.DataFrame:
    blueprints = Planner(list(server.tools.values()), seed=seed).plan(0, n)
    user = UserSimulator({k: t.description for k, t in server.tools.items()}, None, seed)
    rows = gold_trajectory_rows(blueprints, server, user)
    rng = random.Random(seed)
    rows = [perturb(r, rng) if rng.random() < 0.2 else r for r in rows]
    return pl.DataFrame(rows, schema=TRAJECTORY_SCHEMA)


def naive(frame: pl.DataFrame, server: CatalogServer) -> list[bool]:
    verdicts = []
    for row in frame.iter_rows(named=True):
        steps = json.loads(row["predicted_calls"])
        ok = not row["parse_failures"] and row["tool_errors"] == 0
        for step in steps:
            for call in step:
                tool = server.tools.get(call["name"])
                if (
                    not ok
                    or tool is None
                    or call["name"] not in row["tool_names"]
                    or set(call["arguments"]) - set(tool.parameters.get("properties", {}))
                ):
                    ok = False
                    break
                try:
                    jsonschema.validate(
                        call["arguments"],
                        tool.parameters,
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
                    )
                except jsonschema.ValidationError:
                    ok = False
        verdicts.append(ok and Verifier.intent_reason(row, steps) is None)
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--baseline-n", type=int, default=10_000, help="Rows the naive loop runs (it is slow).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_catalog([SAMPLE_SPECS], workers=1).write(Path(tmp))
        server = CatalogServer.from_catalog(tmp)
    t0 = time.perf_counter()
    frame = make_set(server, args.n)
    build_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    gated = Verifier(server.tools).run(frame)
    fast_s = time.perf_counter() - t0
    sub = frame.head(args.baseline_n)
    t0 = time.perf_counter()
    slow = naive(sub, server)
    slow_s = time.perf_counter() - t0
    agree = sum(a == b for a, b in zip(slow, gated["verified"].head(args.baseline_n).to_list()))
    fast_rate = frame.height / fast_s
    slow_rate = sub.height / slow_s
    report = {
        "trajectories": frame.height,
        "build_seconds": round(build_s, 1),
        "verified": int(gated["verified"].sum()),
        "rejected_by": dict(gated.filter(~pl.col("verified")).group_by("rejected_by").len().iter_rows()),
        "fast_seconds": round(fast_s, 2),
        "fast_trajectories_per_s": round(fast_rate),
        "baseline_rows": sub.height,
        "baseline_seconds": round(slow_s, 2),
        "baseline_trajectories_per_s": round(slow_rate),
        "speedup": round(fast_rate / slow_rate, 1),
        "verdict_agreement": f"{agree}/{sub.height}",
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
