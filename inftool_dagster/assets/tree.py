"""``tool_catalog`` → ``tool_tree``: the catalog de-duplicated and organised into domains (the MCP
tree), with its checks. The planner draws a round's scenarios from it and the held-out probe
holds out whole clusters of it."""

import base64
import hashlib
import json

import dagster as dg
import polars as pl

from inftool_dagster.catalog import load_catalog
from inftool_dagster.catalog.tree import TreeSettings, build_tool_tree, load_tool_tree
from inftool_dagster.resources import WorkspaceResource

from .catalog import _table, catalog_dir, tool_catalog
from .partitions import rounds

OWNERS = ["team:inftool-data"]


class ToolTreeConfig(dg.Config, TreeSettings):
    """The domain's ``TreeSettings`` (merge threshold, domain count, seed)."""


@dg.asset(
    partitions_def=rounds,
    deps=[tool_catalog],
    group_name="catalog",
    kinds={"python", "pytorch", "parquet"},
    owners=OWNERS,
    code_version="tree-v1",
    description="The MCP tree: every tool embedded (all-MiniLM-L6-v2, cached by content), near-duplicates "
    "merged to one canonical tool with aliases, canonical tools clustered into domains and sub-domains.",
)
def tool_tree(
    context: dg.AssetExecutionContext, config: ToolTreeConfig, workspace: WorkspaceResource
) -> dg.MaterializeResult:
    layout = workspace.round(context.partition_key)
    out = layout.tool_tree()
    summary = build_tool_tree(
        layout.catalog(),
        out,
        cache_dir=layout.embeddings(),
        **TreeSettings.model_validate(config.model_dump()).model_dump(),
    )
    context.log.info(f"tool tree: {summary}")
    domains = json.loads((out / "domains.json").read_text())["domains"]
    table = pl.DataFrame(
        {
            "domain": [d["name"] for d in domains],
            "tools": [d["tools"] for d in domains],
            "functions": [d["functions"] for d in domains],
            "sub_domains": [", ".join(f"{s['name']} ({s['tools']})" for s in d["subdomains"]) for d in domains],
        }
    )
    picture = base64.b64encode((out / "tree.png").read_bytes()).decode()
    tree = load_tool_tree(out)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(out)),
            **{
                k: summary[k]
                for k in (
                    "functions",
                    "canonical_tools",
                    "reduction_ratio",
                    "duplicate_groups",
                    "domains",
                    "subdomains",
                    "purity",
                    "nmi",
                    "threshold",
                    "embedded",
                    "cached",
                    "seconds",
                    "peak_rss_mib",
                )
            },
            "domain_table": dg.MetadataValue.md(_table(table)),
            "tree": dg.MetadataValue.md(f"![MCP tree](data:image/png;base64,{picture})"),
            "picture": dg.MetadataValue.path(str(out / "tree.png")),
        },
        data_version=dg.DataVersion(
            hashlib.sha256(tree.select("name", "canonical", "split_key").write_csv().encode()).hexdigest()[:16]
        ),
    )


@dg.asset_check(
    asset=tool_tree,
    partitions_def=rounds,
    blocking=True,
    description="Every catalog function sits in the tree exactly once, and every group's canonical tool "
    "is a member of it.",
)
def tree_covers_catalog(context: dg.AssetCheckExecutionContext, workspace: WorkspaceResource) -> dg.AssetCheckResult:
    layout = workspace.round(context.partition_key)
    names = set(load_catalog(catalog_dir(workspace, context.partition_key))["name"].to_list())
    tree = load_tool_tree(layout.tool_tree())
    placed = tree["name"].to_list()
    missing = sorted(names - set(placed))
    twice = tree.height - len(set(placed))
    canon = tree.filter(pl.col("is_canonical"))
    orphans = tree.filter(~pl.col("canonical").is_in(canon["name"].implode())).height
    return dg.AssetCheckResult(
        passed=not missing and twice == 0 and orphans == 0 and len(placed) == len(names),
        metadata={
            "functions": len(names),
            "missing": len(missing),
            "placed_twice": twice,
            "orphan_aliases": orphans,
            "examples": dg.MetadataValue.json(missing[:20]),
        },
    )
