"""Run a round of the loop on a real, persistent Dagster instance (what ``inftool round run`` does).

The instance lives in ``{INFTOOL_HOME}/dagster_home``, so ``inftool ui`` (``dagster dev``) shows
the same runs, partitions, checks and metadata afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from inftool_dagster.layout import RoundLayout

LOCAL_DAGSTER_YAML = """\
# Written by inftool: a local SQLite-backed instance (see deployments/ for Postgres, K8s, ECS).
telemetry:
  enabled: false
"""


def prepare_dagster_home(home: Path) -> Path:
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["INFTOOL_HOME"] = str(home)
    return dagster_home


def assets_to_run(instance: Any, key: str) -> list:
    """The round's assets from the first one without a materialization for ``key`` onwards
    (job order is dependency order): a killed or failed round resumes there, and finished
    assets are not recomputed."""
    from inftool_dagster.definitions import ROUND_ASSETS

    done = [key in instance.get_materialized_partitions(a.key) for a in ROUND_ASSETS]
    first = done.index(False) if False in done else len(done)
    return [a.key for a in ROUND_ASSETS[first:]]


def run_round(
    home: str | Path,
    *,
    round_key: str | None = None,
    spec_paths: list[str] | None = None,
    run_config: dict | None = None,
    parent_round: str | None = None,
) -> dict[str, Any]:
    home = Path(home).resolve()
    prepare_dagster_home(home)
    from dagster import DagsterInstance

    from inftool_dagster.assets.partitions import PARENT_TAG, ROUND_JOB, ROUND_TAG
    from inftool_dagster.assets.partitions import round_key as make_key
    from inftool_dagster.definitions import ROUND_ASSETS, defs

    instance = DagsterInstance.get()
    existing = instance.get_dynamic_partitions("rounds")
    key = round_key or make_key(0)
    if key not in existing:
        instance.add_dynamic_partitions("rounds", [key])
    run_config = dict(run_config or {})
    if spec_paths:
        run_config.setdefault("resources", {})["spec_sources"] = {
            "config": {"paths": [str(Path(p).resolve()) for p in spec_paths]}
        }
    todo = assets_to_run(instance, key)
    summary: dict[str, Any] = {
        "round": key,
        "run_id": None,
        "resumed_from": None,
        "success": True,
        "materialized": [],
        "checks": [],
    }
    if todo:  # else the round is complete: nothing to run
        selected = {k.to_user_string() for k in todo}
        run_config["ops"] = {name: value for name, value in run_config.get("ops", {}).items() if name in selected}
        result = defs.resolve_job_def(ROUND_JOB).execute_in_process(
            run_config=run_config,
            instance=instance,
            partition_key=key,
            tags={ROUND_TAG: key, **({PARENT_TAG: parent_round} if parent_round else {})},
            raise_on_error=False,
            asset_selection=todo,
        )
        summary.update(
            run_id=result.run_id,
            success=result.success,
            resumed_from=todo[0].to_user_string() if len(todo) < len(ROUND_ASSETS) else None,
            materialized=sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()),
            checks=[
                {"check": str(e.asset_check_evaluation_data.check_name), "passed": e.asset_check_evaluation_data.passed}
                for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
            ],
        )
    return {
        **summary,
        "next_round": _next_round(instance, home),
        "artifacts": str(RoundLayout.local(home, key).path),
        "dagster_home": os.environ["DAGSTER_HOME"],
    }


def _next_round(instance, home: Path) -> str:
    """What the evolution sensor will do with this round's gaps (it runs under the Dagster daemon)."""
    from dagster import SkipReason

    from inftool_dagster.assets.evolution import next_round
    from inftool_dagster.resources import EvolutionResource, WorkspaceResource

    outcome = next_round(instance, WorkspaceResource(root=str(home)), EvolutionResource(), None)
    if isinstance(outcome, SkipReason):
        return outcome.skip_message or "none"
    request = outcome[0]
    from inftool_dagster.assets.partitions import PARENT_TAG

    return (
        f"{request.partition_key} (parent {request.tags[PARENT_TAG]}): the evolution_sensor "
        f"requests it when the Dagster daemon runs (`inftool ui`)"
    )
