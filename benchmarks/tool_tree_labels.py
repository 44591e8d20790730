"""Precision/recall of the duplicate-merge rule per threshold on the labelled sample.

The sample (``inftool_dagster/catalog/data/duplicate_labels.jsonl``) holds candidate pairs of
APIs.guru tools drawn across the cosine range 0.80–1.00 in equal-width bins, each labelled by
reading both tools (duplicate: the same operation, interchangeable for a caller). The rule
merges a pair when cosine ≥ t and the parameters are compatible; the similarity-only rule
(cosine ≥ t) is shown beside it. Writes ``docs/bench/tool_tree_labels.json``.

    .venv/bin/python benchmarks/tool_tree_labels.py [--recompute]
    .venv/bin/python benchmarks/tool_tree_labels.py --max-seq-length 64 --out docs/bench/tool_tree_labels_seq64.json

``--recompute`` re-embeds both texts of every pair with the default embedder and stores the
cosine (the pairs were drawn with 128-token vectors; ``similarity_drawn`` keeps that value).
``--max-seq-length N`` scores the rule with vectors of N tokens per text instead, for this record
only (the sample's stored cosines are left as they are).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inftool_dagster.catalog.duplicates import (
    DEFAULT_THRESHOLD,
    LABELS_PATH,
    choose_threshold,
    load_labels,
    threshold_table,
)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", default=str(LABELS_PATH))
    parser.add_argument(
        "--recompute", action="store_true", help="re-embed the pairs with the default embedder and store the cosines"
    )
    parser.add_argument("--max-seq-length", type=int, default=None, help="score with N-token vectors (not stored)")
    parser.add_argument("--min-precision", type=float, default=0.9)
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "tool_tree_labels.json"))
    args = parser.parse_args()

    labels = load_labels(args.labels)
    if args.recompute or args.max_seq_length:  # the embedder's cosine for every pair
        from inftool_dagster.catalog.embeddings import MAX_SEQ_LENGTH, ToolEmbedder

        embedder = ToolEmbedder(max_seq_length=args.max_seq_length or MAX_SEQ_LENGTH)
        a = embedder.embed([x["a_text"] for x in labels])
        b = embedder.embed([x["b_text"] for x in labels])
        for x, sim in zip(labels, (a * b).sum(axis=1).tolist()):
            x.setdefault("similarity_drawn", x["similarity"])
            x["similarity"] = round(float(sim), 4)
        if args.recompute:  # the default embedder's cosines, written back to the sample
            Path(args.labels).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in labels))
    table = threshold_table(labels)
    similarity_only = threshold_table([x | {"params_compatible": True} for x in labels])
    chosen = choose_threshold(table, min_precision=args.min_precision)
    bins: dict[str, dict[str, int]] = {}
    for x in labels:
        lo = min(0.975, int(float(x["similarity"]) * 40) / 40)
        key = f"{lo:.3f}"
        bins.setdefault(key, {"pairs": 0, "duplicates": 0})
        bins[key]["pairs"] += 1
        bins[key]["duplicates"] += int(bool(x["label"]))
    record = {
        "labels": str(Path(args.labels).relative_to(ROOT)) if Path(args.labels).is_relative_to(ROOT) else args.labels,
        "max_seq_length": args.max_seq_length,
        "pairs": len(labels),
        "duplicates": sum(bool(x["label"]) for x in labels),
        "params_compatible": sum(bool(x["params_compatible"]) for x in labels),
        "by_similarity_bin": dict(sorted(bins.items())),
        "rule": "cosine >= t and params_compatible (same method and resource where known; required Jaccard >= 0.5)",
        "min_precision": args.min_precision,
        "chosen": chosen,
        "default_threshold": DEFAULT_THRESHOLD,
        "default_matches_chosen": chosen["threshold"] == DEFAULT_THRESHOLD,
        "table": table,
        "similarity_only": similarity_only,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"{'t':>5} {'P':>6} {'R':>6} {'F1':>6}   similarity only: {'P':>6} {'R':>6} {'F1':>6}")
    for row, alone in zip(table, similarity_only):
        mark = " <" if row["threshold"] == chosen["threshold"] else ""
        print(
            f"{row['threshold']:5.2f} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f}"
            f"   {'':16}{alone['precision']:6.3f} {alone['recall']:6.3f} {alone['f1']:6.3f}{mark}"
        )
    print(json.dumps({"chosen": chosen, "default_threshold": DEFAULT_THRESHOLD}))


if __name__ == "__main__":
    main()
