"""Enumerate spec inputs (files, directories, ``.tgz`` archives) as raw bytes with a spec id.

Size limits are checked before reading, so an enormous member is rejected without
loading it into memory.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SPEC_SUFFIXES = (".json", ".yaml", ".yml", ".jsonl")
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz", ".tar")
SAMPLE_SPECS = Path(__file__).resolve().parent.parent / "sample_specs"  # the bundled specs of the default round
PYTHON_PREFIX = "py:"  # ``py:package.module``: tools written as Python functions (python_tools.py)
SAMPLE_PYTHON_TOOLS = "py:inftool_dagster.sample_tools.everyday"  # the default round's Python-function tools


def is_python_target(path: str | Path) -> bool:
    """A ``py:`` module or a ``.py`` file: imported by ``python_tools``, never read as a spec."""
    text = str(path)
    return text.startswith(PYTHON_PREFIX) or (text.lower().endswith(".py") and not Path(text).is_dir())


@dataclass
class SpecSource:
    source: str  # where it came from, for humans (path or archive!member)
    spec_id: str  # stable id: relative path without suffix
    data: bytes | None  # None when it was not read (see ``skip_reason``)
    suffix: str
    size: int
    skip_reason: str | None = None


def _spec_id(relative: str) -> str:
    rel = relative.replace("\\", "/")
    for prefix in ("package/api/", "package/", "./"):
        if rel.startswith(prefix):
            rel = rel[len(prefix) :]
    for suffix in SPEC_SUFFIXES:
        if rel.lower().endswith(suffix):
            return rel[: -len(suffix)]
    return rel


def _suffix(name: str) -> str:
    lower = name.lower()
    return next((s for s in SPEC_SUFFIXES if lower.endswith(s)), "")


def iter_sources(paths: list[str | Path], *, max_bytes: int) -> Iterator[SpecSource]:
    """Yield every spec under ``paths`` in a stable order.

    Python targets (``is_python_target``) are skipped: ``python_tools`` handles them, and a
    directory walk takes spec suffixes only, so it never imports a ``.py`` file.
    """
    for raw in paths:
        if is_python_target(raw):
            continue
        path = Path(raw)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.name.lower().endswith(ARCHIVE_SUFFIXES):
                    yield from _iter_archive(file, max_bytes)
                elif _suffix(file.name):
                    yield _read_file(file, _spec_id(str(file.relative_to(path))), max_bytes)
        elif path.name.lower().endswith(ARCHIVE_SUFFIXES):
            yield from _iter_archive(path, max_bytes)
        elif path.is_file():
            yield _read_file(path, _spec_id(path.name), max_bytes)
        else:
            yield SpecSource(str(path), _spec_id(path.name), None, "", 0, "not_found")


def _read_file(path: Path, spec_id: str, max_bytes: int) -> SpecSource:
    size = path.stat().st_size
    if size > max_bytes:
        return SpecSource(str(path), spec_id, None, _suffix(path.name), size, "too_large")
    return SpecSource(str(path), spec_id, path.read_bytes(), _suffix(path.name), size)


def _iter_archive(path: Path, max_bytes: int) -> Iterator[SpecSource]:
    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        yield SpecSource(str(path), _spec_id(path.name), None, "", 0, f"bad_archive: {exc}")
        return
    with archive:
        try:
            for member in archive:  # stream order: a gzip stream cannot seek back cheaply
                if not (member.isfile() and _suffix(member.name)):
                    continue
                source = f"{path}!{member.name}"
                spec_id = _spec_id(member.name)
                if member.size > max_bytes:
                    yield SpecSource(source, spec_id, None, _suffix(member.name), member.size, "too_large")
                    continue
                handle = archive.extractfile(member)
                data = handle.read() if handle else b""
                yield SpecSource(source, spec_id, data, _suffix(member.name), member.size)
        except (tarfile.TarError, OSError, EOFError) as exc:
            yield SpecSource(str(path), _spec_id(path.name), None, "", 0, f"bad_archive: {exc}")
