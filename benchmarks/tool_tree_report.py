"""Write the MCP tree's figures into ``docs/tree.md`` (between its ``figures`` markers) from the
benchmark records, and keep the whole-catalog tree's domains and picture beside them.

    .venv/bin/python benchmarks/tool_tree_report.py [--tree-dir WORK/tree_base]

``--tree-dir``: the cold run's tree of ``benchmarks/bench_tool_tree.py`` (its ``domains.json``
and ``tree.png`` are copied to ``docs/bench/tool_tree_domains.json`` and
``docs/img/tool_tree.png``).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "docs" / "bench"
START, END = "<!-- figures:start (benchmarks/tool_tree_report.py) -->", "<!-- figures:end -->"


def _run_row(label: str, record: dict) -> str:
    cold, warm = record["cold"], record["warm"]
    whole = record["embedding"]["whole_catalog"]
    return (
        f"| {label} | {cold['functions']:,} | {cold['embedded']:,} | {whole['mean_embedded_tokens']} | "
        f"{cold['embed_texts_per_s']} / {cold['embed_tokens_per_s']:,.0f} | {cold['seconds'] / 60:.1f} | "
        f"{warm['embedded']} new, {warm['seconds']:.0f} s | {cold['peak_rss_mib']:,.0f} | "
        f"{cold['canonical_tools']:,} ({cold['reduction_ratio']:.3f}) | {cold['domains']} / {cold['subdomains']} | "
        f"{cold['purity']:.3f} / {cold['nmi']:.3f} |"
    )


def _ci(correct: int, total: int) -> str:
    """A proportion's Wilson 95 % interval, as the docs write it."""
    from inftool_dagster.evaluation.intervals import wilson

    interval = wilson(correct, total)
    return f"[{interval[0]:.2f}, {interval[1]:.2f}]" if interval else ""


def figures(tree: dict, seq64: dict | None, labels: dict, domains: dict | None) -> str:
    lines = ["### Scale: the whole APIs.guru catalog on 2 cores", ""]
    lines += [
        "| run | functions (cold) | texts embedded | mean tokens | texts/s / tokens/s | cold minutes | "
        "warm (3 specs added) | peak MiB | canonical tools (reduction) | domains / sub-domains | "
        "purity / NMI vs APIs.guru categories |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines.append(_run_row(f"default ({tree['cold']['max_seq_length']} tokens, t={tree['cold']['threshold']})", tree))
    if seq64 is not None:
        lines.append(_run_row(f"64 tokens, t={seq64['cold']['threshold']}", seq64))
    paper = tree["paper"]
    lines += [
        f"| the paper's tree | {paper['functions']:,} | | | | | | | {paper['canonical_tools']:,} "
        f"({tree['paper_reduction_ratio']:.3f}) | {paper['domains']} | |",
        "",
        f"Phases of the default cold run (s): {json.dumps(tree['cold']['phase_seconds'])}. "
        f"Commands: `{tree['command']}`" + (f"; `{seq64['command']}`." if seq64 else "."),
        "",
        "### The merge threshold on the labelled sample",
        "",
        f"{labels['pairs']} pairs ({labels['duplicates']} duplicates), rule: {labels['rule']}; chosen: best F1 "
        f"with precision ≥ {labels['min_precision']}.",
        "",
        "| threshold | precision [95 %] | recall [95 %] | F1 | tp / fp / fn | similarity alone: P / R |",
        "|---|---|---|---|---|---|",
    ]
    alone = {r["threshold"]: r for r in labels["similarity_only"]}
    for row in labels["table"]:
        if row["threshold"] in (0.80, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94, 0.96, 0.98):
            mark = " **(chosen)**" if row["threshold"] == labels["chosen"]["threshold"] else ""
            a = alone[row["threshold"]]
            lines.append(
                f"| {row['threshold']:.2f}{mark} | {row['precision']:.3f} {_ci(row['tp'], row['tp'] + row['fp'])} | "
                f"{row['recall']:.3f} {_ci(row['tp'], row['tp'] + row['fn'])} | {row['f1']:.3f} | "
                f"{row['tp']} / {row['fp']} / {row['fn']} | {a['precision']:.3f} / {a['recall']:.3f} |"
            )
    lines += [
        "",
        "Command: `.venv/bin/python benchmarks/tool_tree_labels.py` (record `docs/bench/tool_tree_labels.json`).",
    ]
    if domains is not None:
        lines += [
            "",
            "### The whole catalog's domains (default cold run)",
            "",
            "![the MCP tree of APIs.guru](img/tool_tree.png)",
            "",
            "| domain | canonical tools | functions | largest sub-domains |",
            "|---|---|---|---|",
        ]
        for d in domains["domains"]:
            subs = sorted(d["subdomains"], key=lambda s: -s["tools"])[:3]
            lines.append(
                f"| {d['name']} | {d['tools']:,} | {d['functions']:,} | "
                + "; ".join(f"{s['name']} ({s['tools']})" for s in subs)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.tree_dir is not None:
        shutil.copyfile(args.tree_dir / "domains.json", BENCH / "tool_tree_domains.json")
        shutil.copyfile(args.tree_dir / "tree.png", ROOT / "docs" / "img" / "tool_tree.png")
    tree = json.loads((BENCH / "tool_tree.json").read_text())
    seq64_path = BENCH / "tool_tree_seq64.json"
    seq64 = json.loads(seq64_path.read_text()) if seq64_path.exists() else None
    labels = json.loads((BENCH / "tool_tree_labels.json").read_text())
    domains_path = BENCH / "tool_tree_domains.json"
    domains = json.loads(domains_path.read_text()) if domains_path.exists() else None
    doc = ROOT / "docs" / "tree.md"
    text = doc.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + START + "\n" + figures(tree, seq64, labels, domains) + "\n" + END + tail)
    print(json.dumps({"written": str(doc.relative_to(ROOT))}))


if __name__ == "__main__":
    main()
