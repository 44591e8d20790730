"""Run a CatalogServer over stdio or streamable HTTP."""

from __future__ import annotations

import anyio

from .server import CatalogServer


async def serve_stdio(catalog_server: CatalogServer) -> None:
    from mcp.server.stdio import stdio_server

    server = catalog_server.server
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def http_app(catalog_server: CatalogServer, host: str = "127.0.0.1", max_request_body_size: int = 1 << 20):
    """The streamable-HTTP ASGI app at ``/mcp`` (DNS-rebinding protection on for loopback)."""
    return catalog_server.server.streamable_http_app(host=host, max_request_body_size=max_request_body_size)


def serve_http(catalog_server: CatalogServer, host: str, port: int, log_level: str = "warning") -> None:
    import uvicorn

    uvicorn.run(
        http_app(catalog_server, host),
        host=host,
        port=port,
        log_level=log_level,
        timeout_keep_alive=5,
        limit_concurrency=1000,
    )


def run_stdio(catalog_server: CatalogServer) -> None:
    anyio.run(serve_stdio, catalog_server)
