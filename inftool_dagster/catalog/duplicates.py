"""Near-duplicate tools: the same operation in several versions or vendors' copies of an API.

Two tools merge when their embeddings are close (cosine ≥ a threshold) *and* they are called
alike: the same HTTP method and the same resource (the last two literal segments of the
path, version segments dropped) where both have them, and required-parameter names,
normalised, overlapping by Jaccard ≥ ``PARAM_JACCARD``. The second rule keeps apart tools that
read alike but are called differently: "list users" vs "get user by id", GET vs DELETE of one
path, and the boilerplate families whose texts differ by a word (Graph's ``…/$count`` of
every collection, Excel workbook functions). Merged pairs become groups (connected
components); each group keeps one canonical tool and records the rest as its aliases.

Candidate pairs come from an exact search: blocked matrix products of the unit vectors with
a top-k per row, so the n × n similarity matrix never exists whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from inftool_dagster.catalog.embeddings import header_names, json_object

# Chosen on data/duplicate_labels.jsonl: 240 candidate pairs of APIs.guru tools (30 in each
# 0.025-wide cosine bin from 0.80 to 1.00 of the 128-token vectors they were drawn with, from a
# tenth of the directory picked by a hash of the version-less path, so a spec's versions and
# copies come in together), each labelled by reading both tools. The threshold of best F1
# among those with precision ≥ 0.9 for the whole merge rule, on the default embedder's
# (48-token) cosines: 0.88 → P 0.913, R 0.808 (42 of the 52 duplicates; 4 false merges, texts
# identical across issuers, e.g. two school boards' copies of one certificate API). With
# 64-token vectors the same rule picks 0.92 (P 0.918, R 0.865).
# benchmarks/tool_tree_labels.py reproduces the table (docs/bench/tool_tree_labels.json).
DEFAULT_THRESHOLD = 0.88
PARAM_JACCARD = 0.5
TOP_K = 20
LABELS_PATH = Path(__file__).resolve().parent / "data" / "duplicate_labels.jsonl"
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PATH_PARAM = re.compile(r"\{[^}]*\}")
_VERSION = re.compile(r"v\d+[a-z0-9.]*|\d+([.-]\d+)*")  # v1, v1beta2, 2.0, 2010-04-01


def nearest_pairs(
    vectors: np.ndarray,
    *,
    min_similarity: float,
    k: int = TOP_K,
    block: int = 512,
    queries: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j, cosine)`` with ``i < j``, cosine ≥ ``min_similarity``, and ``j`` among the
    ``k`` nearest of ``i`` or ``i`` among those of ``j``. Rows are unit vectors. ``queries``
    (row indices; default all) limits the search to pairs with at least one of them."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    queries = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64)
    k = min(k, n - 1)
    found_i, found_j, found_s = [], [], []
    if k <= 0 or not len(queries):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    for lo in range(0, len(queries), block):
        rows_of = queries[lo : lo + block]
        sims = vectors[rows_of] @ vectors.T
        sims[np.arange(len(rows_of)), rows_of] = -np.inf  # not its own neighbour
        hits = sims >= min_similarity
        counts = hits.sum(axis=1)
        heavy = np.flatnonzero(counts > k)
        if len(heavy):  # rows with more than k hits keep their k nearest
            top = np.argpartition(-sims[heavy], k - 1, axis=1)[:, :k]
            hits[heavy] = False
            hits[heavy[:, None], top] = sims[heavy[:, None], top] >= min_similarity
        rows, cols = np.nonzero(hits)
        found_i.append(rows_of[rows])
        found_j.append(cols)
        found_s.append(sims[rows, cols])
    i = np.concatenate(found_i)
    j = np.concatenate(found_j)
    s = np.concatenate(found_s).astype(np.float32)
    a, b = np.minimum(i, j), np.maximum(i, j)
    _, first = np.unique(a * n + b, return_index=True)
    return a[first], b[first], s[first]


def candidate_pairs(
    sigs: Sequence[Signature], vectors: np.ndarray, *, min_similarity: float, k: int = TOP_K
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``nearest_pairs`` restricted to pairs the parameter rule could merge: tools with a method
    and a resource are compared only within their (method, resource) bucket; tools without
    (function docs, MCP listings) against every tool. On APIs.guru this replaces one
    125k x 125k search by ~100k small ones (the rule would reject every cross-bucket pair)."""
    buckets: dict[tuple, list[int]] = {}
    open_rows: list[int] = []
    for idx, sig in enumerate(sigs):
        if sig.method and sig.resource is not None:
            buckets.setdefault((sig.method, sig.resource), []).append(idx)
        else:
            open_rows.append(idx)
    found_i, found_j, found_s = [], [], []
    for members in buckets.values():
        if len(members) < 2:
            continue
        index = np.asarray(members, dtype=np.int64)
        i, j, s = nearest_pairs(vectors[index], min_similarity=min_similarity, k=k)
        found_i.append(index[i])
        found_j.append(index[j])
        found_s.append(s)
    if open_rows:
        i, j, s = nearest_pairs(vectors, min_similarity=min_similarity, k=k, queries=np.asarray(open_rows))
        found_i.append(i)
        found_j.append(j)
        found_s.append(s)
    if not found_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    i, j, s = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_s)
    n = len(vectors)
    _, first = np.unique(i * n + j, return_index=True)  # an open row meets a bucket row twice
    return i[first], j[first], s[first]


