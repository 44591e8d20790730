"""Out-of-process training step under Dagster Pipes: ``python -m inftool_dagster.training.pipes_entry``.

The ``policy_checkpoint`` asset launches this with a Pipes client (subprocess here; the
Kubernetes, ECS or Databricks Pipes clients for a GPU pod or cluster); parameters arrive as
Pipes extras, logs and the materialization's metadata go back to Dagster.
"""

from __future__ import annotations

from dagster_pipes import open_dagster_pipes

from .stages import materialization_fields, train_stages


def main() -> None:
    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        pipes.log.info(f"training round {extras['settings'].get('round_key')} from {extras['model']} out of process")
        result = train_stages(extras["data"], extras["out"], extras["model"], extras["steps"], extras["settings"])
        fields = materialization_fields(result, extras["parent"])
        pipes.report_asset_materialization(
            metadata={
                **fields,
                "checkpoint": {"raw_value": fields["checkpoint"], "type": "path"},
                "stages": {"raw_value": fields["stages"], "type": "json"},
                "reward_curve": {"raw_value": fields["reward_curve"], "type": "json"},
                "frac_reward_zero_std": {"raw_value": fields["frac_reward_zero_std"], "type": "json"},
                "boundary": {"raw_value": fields["boundary"], "type": "json"},
                "out_of_process": True,
            }
        )


if __name__ == "__main__":
    main()
