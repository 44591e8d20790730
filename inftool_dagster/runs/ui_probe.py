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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    proc = subprocess.Popen(
        [str(exe), "-m", "inftool_dagster.definitions", "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
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


BACKFILL_MUTATION = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = {"query": query, **({"variables": variables} if variables else {})}
    request = urllib.request.Request(
        f"{url}/graphql", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    answer = json.loads(urllib.request.urlopen(request, timeout=60).read())
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]  # no network chatter on a closed machine


def screenshots(url: str, pages: dict[str, str], out_dir: Path, chromium: str = "/usr/bin/chromium") -> list[Path]:
    """Headless Chromium (driven by Playwright) on each page: dismiss the first-visit dialog and
    keep a screenshot."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        for name, path in pages.items():
            page.goto(url + path, wait_until="networkidle", timeout=90_000)
            skip = page.get_by_role("button", name="Skip")
            if skip.count():
                skip.first.click()
            page.wait_for_timeout(2500)
            page.screenshot(path=str(out_dir / f"ui_{name}.png"))
            saved.append(out_dir / f"ui_{name}.png")
        browser.close()
    return saved
