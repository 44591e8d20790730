"""The MCP Tree: the catalog's tool universe de-duplicated and organised into domains.

``build_tool_tree`` embeds every tool (cached by content), merges near-duplicates into groups
with one canonical tool each, clusters the canonical tools into domains and sub-domains, and
writes:

- ``tool_tree.parquet``: one row per catalog function (its canonical tool, group, domain and
  sub-domain; aliases inherit their canonical's place, a canonical row lists its aliases).
  ``split_key`` is the sub-domain: a held-out split by it keeps every near-duplicate of a tool
  on the same side.
- ``domains.json``: the domains with names, sizes and sub-domains.
- ``tree.png``: domain sizes with their sub-domain breakdown.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, Field

from inftool_dagster.catalog.builder import load_catalog
from inftool_dagster.catalog.domains import build_domains, tool_words
from inftool_dagster.catalog.duplicates import DEFAULT_THRESHOLD, find_duplicates
from inftool_dagster.catalog.embeddings import MAX_SEQ_LENGTH, ToolEmbedder, embed_texts, tool_text
from inftool_dagster.storage.wheels import cache_dir as user_cache_dir

TREE_SCHEMA = {
    "name": pl.Utf8,
    "canonical": pl.Utf8,
    "is_canonical": pl.Boolean,
    "aliases": pl.List(pl.Utf8),  # on a canonical row: the other members of its group
    "group_id": pl.Int64,
    "group_size": pl.Int64,
    "domain_id": pl.Int64,
    "domain_name": pl.Utf8,
    "subdomain_id": pl.Int64,
    "subdomain_name": pl.Utf8,
    "split_key": pl.Utf8,
    "category": pl.Utf8,
}


class TreeSettings(BaseModel):
    """How the tree is built; the one place its defaults live (``inftool catalog tree`` and the
    ``tool_tree`` asset read them)."""

    threshold: float = Field(DEFAULT_THRESHOLD, gt=0, le=1, description="Cosine at which near-twins merge.")
    max_seq_length: int = Field(
        MAX_SEQ_LENGTH, ge=8, le=256, description="Tokens of a tool's text embedded (the threshold was chosen at it)."
    )
    domains: int | None = Field(None, ge=1, description="Top-level domains (default: from the catalog's size).")
    seed: int = 0


@dataclass(frozen=True)
class TreePlace:
    """Where a tool sits in the tree: what the planner and the held-out split read."""

    domain: str  # the domain's readable name
    cluster: str  # its sub-domain (``split_key``): held-out splits are by cluster
    canonical: str  # its duplicate group's canonical tool
    group: int


def tree_places(table: pl.DataFrame) -> dict[str, TreePlace]:
    """``{tool name: TreePlace}`` from a tree table (``load_tool_tree``)."""
    return {
        name: TreePlace(domain, cluster, canonical, int(group))
        for name, domain, cluster, canonical, group in table.select(
            "name", "domain_name", "split_key", "canonical", "group_id"
        ).iter_rows()
    }


class EmptyCatalogError(ValueError):
    """The catalog has no functions: there is no tree to build."""


def default_cache_dir() -> Path:
    return user_cache_dir() / "embeddings"


def build_tool_tree(
    catalog_dir: str | Path,
    out_dir: str | Path,
    *,
    cache_dir: str | Path | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    domains: int | None = None,
    seed: int = 0,
    embedder: ToolEmbedder | None = None,
    max_seq_length: int = MAX_SEQ_LENGTH,
) -> dict[str, Any]:
    """Build the tree of ``catalog_dir`` into ``out_dir``; return the run's summary."""
    start = time.perf_counter()
    source = Path(catalog_dir)
    if not (source / "catalog.parquet" if source.is_dir() else source).is_file():
        raise EmptyCatalogError(f"{catalog_dir}: no catalog.parquet; build one with `inftool catalog build`")
    frame = load_catalog(catalog_dir)
    if frame.height == 0:
        raise EmptyCatalogError(f"{catalog_dir}: the catalog has no functions; build one with `inftool catalog build`")
    phases: dict[str, float] = {}
    mark = time.perf_counter()
    rows = frame.to_dicts()
    texts = [tool_text(r) for r in rows]
    mark = _phase(phases, "texts", mark)
    embedder = embedder or ToolEmbedder(max_seq_length=max_seq_length)
    embedded = embed_texts(texts, embedder, cache_dir if cache_dir is not None else default_cache_dir())
    vectors = embedded.vectors
    mark = _phase(phases, "embed", mark)  # with the model's loading and the cache's reading

    dups = find_duplicates(frame, vectors, threshold=threshold)
    mark = _phase(phases, "duplicates", mark)
    canon = np.flatnonzero(dups.canonical_mask)
    categories = [str(r.get("domain") or r.get("spec_id") or "") for r in rows]
    docs = [tool_words(str(r.get("name") or ""), str(r.get("description") or "")) for r in rows]
    tree = build_domains(
        vectors[canon],
        [categories[i] for i in canon],
        [docs[i] for i in canon],
        specs=[str(rows[i].get("spec_id") or "") for i in canon],
        domains=domains,
        seed=seed,
    )
    mark = _phase(phases, "domains", mark)
    # every function takes its canonical tool's place
    position = np.full(frame.height, -1, dtype=np.int64)
    position[canon] = np.arange(len(canon))
    where = position[dups.canonical]
    domain_id = tree.domain[where]
    subdomain_id = tree.subdomain[where]
    group_size = np.bincount(dups.group)[dups.group]
    names = frame["name"].to_list()
    table = pl.DataFrame(
        {
            "name": names,
            "canonical": [names[c] for c in dups.canonical],
            "is_canonical": dups.canonical_mask,
            "group_id": dups.group,
            "group_size": group_size,
            "domain_id": domain_id,
            "domain_name": [tree.domain_names[int(d)] for d in domain_id],
            "subdomain_id": subdomain_id,
            "subdomain_name": [tree.subdomain_names[(int(d), int(s))] for d, s in zip(domain_id, subdomain_id)],
            "split_key": [f"d{int(d):02d}.s{int(s):02d}" for d, s in zip(domain_id, subdomain_id)],
            "category": categories,
        },
        schema={k: v for k, v in TREE_SCHEMA.items() if k != "aliases"},
    )
    aliases = table.filter(~pl.col("is_canonical")).group_by("canonical").agg(pl.col("name").sort().alias("aliases"))
    table = (
        table.join(aliases, left_on="name", right_on="canonical", how="left", maintain_order="left")
        .with_columns(pl.col("aliases").fill_null([]))
        .select(list(TREE_SCHEMA))
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table.write_parquet(out / "tool_tree.parquet")
    domains_doc = _domains_doc(table)
    (out / "domains.json").write_text(json.dumps(domains_doc, indent=1))
    draw_tree(domains_doc, out / "tree.png")
    _phase(phases, "write", mark)

    seconds = time.perf_counter() - start
    return {
        "functions": frame.height,
        "canonical_tools": int(len(canon)),
        "reduction_ratio": round(1 - len(canon) / frame.height, 4),
        "duplicate_groups": int(np.sum(np.bincount(dups.group) > 1)),
        "domains": tree.domains,
        "subdomains": tree.subdomains,
        "purity": round(tree.purity, 4),
        "nmi": round(tree.nmi, 4),
        "threshold": threshold,
        "max_seq_length": embedder.max_seq_length,
        "embedded": embedded.embedded,
        "cached": embedded.cached,
        "embed_seconds": round(embedded.seconds, 3),
        "embed_texts_per_s": round(embedded.embedded / embedded.seconds, 1) if embedded.seconds else None,
        "embed_tokens_per_s": round(embedded.tokens / embedded.seconds, 1) if embedded.seconds else None,
        "phase_seconds": phases,
        "seconds": round(seconds, 3),
        "peak_rss_mib": peak_rss_mib(),
    }


def _phase(phases: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    phases[name] = round(now - since, 3)
    return now


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _domains_doc(table: pl.DataFrame) -> dict[str, Any]:
    canon = table.filter(pl.col("is_canonical"))
    domains = []
    by_domain = canon.group_by("domain_id", "domain_name").agg(pl.len().alias("tools")).sort("domain_id")
    all_by_domain = dict(table.group_by("domain_id").agg(pl.len()).iter_rows())
    for d, name, tools in by_domain.iter_rows():
        subs = (
            canon.filter(pl.col("domain_id") == d)
            .group_by("subdomain_id", "subdomain_name")
            .agg(pl.len().alias("tools"), pl.col("name").head(3).alias("examples"))
            .sort("subdomain_id")
        )
        domains.append(
            {
                "id": int(d),
                "name": name,
                "tools": int(tools),  # canonical tools
                "functions": int(all_by_domain[d]),  # with their aliases
                "subdomains": [
                    {"id": int(s), "name": sname, "tools": int(n), "examples": ex}
                    for s, sname, n, ex in subs.iter_rows()
                ],
            }
        )
    return {"functions": table.height, "canonical_tools": canon.height, "domains": domains}


def draw_tree(domains_doc: dict[str, Any], path: str | Path) -> Path:
    """Horizontal bars, one per domain (canonical tools), split into its sub-domains."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    domains = domains_doc["domains"]
    height = max(2.5, 0.45 * len(domains) + 1.2)
    fig, ax = plt.subplots(figsize=(11, height))
    cmap = plt.get_cmap("tab20")
    for row, domain in enumerate(domains):
        left = 0
        for s, sub in enumerate(domain["subdomains"]):
            ax.barh(row, sub["tools"], left=left, color=cmap(s % 20), edgecolor="white", linewidth=0.5)
            left += sub["tools"]
    ax.set_yticks(range(len(domains)), [f"{d['name'][:60]} ({d['tools']})" for d in domains], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("canonical tools (segments: sub-domains)")
    ax.set_title(
        f"MCP tree: {domains_doc['functions']:,} functions → {domains_doc['canonical_tools']:,} canonical tools, "
        f"{len(domains)} domains"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def load_tool_tree(out_dir: str | Path) -> pl.DataFrame:
    """The tree table written by ``build_tool_tree`` (``tool_tree.parquet``)."""
    path = Path(out_dir)
    return pl.read_parquet(path / "tool_tree.parquet" if path.is_dir() else path)
