"""Artifacts on S3: a real S3-compatible server (moto in server mode) on loopback."""

import json
import socket
import subprocess
import sys
import time

import boto3
import dagster as dg
import pytest

from inftool_dagster.assets.partitions import PARENT_TAG, ROUND_JOB
from inftool_dagster.definitions import defs
from inftool_dagster.resources import WorkspaceResource
from inftool_dagster.runs.ui_probe import free_port

from .test_faults import tiny_round_config

BUCKET = "inftool-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    if BUCKET not in [b["Name"] for b in client.list_buckets().get("Buckets", [])]:
        client.create_bucket(Bucket=BUCKET)
    return client


def _keys(client, prefix):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def test_workspace_pushes_what_changed_and_a_fresh_machine_pulls_it(s3, s3_endpoint, tmp_path):
    settings = {"s3_bucket": BUCKET, "s3_prefix": "unit", "s3_endpoint_url": s3_endpoint}
    first = WorkspaceResource(root=str(tmp_path / "a"), **settings)
    shards = first.round("r0000").trajectories()
    (shards / "shard-00000.parquet").write_bytes(b"x" * 100)
    (shards / "sub").mkdir()
    (shards / "sub" / "meta.json").write_text("{}")
    assert first.publish() == 2
    assert _keys(s3, "unit/rounds/r0000/trajectories/") == {
        "unit/rounds/r0000/trajectories/shard-00000.parquet": 100,
        "unit/rounds/r0000/trajectories/sub/meta.json": 2,
    }
    assert first.publish() == 0  # nothing changed: nothing re-uploaded
    (shards / "shard-00001.parquet").write_bytes(b"y" * 7)
    assert first.publish() == 1  # a resumed step adds a shard: only that one goes up

    fresh = WorkspaceResource(root=str(tmp_path / "b"), **settings)
    pulled = fresh.round("r0000").trajectories()
    assert (pulled / "shard-00000.parquet").read_bytes() == b"x" * 100
    assert (pulled / "shard-00001.parquet").read_bytes() == b"y" * 7
    assert (pulled / "sub" / "meta.json").read_text() == "{}"
    assert fresh.publish() == 0  # pulled files are not pushed back
    assert WorkspaceResource(root=str(tmp_path / "c")).publish() == 0  # no bucket: local only


def test_a_round_on_s3_continues_on_a_fresh_machine_with_training_out_of_process(s3, s3_endpoint, tmp_path, tiny_dir):
    """Round r0000 runs with artifacts mirrored to S3; its child round r0001 then runs on an empty
    disk (another machine or pod): it pulls the parent's checkpoint and gaps from the bucket, and
    trains out of process through Dagster Pipes."""
    job = defs.resolve_job_def(ROUND_JOB)

    def run(root, key, tags=None, pipes=False):
        config = tiny_round_config(tiny_dir)
        config["resources"]["workspace"] = {
            "config": {"root": str(root), "s3_bucket": BUCKET, "s3_prefix": "e2e", "s3_endpoint_url": s3_endpoint}
        }
        config["ops"]["policy_checkpoint"]["config"]["out_of_process"] = pipes
        instance.add_dynamic_partitions("rounds", [key])
        return job.execute_in_process(
            run_config=config, instance=instance, partition_key=key, tags=tags or {}, raise_on_error=False
        )

    with dg.instance_for_test() as instance:
        assert run(tmp_path / "machine_a", "r0000").success
        keys = _keys(s3, "e2e/rounds/r0000/")
        for artifact in (
            "catalog",
            "trajectories",
            "training_set",
            "policy/LATEST",
            "bfcl/dev/summary.json",
            "bfcl/test/summary.json",
            "heldout/heldout.json",
            "yield/yield.json",
            "gaps/gaps.json",
        ):
            assert any(k.startswith(f"e2e/rounds/r0000/{artifact}") for k in keys), artifact
        assert "e2e/shared/probe/probe.json" in _keys(s3, "e2e/shared/")  # the probe travels too
        child = run(tmp_path / "machine_b", "r0001", tags={PARENT_TAG: "r0000"}, pipes=True)
        assert child.success
        policy = instance.get_latest_materialization_event(dg.AssetKey("policy_checkpoint")).asset_materialization
        assert policy.partition == "r0001" and policy.metadata["out_of_process"].value is True
        assert policy.metadata["base_model"].value.startswith(str(tmp_path / "machine_b" / "rounds" / "r0000"))
        plan = instance.get_latest_materialization_event(dg.AssetKey("scenario_plan")).asset_materialization
        assert plan.metadata["weights_source"].value == "capability_gaps of r0000"
        assert any(k.startswith("e2e/rounds/r0001/policy/") for k in _keys(s3, "e2e/rounds/r0001/"))
        # machine B scored its policy on the very probe machine A built (pulled from the bucket)
        probes = [
            json.loads((tmp_path / m / "rounds" / k / "heldout" / "heldout.json").read_text())["probe"]
            for m, k in (("machine_a", "r0000"), ("machine_b", "r0001"))
        ]
        assert probes[0] == probes[1]
