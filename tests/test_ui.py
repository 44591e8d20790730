"""The Dagster UI: a real webserver on the project's definitions, asked over GraphQL what it shows."""

from inftool_dagster.ui_probe import ASSETS_QUERY, REPOSITORY_QUERY, graphql, webserver

ROUND_ASSETS = {"api_specs": "catalog", "tool_catalog": "catalog", "scenario_plan": "synthesis",
                "synthetic_trajectories": "synthesis", "verified_trajectories": "verification",
                "training_set": "verification", "policy_checkpoint": "training", "bfcl_scores": "evaluation",
                "capability_gaps": "evolution"}


def test_webserver_serves_the_round_graph_sensor_and_schedule(tmp_path):
    with webserver(tmp_path / "dagster_home") as url:
        nodes = graphql(url, ASSETS_QUERY)["assetNodes"]
        repos = graphql(url, REPOSITORY_QUERY)["repositoriesOrError"]["nodes"]
    assets = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert {name: assets[name]["groupName"] for name in ROUND_ASSETS} == ROUND_ASSETS
    assert all(assets[name]["isPartitioned"] for name in ROUND_ASSETS if name != "api_specs")
    assert all(assets[name]["owners"] and assets[name]["kinds"] for name in ROUND_ASSETS if name != "api_specs")
    [repo] = repos
    assert "inftool_round" in {j["name"] for j in repo["jobs"]}
    assert [s["name"] for s in repo["sensors"]] == ["evolution_sensor"]
    assert [(s["name"], s["cronSchedule"]) for s in repo["schedules"]] == [("nightly_evolution", "0 2 * * *")]