def normalise_param(name: str) -> str:
    """``userId`` / ``user_id`` / ``user-id`` → ``userid``."""
    return _NON_ALNUM.sub("", name.lower())


@dataclass(frozen=True)
class Signature:
    """How a tool is called: HTTP method and resource (when known), required argument names."""

    method: str | None
    resource: tuple[str, ...] | None
    required: frozenset[str]


def resource_of(path: str | None) -> tuple[str, ...] | None:
    """The last two literal segments of a path, lower-cased, parameters and versions dropped:
    ``/v2/users/{id}/repos`` → ``("users", "repos")``; ``/2010-04-01/Accounts/{sid}/Calls.json``
    → ``("accounts", "calls.json")``."""
    if not path:
        return None
    segments = []
    for segment in path.split("?", 1)[0].split("/"):
        literal = _PATH_PARAM.sub("", segment).lower()
        if literal and not _VERSION.fullmatch(literal):
            segments.append(literal)
    return tuple(segments[-2:])


def signature(row: Mapping[str, Any]) -> Signature:
    schema = json_object(row.get("parameters"))
    headers = header_names(row.get("param_locations"))
    required = [r for r in schema.get("required") or [] if isinstance(r, str) and r not in headers]
    return make_signature(row.get("method"), row.get("path"), required)


def make_signature(method: str | None, path: str | None, required: Iterable[str]) -> Signature:
    return Signature(
        method=str(method).upper() if method else None,
        resource=resource_of(path),
        required=frozenset(normalise_param(r) for r in required),
    )


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def params_compatible(a: Signature, b: Signature, *, min_jaccard: float = PARAM_JACCARD) -> bool:
    """Interchangeable for a caller: same method and resource (where both have one), and
    required names that mostly agree (both none counts as agreeing)."""
    if a.method and b.method and a.method != b.method:
        return False
    if a.resource is not None and b.resource is not None and a.resource != b.resource:
        return False
    return jaccard(a.required, b.required) >= min_jaccard


@dataclass
class DuplicateGroups:
    group: np.ndarray  # [n] group id per tool, 0..groups-1, numbered by their canonical's position
    canonical: np.ndarray  # [n] index of the tool's group's canonical tool
    pairs: int  # candidate pairs at or above the threshold
    merged_pairs: int  # of those, the ones the parameter rule let merge

    @property
    def groups(self) -> int:
        return int(self.group.max()) + 1 if len(self.group) else 0

    @property
    def canonical_mask(self) -> np.ndarray:
        return self.canonical == np.arange(len(self.canonical))


