"""The Dagster UI: a real webserver on the project's definitions, asked over GraphQL what it shows."""

import dagster as dg

from inftool_dagster.runs.ui_probe import ASSETS_QUERY, BACKFILL_MUTATION, REPOSITORY_QUERY, graphql, webserver

ROUND_ASSETS = {
    "api_specs": "catalog",
    "tool_catalog": "catalog",
    "tool_tree": "catalog",
    "heldout_probe": "evaluation",
    "scenario_plan": "synthesis",
    "synthetic_trajectories": "synthesis",
    "verified_trajectories": "verification",
    "training_set": "verification",
    "policy_checkpoint": "training",
    "bfcl_dev_scores": "evaluation",
    "capability_gaps": "evolution",
    "bfcl_test_scores": "evaluation",
    "heldout_scores": "evaluation",
    "policy_yield": "evaluation",
    "round_report": "evaluation",
}


def test_webserver_serves_the_round_graph_sensor_and_schedule_and_takes_a_backfill(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    with webserver(home) as url:
        nodes = graphql(url, ASSETS_QUERY)["assetNodes"]
        repos = graphql(url, REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]
        # a backfill of two rounds, as the UI's "Materialize → partitions" dialog submits it
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions("rounds", ["r0000", "r0001"])
            params = {
                "assetSelection": [{"path": [name]} for name in ROUND_ASSETS if name != "api_specs"],
                "partitionNames": ["r0000", "r0001"],
            }
            launched = graphql(url, BACKFILL_MUTATION, {"params": params})["launchPartitionBackfill"]
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            [backfill] = instance.get_backfills()
            assert backfill.backfill_id == launched["backfillId"]
            targets = {
                (p.asset_key.to_user_string(), p.partition_key)
                for p in backfill.asset_backfill_data.target_subset.iterate_asset_partitions()
            }
            assert {
                (name, key) for name in ROUND_ASSETS if name != "api_specs" for key in ("r0000", "r0001")
            } <= targets
    assets = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {name: assets[name]["groupName"] for name in ROUND_ASSETS} == ROUND_ASSETS
    assert all(assets[name]["isPartitioned"] for name in ROUND_ASSETS if name != "api_specs")
    assert all(assets[name]["owners"] and assets[name]["kinds"] for name in ROUND_ASSETS if name != "api_specs")
    [repo] = repos
    assert "inftool_round" in {j["name"] for j in repo["jobs"]}
    assert [s["name"] for s in repo["sensors"]] == ["evolution_sensor"]
    assert [(s["name"], s["cronSchedule"]) for s in repo["schedules"]] == [("nightly_evolution", "0 2 * * *")]
