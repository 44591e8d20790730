"""``api_specs`` (source) → ``tool_catalog``, with the catalog's quality checks."""

import hashlib
from pathlib import Path

import dagster as dg
import polars as pl

from inftool_dagster.catalog import build_catalog, load_catalog
from inftool_dagster.catalog.python_tools import fingerprint
from inftool_dagster.catalog.quality import check_schemas, description_rate, duplicate_names
from inftool_dagster.catalog.sources import is_python_target, iter_sources
from inftool_dagster.resources import SpecSourcesResource, WorkspaceResource

from .partitions import rounds

OWNERS = ["team:inftool-data"]


@dg.observable_source_asset(
    group_name="catalog",
    description="Raw API specifications (OpenAPI/Swagger, tool lists, MCP listings) the loop starts from.",
    owners=OWNERS,
)
def api_specs(context: dg.AssetExecutionContext, spec_sources: SpecSourcesResource) -> dg.DataVersion:
    """Data version = hash of every spec's id and bytes, so a changed spec shows as new data; a
    Python module of tools counts by its source file's bytes (read, not imported)."""
    digest = hashlib.sha256()
    count = 0
    paths = spec_sources.resolved_paths()
    for src in iter_sources(paths, max_bytes=spec_sources.max_spec_bytes):
        digest.update(src.spec_id.encode())
        digest.update(hashlib.sha256(src.data or b"").digest())
        count += 1
    for target in (p for p in paths if is_python_target(p)):
        spec_id, data = fingerprint(target)
        digest.update(spec_id.encode())
        digest.update(hashlib.sha256(data).digest())
        count += 1
    context.log.info(f"{count} spec documents observed")
    return dg.DataVersion(digest.hexdigest()[:16])


class ToolCatalogConfig(dg.Config):
    min_description_rate: float = 0.9
    max_schema_checks: int = 20_000  # meta-validation sample size (all of a small catalog)
    min_simulation_conformance: float = 0.9
    max_simulated_tools: int = 500


def catalog_dir(workspace: WorkspaceResource, partition_key: str) -> Path:
    return workspace.round(partition_key).catalog()


@dg.asset(
    partitions_def=rounds,
    deps=[api_specs],
    group_name="catalog",
    kinds={"python", "polars", "parquet"},
    owners=OWNERS,
    code_version="catalog-v1",
    description="Normalized tool functions (one per API operation) with JSON-Schema parameters.",
)
def tool_catalog(
    context: dg.AssetExecutionContext,
    spec_sources: SpecSourcesResource,
    workspace: WorkspaceResource,
) -> dg.MaterializeResult:
    build = build_catalog(
        spec_sources.resolved_paths(),
        workers=spec_sources.workers or None,
        max_spec_bytes=spec_sources.max_spec_bytes,
    )
    out = build.write(catalog_dir(workspace, context.partition_key))
    summary = build.summary()
    context.log.info(f"catalog: {summary}")
    by_format = build.functions.group_by("source_format").len().sort("len", descending=True)
    by_domain = build.functions.group_by("domain").len().sort("len", descending=True).head(15)
    reasons = build.rejections.group_by("reason_code").len().sort("len", descending=True)
    content_hash = hashlib.sha256(build.functions.select("name", "parameters").write_csv().encode()).hexdigest()[:16]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            "specs": summary["specs"],
            "specs_ok": summary["specs_ok"],
            "functions": summary["functions"],
            "rejected": summary["rejected"],
            "seconds": summary["seconds"],
            "by_source_format": dg.MetadataValue.md(_table(by_format)),
            "top_domains": dg.MetadataValue.md(_table(by_domain)),
            "rejection_reasons": dg.MetadataValue.md(_table(reasons) if reasons.height else "none"),
            "preview": dg.MetadataValue.md(_table(build.functions.select("name", "description", "domain").head(10))),
        },
        data_version=dg.DataVersion(content_hash),
    )


def _table(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "(empty)"
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    rows = "\n".join(
        "| " + " | ".join(str(v).replace("|", "\\|")[:80] for v in row) + " |" for row in frame.iter_rows()
    )
    return header + rows


def _load(context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource) -> pl.DataFrame:
    return load_catalog(catalog_dir(workspace, context.partition_key))


@dg.asset_check(
    asset=tool_catalog,
    partitions_def=rounds,
    blocking=True,
    description="Every function's parameters pass the JSON Schema Draft 2020-12 meta-schema.",
)
def catalog_schemas_valid(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, config: ToolCatalogConfig
) -> dg.AssetCheckResult:
    result = check_schemas(_load(context, workspace), limit=config.max_schema_checks)
    return dg.AssetCheckResult(
        passed=result.invalid == 0 and result.checked > 0,
        metadata={
            "checked": result.checked,
            "invalid": result.invalid,
            "examples": dg.MetadataValue.json(result.examples),
        },
    )


@dg.asset_check(
    asset=tool_catalog,
    partitions_def=rounds,
    blocking=True,
    description="Function names are unique across the catalog.",
)
def catalog_names_unique(context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource) -> dg.AssetCheckResult:
    duplicates = duplicate_names(_load(context, workspace))
    return dg.AssetCheckResult(
        passed=not duplicates,
        metadata={"duplicates": len(duplicates), "examples": dg.MetadataValue.json(duplicates[:20])},
    )


@dg.asset_check(
    asset=tool_catalog,
    partitions_def=rounds,
    description="Share of functions with a real description is above the configured rate.",
)
def catalog_descriptions_present(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, config: ToolCatalogConfig
) -> dg.AssetCheckResult:
    rate = description_rate(_load(context, workspace))
    return dg.AssetCheckResult(
        passed=rate >= config.min_description_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"description_rate": rate, "threshold": config.min_description_rate},
    )


@dg.asset_check(
    asset=tool_catalog,
    partitions_def=rounds,
    description="The catalog serves as an MCP server: every tool lists, and simulated calls on "
    "schema-drawn arguments validate and conform to the response schemas (the simulator's "
    "first result counts, before any regeneration).",
)
def catalog_served_over_mcp(
    context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource, config: ToolCatalogConfig
) -> dg.AssetCheckResult:
    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.mcp_server.smoke import smoke_test

    server = CatalogServer.from_catalog(catalog_dir(workspace, context.partition_key))
    report = smoke_test(server, max_tools=config.max_simulated_tools)
    return dg.AssetCheckResult(
        passed=report.listed == report.tools and report.conformance >= config.min_simulation_conformance,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "tools": report.tools,
            "listed": report.listed,
            "called": report.called,
            "tool_errors": report.tool_errors,
            "nonconforming": report.nonconforming,
            "raw_nonconforming": report.raw_nonconforming,
            "conformance": report.conformance,
            "examples": dg.MetadataValue.json(report.examples),
        },
    )
