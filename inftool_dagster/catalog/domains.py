"""Domains and sub-domains of the canonical tools: k-means on their unit embeddings.

A tool's own embedding says mostly what it *does* (get, delete, count); its API says what it
is *about*. So each tool is clustered by its vector blended with its spec's mean vector
(``SPEC_WEIGHT``): on a tenth of APIs.guru (9,542 canonical tools, 21 domains) that raised
agreement with the APIs.guru categories from purity 0.53 / NMI 0.28 (tool vectors alone) to
0.66 / 0.53 (weight 0.7; 0.5 gave 0.64 / 0.47, the spec mean alone 0.64 / 0.51).

The number of top-level domains grows with the cube root of the catalog
(``round(n ** (1/3))``, at most 30): 3,059 canonical tools (the paper's tree) give 15, as the
paper found; a handful of tools give one or two. Sub-domains use the same rule inside each
domain. Clusters are named by their members' most common catalog category (the APIs.guru
label) and their most distinctive words (c-TF-IDF over tool names and descriptions against
the sibling clusters). Agreement with the catalog's categories is reported as purity and NMI.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import normalized_mutual_info_score

SPEC_WEIGHT = 0.7
MAX_DOMAINS = 30
MAX_SUBDOMAINS = 30
FULL_KMEANS_LIMIT = 20_000  # above this many points MiniBatchKMeans (same seed rule)
NAME_WORDS = 3
# Words every API has: no help in telling domains apart.
API_STOP_WORDS = frozenset(
    "api apis com org net io www http https json xml id ids get gets set sets list lists create creates update "
    "updates delete deletes remove removes add adds patch put post retrieve retrieves fetch fetches return "
    "returns request response specified given existing single new use used using object objects resource "
    "resources value values string number true false null count navigation property properties invoke action "
    "entity details information collection supports read nullable beta".split()
)
_WORD = re.compile(r"[a-z][a-z]{2,}")


def domain_count(n: int, *, cap: int = MAX_DOMAINS) -> int:
    """``round(n ** (1/3))`` clusters, at least 1, at most ``cap`` and ``n``."""
    if n <= 0:
        return 0
    return int(min(cap, n, max(1, round(n ** (1 / 3)))))


def kmeans_labels(vectors: np.ndarray, k: int, *, seed: int = 0) -> np.ndarray:
    """Cluster ids 0..k-1, numbered by decreasing cluster size (ties: first member), so the
    same input and seed give the same numbering."""
    n = len(vectors)
    if k <= 1 or n <= 1:
        return np.zeros(n, dtype=np.int64)
    if n <= FULL_KMEANS_LIMIT:
        model = KMeans(n_clusters=k, n_init=3, random_state=seed)
    else:
        model = MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=seed)
    raw = model.fit_predict(np.asarray(vectors, dtype=np.float32))
    return _renumber(raw)


def _renumber(raw: np.ndarray) -> np.ndarray:
    ids, first, counts = np.unique(raw, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda x: (-counts[x], first[x]))
    mapping = np.empty(int(ids.max()) + 1, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    return mapping[raw]


def tool_words(name: str, description: str) -> str:
    """Lower-case words of a tool's name (split at ``_``) and description, for naming."""
    return f"{name.replace('_', ' ')} {description[:1000]}".lower()


def distinctive_words(docs_by_cluster: Sequence[Sequence[str]], top: int = NAME_WORDS) -> list[list[str]]:
    """c-TF-IDF: each cluster's text as one document; a word's weight is its frequency in the
    cluster times log(1 + average words per cluster / its frequency over all clusters)."""
    joined = [" ".join(docs) for docs in docs_by_cluster]
    if not any(_WORD.search(d) for d in joined):
        return [[] for _ in joined]
    vectorizer = CountVectorizer(
        token_pattern=_WORD.pattern,
        stop_words=sorted(ENGLISH_STOP_WORDS | API_STOP_WORDS),
        lowercase=True,
    )
    try:
        counts = vectorizer.fit_transform(joined).astype(np.float64)
    except ValueError:  # nothing but stop words
        return [[] for _ in joined]
    words = vectorizer.get_feature_names_out()
    tf = counts.multiply(1.0 / np.maximum(counts.sum(axis=1), 1)).tocsr()
    per_word = np.asarray(counts.sum(axis=0)).ravel()
    avg = counts.sum() / max(1, counts.shape[0])
    idf = np.log1p(avg / np.maximum(per_word, 1))
    weights = tf.multiply(idf).tocsr()
    out = []
    for row in range(weights.shape[0]):
        line = weights.getrow(row)
        order = np.lexsort((words[line.indices], -line.data))[:top]
        out.append([str(words[line.indices[x]]) for x in order])
    return out


