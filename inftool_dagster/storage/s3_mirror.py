"""Mirror artifact directories to and from S3 (or any S3-compatible store).

A round's artifacts are directories of files (Parquet shards, checkpoints, BFCL result
files). On a cluster each step may run in its own pod with an empty disk, so a step first
pulls the directories it opens and afterwards pushes the files it wrote or changed. Objects are
``{prefix}/{relative path}``; a file is transferred only when it is missing or its size differs
(pull) or when it changed since the pull (push), so a resumed step does not re-upload shards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Snapshot = dict[str, tuple[int, int]]  # relative path -> (size, mtime_ns)


def snapshot(directory: Path) -> Snapshot:
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
        if p.is_file()
    }


class S3Mirror:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def list(self, relative_dir: str) -> dict[str, int]:
        """Objects under ``relative_dir``: path relative to it -> size."""
        base = self.key(relative_dir).rstrip("/") + "/"
        out: dict[str, int] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base):
            for item in page.get("Contents", []):
                out[item["Key"][len(base) :]] = item["Size"]
        return out

    def pull(self, relative_dir: str, local: Path) -> int:
        """Download the objects under ``relative_dir`` that are missing locally or differ in size."""
        count = 0
        for name, size in self.list(relative_dir).items():
            target = local / name
            if target.exists() and target.stat().st_size == size:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(self.bucket, self.key(f"{relative_dir}/{name}"), str(target))
            count += 1
        return count

    def push(self, relative_dir: str, local: Path, since: Snapshot | None = None) -> int:
        """Upload the files of ``local`` that changed since ``since`` (all of them without one)."""
        count = 0
        for name, stamp in snapshot(local).items():
            if since is not None and since.get(name) == stamp:
                continue
            self.client.upload_file(str(local / name), self.bucket, self.key(f"{relative_dir}/{name}"))
            count += 1
        return count
