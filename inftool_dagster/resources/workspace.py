"""Where a round's artifacts are stored: the local filesystem, mirrored to S3 when configured."""

import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from inftool_dagster.storage import S3Mirror
from inftool_dagster.storage.s3_mirror import snapshot


def default_home() -> str:
    """``$INFTOOL_HOME``, else ``./.inftool`` under the working directory."""
    return os.environ.get("INFTOOL_HOME") or str(Path.cwd() / ".inftool")


class WorkspaceResource(dg.ConfigurableResource):
    """Root directory of round artifacts: ``{root}/rounds/{round}/{artifact}/``.

    With ``s3_bucket`` set, every artifact directory a step opens is first pulled from
    ``s3://{bucket}/{prefix}/rounds/{round}/{artifact}/`` (through dagster-aws's ``S3Resource``),
    and what the step wrote is pushed back when the step ends, so steps can run in separate
    pods or machines (Kubernetes, ECS) with nothing shared but the bucket.
    """

    root: str = ""  # empty: default_home()
    s3_bucket: str = ""
    s3_prefix: str = "inftool"
    s3_endpoint_url: str = ""  # an S3-compatible store (MinIO, moto, R2); empty: AWS
    s3_region: str = "us-east-1"
    _opened: dict = PrivateAttr(default_factory=dict)
    _mirror: Any = PrivateAttr(default=None)

    def base(self) -> Path:
        return Path(self.root or default_home())

    def mirror(self) -> S3Mirror | None:
        if not self.s3_bucket:
            return None
        if self._mirror is None:
            from dagster_aws.s3 import S3Resource

            client = S3Resource(endpoint_url=self.s3_endpoint_url or None, region_name=self.s3_region).get_client()
            self._mirror = S3Mirror(client, self.s3_bucket, self.s3_prefix)
        return self._mirror

    def round_dir(self, round_key: str, artifact: str) -> Path:
        return self._open(f"rounds/{round_key}/{artifact}")

    def shared_dir(self, artifact: str) -> Path:
        """An artifact shared by every round of this workspace (the fixed held-out probe)."""
        return self._open(f"shared/{artifact}")

    def _open(self, relative: str) -> Path:
        path = self.base() / relative
        path.mkdir(parents=True, exist_ok=True)
        mirror = self.mirror()
        if mirror is not None and relative not in self._opened:
            mirror.pull(relative, path)
            self._opened[relative] = snapshot(path)
        return path

    def latest_checkpoint(self, round_key: str) -> Path | None:
        """The checkpoint round ``round_key``'s ``policy_checkpoint`` ended with (None before it ran)."""
        policy = self.round_dir(round_key, "policy")
        latest = policy / "LATEST"
        return policy / latest.read_text().strip() if latest.exists() else None

    def publish(self) -> int:
        """Push what changed in the artifact directories opened so far (a no-op without S3)."""
        mirror = self.mirror()
        if mirror is None:
            return 0
        count = 0
        for relative, before in self._opened.items():
            count += mirror.push(relative, self.base() / relative, before)
            self._opened[relative] = snapshot(self.base() / relative)
        return count

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        pushed = self.publish()
        if pushed and context.log is not None:
            context.log.info(f"pushed {pushed} artifact files to s3://{self.s3_bucket}/{self.s3_prefix}")
