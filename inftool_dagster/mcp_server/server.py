"""The MCP Server agent: a catalog served over the Model Context Protocol (official SDK).

``tools/list`` serves the catalog's functions with their exact JSON Schemas (paginated);
``tools/call`` validates arguments with jsonschema and returns a simulated result. Bad
input is a tool error (``isError: true``) naming the parameter and rule, never a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import mcp_types as types
import orjson
from mcp.server import Server

from .simulator import CatalogTool, Simulator, ToolCallError, load_tools, validate_arguments
from .state import SessionStore

log = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE = 200
SESSION_META_KEY = "inftool/session"


def session_key_for(ctx: Any) -> tuple[str, str]:
    """Which simulated world a call acts on.

    ``_meta["inftool/session"]`` names it explicitly (many conversations on one server);
    else the streamable-HTTP ``Mcp-Session-Id``; else the server's single default world
    (one stdio process or one in-process server per conversation).
    """
    meta = getattr(ctx, "meta", None) or {}
    if isinstance(meta, dict) and meta.get(SESSION_META_KEY):
        return ("meta", str(meta[SESSION_META_KEY]))
    request = getattr(ctx, "request", None)
    headers = getattr(request, "headers", None)
    if headers is not None and headers.get("mcp-session-id"):
        return ("http", headers["mcp-session-id"])
    return ("default", "")


class CatalogServer:
    """Owns the tools, the simulator and per-session state; builds the SDK ``Server``."""

    def __init__(
        self,
        tools: list[CatalogTool],
        *,
        seed: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        name: str = "inftool-catalog",
        result_writer: Any = None,
    ) -> None:
        self.tools = {t.name: t for t in tools}
        self.order = [t.name for t in tools]
        self.simulator = Simulator(seed, writer=result_writer)
        self.sessions = SessionStore()
        self.page_size = page_size
        self.calls = 0
        self.errors = 0
        self._mcp_tools = [
            types.Tool(
                name=t.name,
                description=t.description,
                input_schema=t.parameters,
                output_schema=t.response_schema if _is_object_schema(t.response_schema) else None,
            )
            for t in tools
        ]
        self.server = Server(name, version="0.1.0", on_list_tools=self._list_tools, on_call_tool=self._call_tool)

    @classmethod
    def from_catalog(cls, catalog_dir: str | Path, **kwargs: Any) -> CatalogServer:
        return cls(load_tools(catalog_dir), **kwargs)

    # -- handlers ----------------------------------------------------------------
    async def _list_tools(self, ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        start = 0
        cursor = getattr(params, "cursor", None) if params else None
        if cursor:
            try:
                start = int(cursor)
            except ValueError:
                start = len(self._mcp_tools)  # an unknown cursor is an empty, final page
        end = start + self.page_size
        return types.ListToolsResult(
            tools=self._mcp_tools[start:end], next_cursor=str(end) if end < len(self._mcp_tools) else None
        )

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        self.calls += 1
        session_key = session_key_for(ctx)
        try:
            result = self.call(params.name, params.arguments or {}, session_key)
        except ToolCallError as exc:
            self.errors += 1
            return types.CallToolResult(content=[types.TextContent(text=str(exc))], is_error=True)
        except Exception as exc:  # a simulator bug must not take the server down
            self.errors += 1
            log.exception("simulation failed for %s", params.name)
            return types.CallToolResult(
                content=[types.TextContent(text=f"internal simulation error: {type(exc).__name__}: {exc}")],
                is_error=True,
            )
        text = orjson.dumps(result).decode()
        structured = (
            result if isinstance(result, dict) and _is_object_schema(self.tools[params.name].response_schema) else None
        )
        return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=structured)

    # -- plain-Python entry point (used in-process by synthesis and by the handlers) -----
    def call(self, name: str, arguments: Any, session_key: Any = 0) -> Any:
        tool = self.tools.get(name)
        if tool is None:
            raise ToolCallError(f"unknown tool '{name}'")
        validate_arguments(tool, arguments)
        return self.simulator.execute(tool, arguments, self.sessions.get(session_key))


def _is_object_schema(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") in ("object", ["object"])
