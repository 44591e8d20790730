"""Verification: every gate passing and failing, BFCL-style matching, dedup, GX suites, views, CLI."""

import json

import orjson
import polars as pl
import pytest
from click.testing import CliRunner

from inftool_dagster.cli import main
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.synthesis import Planner
from inftool_dagster.synthesis.trajectories import TRAJECTORY_SCHEMA
from inftool_dagster.synthesis.user_simulator import UserSimulator
from inftool_dagster.training.views import build_views, gold_trajectory_rows, is_heldout_tool, planned_rows
from inftool_dagster.verification import (
    CorruptTrajectories,
    GateConfig,
    Verifier,
    VerifyConfig,
    read_trajectories,
    verify,
)
from inftool_dagster.verification.dedup import DedupConfig, dedup, diversity
from inftool_dagster.verification.matching import calls_mismatch, standardize_string, values_match
from inftool_dagster.verification.quality import QualityBounds, reverify, trajectory_suite, verified_suite

from .tiny_model import tiny_backend


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_build):
    out = tmp_path_factory.mktemp("catalog")
    sample_build.write(out)
    s = CatalogServer.from_catalog(out)
    s.catalog_dir = out
    return s


@pytest.fixture(scope="module")
def gold(server) -> pl.DataFrame:
    blueprints = Planner(list(server.tools.values()), seed=3).plan(0, 240)
    user = UserSimulator({n: t.description for n, t in server.tools.items()}, None, 3)
    return pl.DataFrame(gold_trajectory_rows(blueprints, server, user), schema=TRAJECTORY_SCHEMA)


def one(gold: pl.DataFrame, kind: str, **changes) -> pl.DataFrame:
    row = gold.filter(pl.col("scenario_type") == kind).head(1).to_dicts()[0]
    row.update(changes)
    return pl.DataFrame([row], schema=TRAJECTORY_SCHEMA)


def verdict(server, frame: pl.DataFrame) -> dict:
    return Verifier(server.tools).run(frame).select("verified", "rejected_by", "reject_reason").to_dicts()[0]


def steps_of(frame: pl.DataFrame) -> list:
    return orjson.loads(frame["predicted_calls"][0])


# --- matching rules -------------------------------------------------------------------
def test_bfcl_string_number_and_container_rules():
    assert standardize_string("New York, NY") == standardize_string("new-york ny")
    assert values_match("San_Francisco", "san francisco")
    assert values_match(3, 3.0) and not values_match(3.5, 3)
    assert not values_match(True, 1) and not values_match("3", 3)
    assert values_match([1, "A b"], [1.0, "a-b"]) and not values_match([1, 2], [2, 1])
    assert values_match({"k": "X"}, {"k": "x"}) and not values_match({"k": 1, "j": 2}, {"k": 1})


def test_call_list_matching_reasons():
    gold = [{"name": "f", "arguments": {"a": 1}}, {"name": "f", "arguments": {"a": 2}}]
    assert calls_mismatch(list(reversed(gold)), gold) is None  # parallel: order-insensitive
    assert calls_mismatch(list(reversed(gold)), gold, ordered=True).startswith("wrong_value")
    assert calls_mismatch(gold[:1], gold).startswith("wrong_call_count")
    assert calls_mismatch([{"name": "g", "arguments": {"a": 1}}], gold[:1]).startswith("wrong_function")
    assert calls_mismatch([{"name": "f", "arguments": {}}], gold[:1]).startswith("missing_argument")
    assert calls_mismatch([{"name": "f", "arguments": {"a": 1, "b": 2}}], gold[:1]).startswith("extra_argument")
    assert calls_mismatch([{"name": "f", "arguments": {"a": "1"}}], gold[:1]).startswith("wrong_type")


# --- gates ---------------------------------------------------------------------------
def test_gold_replays_pass_every_gate(server, gold):
    gated = Verifier(server.tools).run(gold)
    assert gold.height > 200 and set(gold["scenario_type"]) >= {
        "simple",
        "multiple",
        "parallel",
        "parallel_multiple",
        "irrelevance",
        "missing_parameter",
        "multi_step",
        "multi_turn",
    }
    failures = gated.filter(~pl.col("verified")).select("scenario_type", "reject_reason").to_dicts()
    assert failures == []


