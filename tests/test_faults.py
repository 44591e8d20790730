"""Faults around a round: a run killed half-way resumes where it stopped; deployments load."""

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import yaml

ROOT = Path(__file__).resolve().parent.parent


def tiny_round_config(tiny_dir) -> dict:
    return {
        "resources": {"policy_model": {"config": {"model": str(tiny_dir)}}},
        "ops": {
            "scenario_plan": {"config": {"n": 6}},
            "policy_checkpoint": {
                "config": {"sft_steps": 2, "grpo_steps": 2, "num_generations": 2, "max_completion_length": 4}
            },
            "heldout_probe": {"config": {"prompts": 4, "yield_blueprints": 2}},
            "bfcl_dev_scores": {"config": {"categories": ["simple_python"], "limit": 2, "max_new_tokens": 4}},
            "bfcl_test_scores": {"config": {"categories": ["simple_python"], "limit": 2, "max_new_tokens": 4}},
            "heldout_scores": {"config": {"max_new_tokens": 4}},
        },
    }


def test_a_round_killed_mid_training_resumes_without_recomputing(tmp_path, tiny_dir, monkeypatch):
    home = tmp_path / "home"
    config_file = tmp_path / "round.yaml"
    config_file.write_text(yaml.safe_dump(tiny_round_config(tiny_dir)))
    env = {**os.environ, "INFTOOL_HOME": str(home)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inftool_dagster.cli",
            "round",
            "run",
            "--home",
            str(home),
            "--config",
            str(config_file),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    training = home / "rounds" / "r0000" / "policy" / "sft"
    deadline = time.time() + 400
    while not training.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert training.exists(), "the round never reached policy_checkpoint"
    proc.kill()  # SIGKILL in the middle of training: no clean-up runs
    proc.wait()
    shards = {p: p.stat().st_mtime_ns for p in (home / "rounds" / "r0000" / "trajectories").glob("*.parquet")}
    assert shards

    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster_home"))  # run_round sets both; restored after
    monkeypatch.setenv("INFTOOL_HOME", str(home))
    from inftool_dagster.runs.round_runner import run_round

    summary = run_round(home, run_config=tiny_round_config(tiny_dir))
    assert summary["success"] and summary["resumed_from"] == "policy_checkpoint"
    assert summary["materialized"] == [
        "bfcl_dev_scores",
        "bfcl_test_scores",
        "capability_gaps",
        "heldout_scores",
        "policy_checkpoint",
        "policy_yield",
        "round_report",
    ]
    instance = dg.DagsterInstance.get()
    for name in (
        "tool_catalog",
        "tool_tree",
        "heldout_probe",
        "scenario_plan",
        "synthetic_trajectories",
        "verified_trajectories",
        "training_set",
    ):
        events = instance.fetch_materializations(dg.AssetKey(name), limit=10).records
        assert len(events) == 1, f"{name} was recomputed"
    assert {p: p.stat().st_mtime_ns for p in shards} == shards  # no shard rewritten
    again = run_round(home, run_config=tiny_round_config(tiny_dir))
    assert again["success"] and again["materialized"] == [] and again["run_id"] is None


def test_local_dagster_yaml_is_a_working_instance(tmp_path, monkeypatch):
    """deployments/local/dagster.yaml loads into a real instance; the others validate against
    Dagster's instance schema (their storage/launcher packages are deployment extras)."""
    from dagster._core.instance.config import dagster_instance_config

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deployments" / "local" / "dagster.yaml").read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("rounds", ["r0000"])
        assert instance.get_dynamic_partitions("rounds") == ["r0000"]
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    for name in ("postgres", "ecs"):
        directory = ROOT / "deployments" / name
        config, _ = dagster_instance_config(str(directory))
        assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    values = yaml.safe_load((ROOT / "deployments" / "k8s" / "values.yaml").read_text())
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    env = {e["name"]: e["value"] for e in values["dagster-user-deployments"]["deployments"][0]["env"]}
    assert env["INFTOOL_EXECUTOR"] == "k8s" and env["INFTOOL_GPU_TAGS"] == "1"
