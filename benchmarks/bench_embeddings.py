"""The tool tree's embedder in bf16 vs float32 on the same tool texts: throughput and how far the
bf16 vectors sit from their float32 twins (issue 20's dtype choice).

Takes ``--n`` tools of a catalog (a seeded sample), builds their texts as the tree does
(``catalog.embeddings.tool_text``), embeds them once per dtype (a warm-up batch first, no cache)
and writes ``docs/bench/embeddings_dtype.json``: texts/s per dtype, their ratio, and the minimum
and mean cosine between each text's two vectors.

    .venv/bin/python benchmarks/bench_embeddings.py --catalog DIR [--n 600] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "embeddings_dtype.json")
    args = parser.parse_args()
    from inftool_dagster.catalog import load_catalog
    from inftool_dagster.catalog.embeddings import MAX_SEQ_LENGTH, ToolEmbedder, tool_text

    frame = load_catalog(args.catalog)
    rows = frame.sample(n=min(args.n, frame.height), seed=args.seed).iter_rows(named=True)
    texts = [tool_text(row) for row in rows]
    vectors, speed = {}, {}
    for dtype in ("float32", "bfloat16"):
        embedder = ToolEmbedder(dtype=dtype)
        embedder.embed(texts[:64])  # load and warm up
        start = time.perf_counter()
        vectors[dtype] = embedder.embed(texts)
        speed[dtype] = round(len(texts) / (time.perf_counter() - start), 1)
    cosine = (vectors["float32"] * vectors["bfloat16"]).sum(axis=1)
    record = {
        "texts": len(texts),
        "max_seq_length": MAX_SEQ_LENGTH,
        "texts_per_s": speed,
        "bf16_vs_float32": round(speed["bfloat16"] / speed["float32"], 2),
        "cosine_min": round(float(cosine.min()), 5),
        "cosine_mean": round(float(cosine.mean()), 6),
        "command": "benchmarks/bench_embeddings.py " + " ".join(sys.argv[1:]),
    }
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
