"""Start the Dagster webserver on this project's definitions and ask it what a user would see.

Used by the UI test (GraphQL answers) and by ``scripts/ui_screenshot`` (a headless Chromium
screenshot of the asset graph kept in docs/). Nothing here is needed to run the loop.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ASSETS_QUERY = """{ assetNodes { assetKey { path } groupName isPartitioned kinds
                   owners { ... on TeamAssetOwner { team } ... on UserAssetOwner { email } } } }"""
REPOSITORY_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes { name
    jobs { name } sensors { name } schedules { name cronSchedule } } } } }"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def webserver(dagster_home: Path, port: int | None = None, timeout: float = 120) -> Iterator[str]:
    """A ``dagster-webserver`` on loopback serving ``inftool_dagster.definitions``; yields its URL."""
    port = port or free_port()
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    exe = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen([str(exe), "-m", "inftool_dagster.definitions", "-h", "127.0.0.1", "-p", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited: {proc.stderr.read()[-2000:]}")
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise TimeoutError(f"dagster-webserver did not answer on {url} in {timeout} s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def screenshot(url: str, out: Path, chromium: str = "/usr/bin/chromium", size: str = "1600,1000",
               wait_ms: int = 20000) -> Path:
    """A headless Chromium screenshot of ``url`` (flags from this machine's notes: no network chatter)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    profile = out.parent / ".chromium-profile"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", f"--window-size={size}", f"--virtual-time-budget={wait_ms}",
                    f"--screenshot={out}", url], check=True, capture_output=True, timeout=180)
    return out