def find_duplicates(
    frame: pl.DataFrame,
    vectors: np.ndarray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_jaccard: float = PARAM_JACCARD,
    k: int = TOP_K,
) -> DuplicateGroups:
    """Group the catalog's rows (aligned with ``vectors``) into near-duplicate groups."""
    n = frame.height
    if n == 0:
        return DuplicateGroups(np.zeros(0, np.int64), np.zeros(0, np.int64), 0, 0)
    rows = frame.select("parameters", "param_locations", "method", "path").iter_rows(named=True)
    sigs = [signature(r) for r in rows]
    i, j, _ = candidate_pairs(sigs, vectors, min_similarity=threshold, k=k)
    keep = np.array(
        [params_compatible(sigs[a], sigs[b], min_jaccard=min_jaccard) for a, b in zip(i.tolist(), j.tolist())],
        dtype=bool,
    )
    graph = coo_matrix((np.ones(int(keep.sum())), (i[keep], j[keep])), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    rank = canonical_rank(frame)  # 0 = the best canonical candidate
    canonical_of = {}
    for idx in np.argsort(rank, kind="stable"):
        canonical_of.setdefault(int(component[idx]), int(idx))
    canonical = np.array([canonical_of[int(c)] for c in component], dtype=np.int64)
    # group ids in catalog order of the canonical tools: stable when unrelated tools are added
    _, group = np.unique(canonical, return_inverse=True)
    return DuplicateGroups(group.astype(np.int64), canonical, len(i), int(keep.sum()))


_PRE_RELEASE = re.compile(r"alpha|beta|preview|experimental|draft", re.IGNORECASE)
_NUMBER = re.compile(r"\d+")


def canonical_rank(frame: pl.DataFrame) -> np.ndarray:
    """Order in which a group's members are preferred as its canonical tool: a stable release
    over a pre-release (``graph`` over ``graph-beta``), then the newest version in the spec id
    (``ghes-3.8`` over ``ghes-3.3``, dates likewise), then the longest description, then name."""
    specs = frame["spec_id"].fill_null("").to_list()
    descriptions = frame["description"].fill_null("").to_list()
    names = frame["name"].to_list()

    def key(idx: int) -> tuple:
        spec = specs[idx]
        version = tuple(int(x) for x in _NUMBER.findall(spec.split("/", 1)[-1]))[:6]
        return (
            bool(_PRE_RELEASE.search(spec)),
            tuple(-v for v in version) + (0,) * (6 - len(version)),
            -len(descriptions[idx]),
            names[idx],
        )

    order = sorted(range(frame.height), key=key)
    rank = np.empty(frame.height, dtype=np.int64)
    rank[order] = np.arange(frame.height)
    return rank


# --- the labelled sample and the threshold ---------------------------------------------------


def load_labels(path: str | Path = LABELS_PATH) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def threshold_table(labels: Sequence[Mapping], thresholds: Iterable[float] | None = None) -> list[dict]:
    """Precision, recall and F1 of the merge rule (cosine ≥ t and parameters compatible) on the
    labelled pairs, per threshold. Recall counts the labelled duplicates of the sample, all of
    which are candidate pairs (cosine ≥ the sample's floor)."""
    if thresholds is None:
        thresholds = [round(0.80 + 0.01 * x, 2) for x in range(20)]
    sims = np.array([float(x["similarity"]) for x in labels])
    compatible = np.array([bool(x["params_compatible"]) for x in labels])
    truth = np.array([bool(x["label"]) for x in labels])
    table = []
    for t in thresholds:
        predicted = (sims >= t) & compatible
        tp = int((predicted & truth).sum())
        fp = int((predicted & ~truth).sum())
        fn = int((~predicted & truth).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table.append(
            {
                "threshold": float(t),
                "tp": tp,
                "fp": fp,
                "fn": fn,
                "precision": round(precision, 4),
                "recall": round(recall, 4),
                "f1": round(f1, 4),
            }
        )
    return table


def choose_threshold(table: Sequence[Mapping], *, min_precision: float = 0.9) -> dict:
    """The row of best F1 among those with precision ≥ ``min_precision`` (ties: the higher,
    more conservative threshold); the most precise row when none reaches it."""
    ok = [r for r in table if r["precision"] >= min_precision]
    if not ok:
        return max(table, key=lambda r: (r["precision"], r["threshold"]))
    return max(ok, key=lambda r: (r["f1"], r["threshold"]))