def cluster_names(labels: np.ndarray, categories: Sequence[str], docs: Sequence[str]) -> dict[int, str]:
    """``"<most common category>: w1, w2, w3"`` per cluster id in ``labels``."""
    ids = sorted(int(x) for x in np.unique(labels))
    grouped_docs = [[docs[i] for i in np.flatnonzero(labels == c)] for c in ids]
    words = distinctive_words(grouped_docs)
    names = {}
    for c, w in zip(ids, words):
        members = Counter(categories[i] for i in np.flatnonzero(labels == c))
        top = sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] if members else "misc"
        names[c] = f"{top}: {', '.join(w)}" if w else top
    return names


def purity(labels: np.ndarray, categories: Sequence[str]) -> float:
    """Share of tools whose cluster's most common category is their own."""
    if not len(labels):
        return 0.0
    hits = 0
    for c in np.unique(labels):
        hits += Counter(categories[i] for i in np.flatnonzero(labels == c)).most_common(1)[0][1]
    return hits / len(labels)


@dataclass
class DomainTree:
    domain: np.ndarray  # [n] domain id per clustered tool
    subdomain: np.ndarray  # [n] sub-domain id within its domain
    domain_names: dict[int, str]
    subdomain_names: dict[tuple[int, int], str]
    purity: float
    nmi: float

    @property
    def domains(self) -> int:
        return len(self.domain_names)

    @property
    def subdomains(self) -> int:
        return len(self.subdomain_names)


def spec_blend(vectors: np.ndarray, specs: Sequence[str] | None, weight: float = SPEC_WEIGHT) -> np.ndarray:
    """Unit rows of ``(1 - weight) * tool + weight * mean of its spec's tools``."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if specs is None or weight <= 0 or not len(vectors):
        return vectors
    _, spec_index = np.unique(np.asarray(specs, dtype=object).astype(str), return_inverse=True)
    centroids = np.zeros((int(spec_index.max()) + 1, vectors.shape[1]), dtype=np.float64)
    np.add.at(centroids, spec_index, vectors)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    blended = (1 - weight) * vectors + weight * centroids[spec_index]
    blended /= np.maximum(np.linalg.norm(blended, axis=1, keepdims=True), 1e-12)
    return blended.astype(np.float32)


def build_domains(
    vectors: np.ndarray,
    categories: Sequence[str],
    docs: Sequence[str],
    *,
    specs: Sequence[str] | None = None,
    domains: int | None = None,
    seed: int = 0,
    spec_weight: float = SPEC_WEIGHT,
) -> DomainTree:
    """Two-level k-means tree over ``vectors`` (the canonical tools; blended with their
    ``specs``' means), named and scored against ``categories`` (one catalog category per
    tool). ``domains`` overrides the size rule."""
    vectors = spec_blend(vectors, specs, spec_weight)
    n = len(vectors)
    k = domain_count(n) if domains is None else int(min(max(1, domains), max(1, n)))
    top = kmeans_labels(vectors, k, seed=seed) if n else np.zeros(0, np.int64)
    sub = np.zeros(n, dtype=np.int64)
    sub_names: dict[tuple[int, int], str] = {}
    for d in np.unique(top):
        members = np.flatnonzero(top == d)
        labels = kmeans_labels(vectors[members], domain_count(len(members), cap=MAX_SUBDOMAINS), seed=seed)
        sub[members] = labels
        names = cluster_names(labels, [categories[i] for i in members], [docs[i] for i in members])
        sub_names.update({(int(d), s): name for s, name in names.items()})
    nmi = float(normalized_mutual_info_score(list(categories), top)) if n > 1 else 1.0
    return DomainTree(
        domain=top,
        subdomain=sub,
        domain_names=cluster_names(top, categories, docs) if n else {},
        subdomain_names=sub_names,
        purity=purity(top, categories),
        nmi=nmi,
    )
