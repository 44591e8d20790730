"""Where a round's artifacts are stored: the local filesystem, mirrored to S3 when configured."""

import os
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import PrivateAttr

from inftool_dagster.layout import PROBE, RoundLayout
from inftool_dagster.storage import S3Mirror
from inftool_dagster.storage.s3_mirror import snapshot


def default_home() -> str:
    """``$INFTOOL_HOME``, else ``./.inftool`` under the working directory."""
    return os.environ.get("INFTOOL_HOME") or str(Path.cwd() / ".inftool")


class WorkspaceResource(dg.ConfigurableResource):
    """Root directory of round artifacts: ``{root}/rounds/{round}/{artifact}/`` (``layout.py``).

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

    def round(self, round_key: str) -> RoundLayout:
        """Round ``round_key``'s artifact paths; a directory is pulled from S3 when first opened."""
        return RoundLayout(self.base(), round_key, self._open_under)

    def probe_dir(self) -> Path:
        """The fixed held-out probe every round of this workspace shares."""
        return self._open(PROBE)

    def _open_under(self, root: Path, relative: str) -> Path:
        return self._open(relative)

    def _open(self, relative: str) -> Path:
        path = self.base() / relative
        path.mkdir(parents=True, exist_ok=True)
        mirror = self.mirror()
        if mirror is not None and relative not in self._opened:
            mirror.pull(relative, path)
            self._opened[relative] = snapshot(path)
        return path

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
