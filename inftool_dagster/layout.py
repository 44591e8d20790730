"""Where every artifact of a round lives: one object per round owns the paths, so the assets, the
round runner, the CLI, the experiments and the report read and write the same files without
restating them.

    {root}/rounds/{round}/catalog/               catalog.parquet, rejections.parquet
                          tool_tree/             tool_tree.parquet, domains.json, tree.png
                          scenario_plan/         blueprints.parquet
                          trajectories/          shard-*.parquet
                          verified/              gated.parquet, verified.parquet, summary.json
                          training_set/          {sft,grpo}_{train,heldout}.parquet, summary.json
                          policy/                LATEST -> {sft,grpo}/checkpoint
                          bfcl/{dev,test}/       summary.json, result/, score/
                          heldout/               heldout.json
                          yield/                 yield.json
                          gaps/                  gaps.json
                          report/                report.json, by_round.png
    {root}/shared/probe/                         the fixed held-out probe (every round)
    {root}/shared/embeddings/                    tool vectors by content hash (every round)

Plain Python: ``RoundLayout.local(root, key)`` creates directories on the local disk; the Dagster
workspace resource passes an ``opener`` that also pulls a directory from S3 the first time a
step opens it (``resources/workspace.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROUNDS = "rounds"
SHARED = "shared"
PROBE = f"{SHARED}/probe"  # the fixed held-out probe every round shares
EMBEDDINGS = f"{SHARED}/embeddings"  # the tool tree's embedding cache every round shares
LATEST = "LATEST"  # in policy/: the final checkpoint's path, relative to policy/


def _mkdir(root: Path, relative: str) -> Path:
    path = root / relative
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class RoundLayout:
    """The artifact paths of round ``key`` under ``root``; each directory is opened (created,
    and pulled from S3 where configured) when first asked for."""

    root: Path
    key: str
    opener: Callable[[Path, str], Path] = field(default=_mkdir, compare=False, repr=False)

    @classmethod
    def local(cls, root: str | Path, key: str) -> RoundLayout:
        return cls(Path(root), key)

    def of(self, key: str) -> RoundLayout:
        """Another round of the same workspace (the parent, the history)."""
        return RoundLayout(self.root, key, self.opener)

    @property
    def path(self) -> Path:
        """The round's directory (not opened: for display and whole-round copies)."""
        return self.root / ROUNDS / self.key

    def artifact(self, name: str) -> Path:
        return self.opener(self.root, f"{ROUNDS}/{self.key}/{name}")

    # -- one method per artifact -----------------------------------------------------------------
    def catalog(self) -> Path:
        return self.artifact("catalog")

    def tool_tree(self) -> Path:
        return self.artifact("tool_tree")

    def scenario_plan(self) -> Path:
        return self.artifact("scenario_plan") / "blueprints.parquet"

    def trajectories(self) -> Path:
        return self.artifact("trajectories")

    def verified(self) -> Path:
        return self.artifact("verified")

    def gated(self) -> Path:
        return self.verified() / "gated.parquet"

    def verified_set(self) -> Path:
        return self.verified() / "verified.parquet"

    def training_set(self) -> Path:
        return self.artifact("training_set")

    def training_summary(self) -> Path:
        return self.training_set() / "summary.json"

    def policy(self) -> Path:
        return self.artifact("policy")

    def policy_stages(self) -> Path:
        """What the round's training stages reported (``training.stages.train_stages``)."""
        return self.policy() / "stages.json"

    def latest_checkpoint(self) -> Path | None:
        """The checkpoint the round's training ended with (None before it ran)."""
        policy = self.policy()
        latest = policy / LATEST
        return policy / latest.read_text().strip() if latest.exists() else None

    def bfcl(self, split: str) -> Path:
        return self.artifact(f"bfcl/{split}")

    def bfcl_summary(self, split: str) -> Path:
        return self.bfcl(split) / "summary.json"

    def heldout(self) -> Path:
        return self.artifact("heldout")

    def heldout_scores(self) -> Path:
        return self.heldout() / "heldout.json"

    def policy_yield(self) -> Path:
        return self.artifact("yield")

    def yield_scores(self) -> Path:
        return self.policy_yield() / "yield.json"

    def gaps(self) -> Path:
        return self.artifact("gaps") / "gaps.json"

    def report(self) -> Path:
        return self.artifact("report")

    def report_record(self) -> Path:
        return self.report() / "report.json"

    def probe(self) -> Path:
        """The held-out probe every round of the workspace shares."""
        return self.opener(self.root, PROBE)

    def embeddings(self) -> Path:
        """The embedding cache every round of the workspace shares (only new tools are embedded)."""
        return self.opener(self.root, EMBEDDINGS)


def write_latest(policy_dir: Path, checkpoint: Path) -> None:
    """Record the round's final checkpoint, relative to ``policy/`` (valid wherever the round is
    pulled)."""
    (policy_dir / LATEST).write_text(str(Path(checkpoint).relative_to(policy_dir)))


def parent_inputs(parent: RoundLayout | None) -> dict[str, str]:
    """What a round takes from its parent, as asset metadata (the same keys on every asset that
    reads the parent): the round, its gaps file and its final checkpoint."""
    if parent is None:
        return {"parent_round": "none", "parent_gaps": "none", "parent_checkpoint": "none"}
    gaps, checkpoint = parent.gaps(), parent.latest_checkpoint()
    return {
        "parent_round": parent.key,
        "parent_gaps": str(gaps) if gaps.exists() else "none",
        "parent_checkpoint": str(checkpoint) if checkpoint is not None else "none",
    }