def test_format_gate(server, gold):
    v = verdict(server, one(gold, "simple", parse_failures=["python: unbalanced parenthesis"]))
    assert (v["verified"], v["rejected_by"]) == (False, "format") and "unbalanced" in v["reject_reason"]


def test_schema_gate_hallucinated_tool_parameter_and_type(server, gold):
    frame = one(gold, "simple")
    steps = steps_of(frame)
    call = steps[0][0]
    cases = {
        "hallucinated_tool": [[{"name": "launch_rocket", "arguments": {}}]],
        "hallucinated_parameter": [[{"name": call["name"], "arguments": {**call["arguments"], "zzz_extra": 1}}]],
    }
    not_offered = next(n for n in server.tools if n not in frame["tool_names"][0])
    cases["tool_not_offered"] = [[{"name": not_offered, "arguments": {}}]]
    schema = server.tools[call["name"]].parameters
    typed = next((k for k, s in schema.get("properties", {}).items() if s.get("type") == "string"), None)
    if typed:
        cases["invalid_arguments"] = [[{"name": call["name"], "arguments": {**call["arguments"], typed: 12345}}]]
    for expected, bad in cases.items():
        v = verdict(server, one(gold, "simple", predicted_calls=json.dumps(bad)))
        assert v["rejected_by"] == "schema" and v["reject_reason"].startswith(expected), (expected, v)


def test_execution_gate(server, gold):
    v = verdict(server, one(gold, "simple", tool_errors=1))
    assert v["rejected_by"] == "execution" and "1 call(s) rejected" in v["reject_reason"]


def test_intent_gate_cases(server, gold):
    frame = one(gold, "simple")
    call = steps_of(frame)[0][0]
    key, value = next(iter(call["arguments"].items()))
    wrong = {
        **call["arguments"],
        key: "something else entirely"
        if isinstance(value, str)
        else value + 1000
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else value,
    }
    if wrong != call["arguments"]:
        v = verdict(
            server, one(gold, "simple", predicted_calls=json.dumps([[{"name": call["name"], "arguments": wrong}]]))
        )
        assert v["rejected_by"] in ("intent", "schema")
    assert verdict(server, one(gold, "simple", predicted_calls="[]"))["reject_reason"] == "no_call"
    # parallel, calls reversed: still verified
    par = one(gold, "parallel")
    reversed_steps = [list(reversed(steps_of(par)[0]))]
    assert verdict(server, one(gold, "parallel", predicted_calls=json.dumps(reversed_steps)))["verified"]
    # irrelevance: any call is a false call
    irr = one(gold, "irrelevance")
    offered = irr["tool_names"][0][0]
    v = verdict(server, one(gold, "irrelevance", predicted_calls=json.dumps([[{"name": offered, "arguments": {}}]])))
    assert v["rejected_by"] in ("schema", "intent")
    v = (
        Verifier(server.tools, GateConfig(schema_=False))
        .run(one(gold, "irrelevance", predicted_calls=json.dumps([[{"name": offered, "arguments": {}}]])))
        .to_dicts()[0]
    )
    assert v["reject_reason"].startswith("false_call_on_irrelevance")
    # missing parameter: calling before asking fails even with the right call
    mp = one(gold, "missing_parameter")
    messages = [m for m in orjson.loads(mp["messages"][0])]
    first_call = next(m for m in messages if m.get("tool_calls"))
    no_ask = json.dumps([messages[0], first_call] + messages[messages.index(first_call) + 1 :])
    v = verdict(server, one(gold, "missing_parameter", messages=no_ask))
    assert v["rejected_by"] == "intent" and v["reject_reason"].startswith("called_without_asking")


def test_multi_step_gold_reads_the_created_id(server, gold):
    ms = one(gold, "multi_step")
    steps = steps_of(ms)
    assert len(steps) == 2 and not str(steps[1][0]["arguments"]).count("$result")
    bad = [steps[0], [{"name": steps[1][0]["name"], "arguments": {k: "not-the-id" for k in steps[1][0]["arguments"]}}]]
    v = verdict(server, one(gold, "multi_step", predicted_calls=json.dumps(bad)))
    assert v["rejected_by"] == "intent" and "wrong_value" in v["reject_reason"]


