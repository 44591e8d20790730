"""Baseline for bench_mcp.py: a bare low-level MCP server that lists the same tools and
answers every call with a constant, so the benchmark isolates the simulator's cost."""

import sys

import anyio
import mcp_types as types
import orjson
from mcp.server import Server

from inftool_dagster.catalog import load_catalog


def build(catalog_dir: str) -> Server:
    frame = load_catalog(catalog_dir)
    tools = [
        types.Tool(name=r["name"], description=r["description"], input_schema=orjson.loads(r["parameters"]))
        for r in frame.iter_rows(named=True)
    ]

    async def list_tools(ctx, params):
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx, params):
        return types.CallToolResult(content=[types.TextContent(text='{"ok": true}')])

    return Server("baseline", on_list_tools=list_tools, on_call_tool=call_tool)


if __name__ == "__main__":
    catalog, transport = sys.argv[1], sys.argv[2]
    server = build(catalog)
    if transport == "stdio":
        from mcp.server.stdio import stdio_server

        async def main():
            async with stdio_server() as (r, w):
                await server.run(r, w, server.create_initialization_options())

        anyio.run(main)
    else:
        import uvicorn

        uvicorn.run(
            server.streamable_http_app(host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[3]), log_level="warning"
        )
