"""Serve a catalog in-process and call every tool once through the official MCP client.

Used by the catalog's Dagster check: it shows the catalog is servable, that arguments
drawn from each schema validate, and that simulated results conform to response schemas.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import anyio
import orjson
from mcp import Client

from .server import SESSION_META_KEY, CatalogServer


@dataclass
class SmokeReport:
    tools: int = 0
    listed: int = 0
    called: int = 0
    tool_errors: int = 0  # the server refused the generated arguments (e.g. an unmatched pattern)
    nonconforming: int = 0  # served results outside the response schema (or rejected by the client)
    raw_nonconforming: int = 0  # the simulator's first result, before the server regenerates a bad one
    failed_tools: set = field(default_factory=set)
    examples: list[dict] = field(default_factory=list)

    @property
    def conformance(self) -> float:
        """Share of called tools whose generated arguments validate, whose served result conforms,
        and whose first generated result conformed without regeneration."""
        return (self.called - len(self.failed_tools)) / self.called if self.called else 0.0


def smoke_test(server: CatalogServer, *, max_tools: int = 500, seed: int = 0) -> SmokeReport:
    names = server.order[:max_tools]
    report = SmokeReport(tools=len(server.order))
    rng = random.Random(seed)

    async def go() -> None:
        async with Client(server.server) as client:
            cursor = None
            while True:
                page = await client.list_tools(cursor=cursor)
                report.listed += len(page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
            for name in names:
                tool = server.tools[name]
                args = server.simulator.generate(tool.parameters, rng)
                report.called += 1
                validator = tool.response_validator
                if validator is not None:  # what the simulator produces before any regeneration
                    raw = server.simulator.generate(
                        tool.response_schema, server.simulator.rng(tool, args), hint="result"
                    )
                    if not validator.is_valid(raw):
                        report.raw_nonconforming += 1
                        _example(report, name, "first generated result does not conform (regenerated when served)")
                try:
                    result = await client.call_tool(name, args, meta={SESSION_META_KEY: f"smoke-{name}"})
                except Exception as exc:  # the client rejects what it cannot validate: count it, go on
                    report.nonconforming += 1
                    _example(report, name, f"client error: {exc}")
                    continue
                if result.is_error:
                    report.tool_errors += 1
                    _example(report, name, result.content[0].text)
                    continue
                validator = tool.response_validator
                if validator is not None and not validator.is_valid(orjson.loads(result.content[0].text)):
                    report.nonconforming += 1
                    _example(report, name, "result does not conform to the response schema")

    anyio.run(go)
    return report


def _example(report: SmokeReport, name: str, reason: str) -> None:
    report.failed_tools.add(name)
    if len(report.examples) < 10:
        report.examples.append({"tool": name, "reason": reason[:300]})