def test_semantic_gate_uses_a_judge(server, gold):
    frame = one(gold, "simple")
    with pytest.raises(ValueError, match="no judge"):
        Verifier(server.tools, GateConfig(semantic=True)).run(frame)
    judged = Verifier(server.tools, GateConfig(semantic=True), tiny_backend()).run(frame).to_dicts()[0]
    assert judged["gate_semantic"] is False and judged["reject_reason"].startswith(
        "judge_said"
    )  # random weights say no


# --- dedup, diversity ---------------------------------------------------------------------
def test_dedup_exact_near_and_caps(gold):
    row = gold.head(1).to_dicts()[0]
    exact = {**row, "trajectory_id": "zz-exact", "request": row["request"].upper() + "!!"}
    near = {**row, "trajectory_id": "zz-near", "request": row["request"] + " 12345"}
    frame = pl.concat([gold, pl.DataFrame([exact, near], schema=TRAJECTORY_SCHEMA)])
    kept, removed = dedup(frame, DedupConfig())
    assert "zz-exact" not in kept["trajectory_id"].to_list() and removed["exact_duplicate"] >= 1
    assert "zz-near" not in kept["trajectory_id"].to_list() and removed["near_duplicate"] >= 1
    capped, removed = dedup(gold, DedupConfig(max_per_tool=3, max_per_template=5))
    per_tool = capped.select(pl.col("target_tools").explode()).drop_nulls().group_by("target_tools").len()
    assert per_tool["len"].max() <= 3 and removed["tool_cap"] > 0
    assert capped.group_by("request_template").len()["len"].max() <= 5
    figures = diversity(capped)
    assert figures["rows"] == capped.height and 0 < figures["distinct_2"] <= 1


# --- data-quality suites (great-expectations) -----------------------------------------------
def test_trajectory_suite_passes_and_fails_with_examples(server, gold):
    names = list(server.tools)
    assert trajectory_suite(gold, names, QualityBounds()).success
    target = next(t[0] for t in gold["target_tools"] if len(t))  # irrelevance rows target nothing
    report = trajectory_suite(gold, [n for n in names if n != target], QualityBounds())
    assert not report.success
    failed = {e.name: e for e in report.failed()}
    key = next(k for k in failed if "offered_tools" in k)
    assert target in failed[key].failing_examples
    skewed = QualityBounds(max_scenario_share=0.05)
    assert any("scenario_mix" in e.name for e in trajectory_suite(gold, names, skewed).failed())


def test_verified_suite_judges_kept_rows_again_from_scratch(server, gold):
    """The check does not trust the stored verdicts: a kept row whose calls no longer validate (or
    whose stored flags claim a pass) fails the fresh re-verification; a low pass rate fails too."""
    gated = Verifier(server.tools).run(gold)
    verified, _ = dedup(gated.filter(pl.col("verified")), DedupConfig())
    assert verified_suite(gated, verified, list(server.tools), QualityBounds(min_pass_rate=0.9), server).success
    # corrupt three kept rows' calls (rows with arguments) while their stored gate flags still say "passed"
    with_arguments = pl.col("predicted_calls").str.contains('"arguments":{"', literal=True)
    broken = verified.with_columns(
        pl.when(with_arguments & (with_arguments.cast(pl.Int32).cum_sum() <= 3))
        .then(pl.col("predicted_calls").str.replace(r'"arguments":\{', '"arguments":{"bogus_param":1,'))
        .otherwise(pl.col("predicted_calls"))
        .alias("predicted_calls")
    )
    assert broken["verified"].all() and broken["gate_schema"].all()
    again = reverify(broken, server)
    assert again["reverified"].to_list().count(False) == 3
    low = gated.with_columns((pl.int_range(pl.len()) >= 100).alias("verified"))  # pass rate < 60 %
    report = verified_suite(low, broken, list(server.tools), QualityBounds(min_pass_rate=0.9), server)
    names = " ".join(e.name for e in report.failed())
    assert "reverified" in names and "gated.verified" in names


