"""Where a round's artifacts are stored (local filesystem by default)."""

import os
from pathlib import Path

import dagster as dg


def default_home() -> str:
    """``$INFTOOL_HOME``, else ``./.inftool`` under the working directory."""
    return os.environ.get("INFTOOL_HOME") or str(Path.cwd() / ".inftool")


class WorkspaceResource(dg.ConfigurableResource):
    """Root directory of round artifacts: ``{root}/rounds/{round}/{artifact}/``."""

    root: str = ""  # empty: default_home()

    def base(self) -> Path:
        return Path(self.root or default_home())

    def round_dir(self, round_key: str, artifact: str) -> Path:
        path = self.base() / "rounds" / round_key / artifact
        path.mkdir(parents=True, exist_ok=True)
        return path
