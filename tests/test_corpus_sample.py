"""A slice of the real APIs.guru directory: ingestion must hold up on real specs."""

import itertools
import tarfile

import pytest

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.quality import check_schemas, duplicate_names

from .conftest import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus not present")


@pytest.fixture(scope="module")
def corpus_slice(tmp_path_factory):
    """Every 20th spec of the directory (~130 specs across providers), as its own .tgz."""
    out = tmp_path_factory.mktemp("corpus") / "slice.tgz"
    with tarfile.open(CORPUS, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        members = (m for m in src if m.isfile() and m.name.startswith("package/api/") and m.name.endswith(".json"))
        for member in itertools.islice(members, 0, None, 20):
            if member.size < 3_000_000:
                dst.addfile(member, src.extractfile(member))
    return out


def test_real_specs_yield_functions_with_valid_schemas(corpus_slice):
    build = build_catalog([corpus_slice], workers=2)
    assert build.specs >= 100
    assert build.specs_ok / build.specs >= 0.97
    assert set(build.rejections.filter(build.rejections["kind"] == "spec")["reason_code"]) <= {"no_operations"}
    validity = check_schemas(build.functions, limit=4000)
    assert validity.invalid == 0, validity.examples
    assert duplicate_names(build.functions) == []
    assert build.functions.filter(build.functions["description"].str.len_chars() == 0).height == 0
