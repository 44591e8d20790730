"""MCP server benchmark: concurrent clients on loopback, calls/s and p50/p99 latency per
transport, for the inftool simulator and for a bare constant-answer server (the baseline,
measured in the same run). Every call goes through the official MCP client.

    .venv/bin/python benchmarks/bench_mcp.py [--clients 8] [--calls 150]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.sources import SAMPLE_SPECS
from inftool_dagster.mcp_server import CatalogServer, ToolCallError

HERE = Path(__file__).resolve().parent


def valid_calls(catalog_dir: str, n: int) -> list[tuple[str, dict]]:
    """n valid (tool, arguments) pairs drawn from the catalog's own schemas."""
    server = CatalogServer.from_catalog(catalog_dir)
    rng = random.Random(0)
    calls = []
    while len(calls) < n:
        tool = server.tools[rng.choice(server.order)]
        args = server.simulator.generate(tool.parameters, rng)
        try:
            server.call(tool.name, args, session_key=len(calls))
        except ToolCallError:
            continue
        calls.append((tool.name, args))
    return calls


async def client_loop(target, calls, latencies, spans):
    async with Client(target) as client:
        await client.list_tools()  # connected and warm before the clock starts
        start = time.perf_counter()
        for name, args in calls:
            t0 = time.perf_counter()
            result = await client.call_tool(name, args)
            latencies.append(time.perf_counter() - t0)
            assert result.content
        spans.append((start, time.perf_counter()))


async def drive(targets, calls_per_client, calls):
    latencies: list[float] = []
    spans: list[tuple[float, float]] = []
    async with anyio.create_task_group() as tg:
        for i, target in enumerate(targets):
            mine = [calls[(i * calls_per_client + j) % len(calls)] for j in range(calls_per_client)]
            tg.start_soon(client_loop, target, mine, latencies, spans)
    wall = max(e for _, e in spans) - min(s for s, _ in spans)  # calls only, not process start-up
    lat = sorted(latencies)
    return {
        "calls": len(lat),
        "calls_per_s": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[int(0.99 * (len(lat) - 1))] * 1000, 2),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def server_cmd(kind: str, catalog: str, transport: str, port: int | None = None) -> list[str]:
    if kind == "baseline":
        return [sys.executable, str(HERE / "mcp_baseline_server.py"), catalog, transport] + (
            [str(port)] if port else []
        )
    cmd = [sys.executable, "-m", "inftool_dagster.cli", "mcp", "serve", "--catalog", catalog, "--transport", transport]
    return cmd + (["--port", str(port)] if port else [])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--calls", type=int, default=150, help="calls per client")
    parser.add_argument("--stdio-clients", type=int, default=4, help="stdio is one process per client")
    args = parser.parse_args()
    catalog = tempfile.mkdtemp(prefix="bench-mcp-")
    build_catalog([SAMPLE_SPECS], workers=1).write(catalog)
    calls = valid_calls(catalog, 500)
    figures: dict[str, dict] = {}
    for kind in ("baseline", "inftool"):
        cmd = server_cmd(kind, catalog, "stdio")
        targets = [StdioServerParameters(command=cmd[0], args=cmd[1:]) for _ in range(args.stdio_clients)]
        figures[f"stdio/{kind}"] = anyio.run(drive, targets, args.calls, calls)
        port = free_port()
        proc = subprocess.Popen(server_cmd(kind, catalog, "http", port), stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            url = f"http://127.0.0.1:{port}/mcp"
            figures[f"http/{kind}"] = anyio.run(drive, [url] * args.clients, args.calls, calls)
        finally:
            proc.terminate()
            proc.wait(10)
    for transport in ("stdio", "http"):
        base, ours = figures[f"{transport}/baseline"], figures[f"{transport}/inftool"]
        figures[f"{transport}/overhead"] = {
            "throughput_cost_pct": round(100 * (base["calls_per_s"] / ours["calls_per_s"] - 1), 1),
            "p50_ratio": round(ours["p50_ms"] / base["p50_ms"], 3),
            "p99_ratio": round(ours["p99_ms"] / base["p99_ms"], 3),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