# --- views and the whole step ----------------------------------------------------------------
def test_verify_writes_views_split_by_tool(server, gold, tmp_path):
    shards = tmp_path / "traj"
    shards.mkdir()
    gold.write_parquet(shards / "shard-00000.parquet")
    summary = verify(shards, server.catalog_dir, tmp_path / "out")
    assert summary["verified"] > 0 and summary["trajectories"] == gold.height
    train = pl.read_parquet(tmp_path / "out" / "grpo_train.parquet")
    heldout = pl.read_parquet(tmp_path / "out" / "grpo_heldout.parquet")
    assert train.height and heldout.height
    for tools in train["tools"].to_list():  # no held-out tool is ever offered in training
        assert not any(is_heldout_tool(t["function"]["name"], 0.2) for t in json.loads(tools))
    assert all(any(is_heldout_tool(t, 0.2) for t in ts) for ts in heldout["target_tools"].to_list())
    golds = [json.loads(g) for g in train["gold_calls"].to_list()]
    kinds = train["scenario_type"].to_list()
    assert all(g == [] for g, k in zip(golds, kinds) if k == "irrelevance")
    sft = pl.read_parquet(tmp_path / "out" / "sft_train.parquet")
    assert set(sft["source"]) == {"policy"}  # gold replays verify, so they are kept as they are
    chat = json.loads(sft["messages"][0])
    assert chat[0]["role"] == "user" and chat[-1]["role"] == "assistant"


def test_gold_only_blueprints_become_gold_replays_beside_the_policys_rows(server, gold, tmp_path):
    """Volume without model time: blueprints no assistant ran are gold-replayed into both views,
    counted as ``gold_only``; the policy's own verified rows keep their source and win the dedup."""
    planner = Planner(list(server.tools.values()), seed=11)
    policy_bps, extra_bps = planner.plan(0, 6), planner.plan(6, 40)
    user = UserSimulator.for_tools(server.tools.values(), None, 11)
    gated = Verifier(server.tools).run(
        pl.DataFrame(gold_trajectory_rows(policy_bps, server, user), schema=TRAJECTORY_SCHEMA)
    )
    planned = planned_rows(extra_bps, server, user, "r0000")
    assert planned.height == len(extra_bps) and not planned["verified"].any()
    assert all(len(json.loads(m)) == 1 for m in planned["messages"].to_list())  # the request, no assistant
    config = VerifyConfig(heldout_tools=[])
    summary = build_views(gated, server, tmp_path / "views", config, planned)
    sft = pl.read_parquet(tmp_path / "views" / "sft_train.parquet")
    by_source = dict(sft.group_by("source").len().iter_rows())
    alone = build_views(gated, server, tmp_path / "alone", config)  # the policy's rows without the planned ones
    assert by_source["policy"] == alone["rows_by_source"]["sft"]["policy"] > 0
    assert set(alone["rows_by_source"]["sft"]) == {"policy"}
    assert by_source["gold_only"] > 0.8 * len(extra_bps)  # a few fall to the dedup
    assert summary["rows_by_source"]["sft"] == by_source
    replays = sft.filter(pl.col("source") == "gold_only")
    for messages, kind in zip(replays["messages"].to_list(), replays["scenario_type"].to_list()):
        chat = json.loads(messages)
        assert chat[-1]["role"] == "assistant"
        assert any(m.get("tool_calls") for m in chat) == (kind != "irrelevance")
    grpo = pl.read_parquet(tmp_path / "views" / "grpo_train.parquet")
    assert set(grpo["trajectory_id"]) >= set(replays["trajectory_id"])  # every replay also gives GRPO prompts


def test_corrupted_trajectories_give_a_clear_error(server, tmp_path):
    shards = tmp_path / "traj"
    shards.mkdir()
    (shards / "shard-00000.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CorruptTrajectories, match="cannot read trajectory shard"):
        read_trajectories(shards)
    result = CliRunner().invoke(
        main,
        ["verify", "--trajectories", str(shards), "--catalog", str(server.catalog_dir), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1 and "cannot read trajectory shard" in result.output
    pl.DataFrame({"trajectory_id": ["a"]}).write_parquet(shards / "shard-00000.parquet")
    with pytest.raises(CorruptTrajectories, match="lack required columns"):
        read_trajectories(shards)


def test_cli_verify_ends_with_one_json_line(server, gold, tmp_path):
    shards = tmp_path / "traj"
    shards.mkdir()
    broken = gold.head(20).with_columns(pl.lit(1).cast(pl.Int64).alias("tool_errors"))
    pl.concat([gold.slice(20), broken]).write_parquet(shards / "shard-00000.parquet")
    result = CliRunner().invoke(
        main,
        ["verify", "--trajectories", str(shards), "--catalog", str(server.catalog_dir), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["trajectories"] == gold.height and summary["rejected"] == {"execution": 20}
    assert set(summary) >= {"trajectories", "verified", "rejected", "seconds"}
