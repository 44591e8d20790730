"""Build a tool catalog from spec files, directories and archives, in parallel.

Inputs: spec files, directories and archives; ``.py`` files and ``py:`` modules (Python functions).
Output: ``catalog.parquet`` (one row per function) and ``rejections.parquet`` (every spec
or operation not taken, with its reason). Nothing a single spec does can stop the batch.
"""

from __future__ import annotations

import os
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .function_docs import detect_function_docs, extract_function_docs
from .naming import make_unique
from .openapi import extract_openapi, spec_version
from .parsing import SpecParseError, parse_document
from .records import Rejection, ToolFunction, functions_frame, rejections_frame
from .sources import SpecSource, is_python_target, iter_sources

DEFAULT_MAX_SPEC_BYTES = 64 * 1024 * 1024


@dataclass
class SpecResult:
    spec_id: str
    functions: list[ToolFunction]
    rejections: list[Rejection]


@dataclass
class CatalogBuild:
    functions: pl.DataFrame
    rejections: pl.DataFrame
    specs: int
    specs_ok: int
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {
            "specs": self.specs,
            "specs_ok": self.specs_ok,
            "functions": self.functions.height,
            "rejected": self.rejections.height,
            "seconds": round(self.seconds, 3),
        }

    def write(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.functions.write_parquet(out / "catalog.parquet")
        self.rejections.write_parquet(out / "rejections.parquet")
        return out


def process_source(src: SpecSource) -> SpecResult:
    """Parse one spec and extract its functions; every failure becomes a rejection."""
    if src.skip_reason is not None:
        code = src.skip_reason.split(":", 1)[0]
        reason = {
            "too_large": f"spec is {src.size} bytes, over the size limit",
            "not_found": "no such file or directory",
        }.get(code, src.skip_reason)
        return SpecResult(src.spec_id, [], [Rejection(src.source, src.spec_id, "spec", code, reason)])
    try:
        document = parse_document(src.data or b"", src.suffix)
        version = spec_version(document) if isinstance(document, dict) else None
        if version is not None:
            functions, rejections = extract_openapi(document, src.spec_id, src.source)
        else:
            detected = detect_function_docs(document)
            if detected is None:
                return SpecResult(
                    src.spec_id,
                    [],
                    [
                        Rejection(
                            src.source,
                            src.spec_id,
                            "spec",
                            "unknown_format",
                            "not an OpenAPI/Swagger document, tool list, function documents or MCP tools/list result",
                        )
                    ],
                )
            functions, rejections = extract_function_docs(detected[0], detected[1], src.spec_id, src.source)
    except SpecParseError as exc:
        return SpecResult(src.spec_id, [], [Rejection(src.source, src.spec_id, "spec", exc.code, str(exc))])
    except RecursionError:
        return SpecResult(
            src.spec_id,
            [],
            [Rejection(src.source, src.spec_id, "spec", "too_deep", "document nests beyond the recursion limit")],
        )
    except Exception as exc:  # the batch must survive anything one spec does
        return SpecResult(
            src.spec_id,
            [],
            [Rejection(src.source, src.spec_id, "spec", "internal_error", f"{type(exc).__name__}: {exc}"[:500])],
        )
    return SpecResult(src.spec_id, functions, rejections)


def process_python(target: str) -> SpecResult:
    """Tools from one ``.py`` file or ``py:`` module; every failure becomes a rejection."""
    from .python_tools import extract_python_tools  # imports user code: only when one is named

    try:
        spec_id, functions, rejections = extract_python_tools(target)
    except Exception as exc:  # the batch must survive anything one module does
        reason = f"{type(exc).__name__}: {exc}"[:500]
        return SpecResult(target, [], [Rejection(target, target, "spec", "internal_error", reason)])
    return SpecResult(spec_id, functions, rejections)


def build_catalog(
    paths: list[str | Path],
    *,
    workers: int | None = None,
    max_spec_bytes: int = DEFAULT_MAX_SPEC_BYTES,
    progress: bool = False,
) -> CatalogBuild:
    """Ingest every spec under ``paths``; see the module docstring.

    A ``.py`` path or ``py:package.module`` names Python functions to take as tools
    (``python_tools``): imported here, in this process, after the spec workers are done.
    """
    start = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    python_targets = [str(p) for p in paths if is_python_target(p)]
    sources = iter_sources([p for p in paths if not is_python_target(p)], max_bytes=max_spec_bytes)
    results = list(_run(sources, workers, progress))
    results.extend(process_python(target) for target in python_targets)
    functions = [f for r in results for f in r.functions]
    rejections = [x for r in results for x in r.rejections]
    names = make_unique([f.name for f in functions], [f.stable_key for f in functions])
    for function, name in zip(functions, names):
        function.name = name
    frame = functions_frame(functions).sort("stable_key") if functions else functions_frame([])
    return CatalogBuild(
        functions=frame,
        rejections=rejections_frame(rejections).sort(["spec_id", "reason_code"]),
        specs=len(results),
        specs_ok=sum(1 for r in results if r.functions),
        seconds=time.perf_counter() - start,
    )


def _run(sources, workers: int, progress: bool):
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="spec", desc="ingest", mininterval=1.0)
    try:
        if workers <= 1:
            for src in sources:
                yield process_source(src)
                if bar:
                    bar.update()
            return
        window: deque[Future] = deque()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for src in sources:
                window.append(pool.submit(process_source, src))
                while len(window) > workers * 8:  # bounded: an archive never sits in memory whole
                    yield window.popleft().result()
                    if bar:
                        bar.update()
            while window:
                yield window.popleft().result()
                if bar:
                    bar.update()
    finally:
        if bar:
            bar.close()


def load_catalog(catalog_dir: str | Path) -> pl.DataFrame:
    path = Path(catalog_dir)
    return pl.read_parquet(path / "catalog.parquet" if path.is_dir() else path)
