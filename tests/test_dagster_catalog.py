"""The catalog asset and its checks on a real Dagster instance."""

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl

from inftool_dagster.assets.catalog import catalog_dir
from inftool_dagster.assets.partitions import PARENT_TAG, ROUND_JOB
from inftool_dagster.bfcl.splits import split_of
from inftool_dagster.definitions import defs
from inftool_dagster.resources import SpecSourcesResource, WorkspaceResource


def _run(instance, tmp_path, tiny_dir, paths=None, key="r0000", tags=None):
    instance.add_dynamic_partitions("rounds", [key])
    job = defs.resolve_job_def(ROUND_JOB)
    config = {
        "resources": {
            "workspace": {"config": {"root": str(tmp_path)}},
            "policy_model": {"config": {"model": str(tiny_dir)}},
        },
        "ops": {
            "scenario_plan": {"config": {"n": 6, "gold_only": 10}},
            "policy_checkpoint": {
                "config": {"sft_steps": 1, "grpo_steps": 1, "num_generations": 2, "max_completion_length": 4}
            },
            "heldout_probe": {"config": {"prompts": 8, "yield_blueprints": 4}},
            "bfcl_dev_scores": {
                "config": {"categories": ["simple_python", "irrelevance"], "limit": 2, "max_new_tokens": 4}
            },
            "bfcl_test_scores": {
                "config": {"categories": ["simple_python", "irrelevance"], "limit": 2, "max_new_tokens": 4}
            },
            "heldout_scores": {"config": {"max_new_tokens": 4}},
        },
    }
    if paths:
        config["resources"]["spec_sources"] = {"config": {"paths": [str(p) for p in paths]}}
    return job.execute_in_process(
        run_config=config, instance=instance, partition_key=key, raise_on_error=False, tags=tags or {}
    )


def _checks(result):
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def test_round_job_materializes_catalog_with_checks_and_metadata(tmp_path, tiny_dir):
    with dg.instance_for_test() as instance:
        result = _run(instance, tmp_path, tiny_dir)
        assert result.success
        assert _checks(result) == {
            "catalog_schemas_valid": True,
            "catalog_names_unique": True,
            "catalog_descriptions_present": True,
            "catalog_served_over_mcp": True,
            "tree_covers_catalog": True,
            "plan_has_no_heldout_twins": True,
            "trajectories_quality": True,
            "verified_quality": True,
            "training_split_disjoint": True,
            "training_set_no_bfcl_leak": True,
            "bfcl_dev_failures_bounded": True,
            "bfcl_test_failures_bounded": True,
            "heldout_failures_bounded": True,
        }
        smoke = next(
            e.asset_check_evaluation_data.metadata
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "catalog_served_over_mcp"
        )
        assert smoke["called"].value == smoke["listed"].value == 38  # 25 spec tools + 13 sample Python functions
        assert smoke["conformance"].value >= 0.9
        materialization = instance.get_latest_materialization_event(dg.AssetKey("tool_catalog")).asset_materialization
        assert materialization.partition == "r0000"
        assert materialization.metadata["functions"].value == 38
        frame = pl.read_parquet(catalog_dir(WorkspaceResource(root=str(tmp_path)), "r0000") / "catalog.parquet")
        assert frame.height == 38
        assert frame.filter(pl.col("source_format") == "python").height == 13
        trajectories = instance.get_latest_materialization_event(
            dg.AssetKey("synthetic_trajectories")
        ).asset_materialization
        assert trajectories.partition == "r0000"
        assert trajectories.metadata["trajectories"].value == 6
        plan = instance.get_latest_materialization_event(dg.AssetKey("scenario_plan")).asset_materialization
        assert plan.metadata["blueprints"].value == 16  # 6 for the policy, 10 gold-replayed only (volume)
        assert plan.metadata["for_policy"].value == 6 and plan.metadata["gold_only"].value == 10
        probe = instance.get_latest_materialization_event(dg.AssetKey("heldout_probe")).asset_materialization
        assert probe.metadata["prompts"].value == 8 and probe.metadata["heldout_keys"].value
        assert probe.metadata["heldout_by"].value == "cluster"  # whole clusters of the MCP tree
        tree = instance.get_latest_materialization_event(dg.AssetKey("tool_tree")).asset_materialization
        assert tree.metadata["functions"].value == 38
        assert 1 <= tree.metadata["canonical_tools"].value <= 38 and tree.metadata["domains"].value >= 2
        assert "data:image/png;base64," in tree.metadata["tree"].value
        assert plan.metadata["domains_covered"].value >= 1 and plan.metadata["heldout_twins_excluded"].value == 0
        assert plan.metadata["tools_held_out"].value == probe.metadata["heldout_tools"].value > 0
        verified = instance.get_latest_materialization_event(dg.AssetKey("verified_trajectories")).asset_materialization
        assert verified.metadata["trajectories"].value == 6
        assert sum(verified.metadata["rejected_by_gate"].value.values()) + verified.metadata["verified"].value <= 6
        views = instance.get_latest_materialization_event(dg.AssetKey("training_set")).asset_materialization
        assert views.metadata["grpo_train"].value >= 6 and views.metadata["grpo_heldout"].value == 0
        sources = views.metadata["rows_by_source"].value
        assert sum(sources["sft"].values()) == views.metadata["sft_train"].value
        assert views.metadata["gold_only_planned"].value == 10 and views.metadata["sft_from_gold_only"].value > 0
        assert sources["grpo_prompts"]["gold"] == views.metadata["grpo_train"].value
        synth = instance.get_latest_materialization_event(dg.AssetKey("synthetic_trajectories")).asset_materialization
        assert synth.metadata["policy_round"].value == "base" and synth.metadata["policy_model"].value == str(tiny_dir)
        policy = instance.get_latest_materialization_event(dg.AssetKey("policy_checkpoint")).asset_materialization
        assert set(policy.metadata["stages"].value) == {"sft", "grpo"}
        grpo_steps = policy.metadata["stages"].value["grpo"]["steps"]
        assert len(policy.metadata["frac_reward_zero_std"].value) == grpo_steps  # one share per GRPO step
        assert len(policy.metadata["reward_curve"].value) == grpo_steps
        boundary = policy.metadata["boundary"].value  # GRPO's prompts at the policy's boundary
        assert boundary["kept"] + boundary["all_same_reward"] == boundary["candidates"] > 0
        for split in ("dev", "test"):
            scores = instance.get_latest_materialization_event(
                dg.AssetKey(f"bfcl_{split}_scores")
            ).asset_materialization
            assert scores.metadata["entries"].value == 4 and scores.metadata["split"].value == split
            assert "simple_python" in scores.metadata["accuracy"].value and "[" in scores.metadata["accuracy"].value
            assert scores.metadata["generation_errors"].value == 0
            ids = {
                json.loads(line)["id"]
                for line in (
                    tmp_path
                    / "rounds"
                    / "r0000"
                    / "bfcl"
                    / split
                    / "result"
                    / "policy"
                    / "BFCL_v4_simple_python_result.json"
                ).open()
            }
            assert {split_of(i) for i in ids} == {split}
        gaps = instance.get_latest_materialization_event(dg.AssetKey("capability_gaps")).asset_materialization
        assert gaps.partition == "r0000" and "next_scenario_weights" in gaps.metadata
        assert gaps.metadata["score_split"].value == "dev"
        assert gaps.metadata["dev_score_by_round"].value.startswith("![dev score by round](data:image/png;base64,")
        heldout = instance.get_latest_materialization_event(dg.AssetKey("heldout_scores")).asset_materialization
        assert heldout.metadata["prompts"].value == 8 and "/8)" in heldout.metadata["exact"].value
        assert heldout.metadata["generation_errors"].value == 0
        yielded = instance.get_latest_materialization_event(dg.AssetKey("policy_yield")).asset_materialization
        assert yielded.metadata["conversations"].value == 4 and "/4)" in yielded.metadata["yield"].value
        report = instance.get_latest_materialization_event(dg.AssetKey("round_report")).asset_materialization
        assert report.metadata["by_round"].value.startswith("![by round](data:image/png;base64,")
        assert report.metadata["vs_previous_round"].value == "—"  # the first round has none
        record = json.loads((tmp_path / "rounds" / "r0000" / "report" / "report.json").read_text())
        assert sum(len(v) for v in record["outcomes"]["bfcl"].values()) == 4  # every test entry's verdict
        assert len(record["outcomes"]["heldout"]["hits"]) == 8  # every probe prompt's
        plan = instance.get_latest_materialization_event(dg.AssetKey("scenario_plan")).asset_materialization
        assert plan.metadata["parent_round"].value == "none"
        # the next round (as the sensor requests it) reads its parent's gaps and starts from its policy
        child = _run(instance, tmp_path, tiny_dir, key="r0001", tags={PARENT_TAG: "r0000"})
        assert child.success
        plan = instance.get_latest_materialization_event(dg.AssetKey("scenario_plan")).asset_materialization
        assert plan.partition == "r0001" and plan.metadata["weights_source"].value == "capability_gaps of r0000"
        assert plan.metadata["parent_gaps"].value == str(tmp_path / "rounds" / "r0000" / "gaps" / "gaps.json")
        policy = instance.get_latest_materialization_event(dg.AssetKey("policy_checkpoint")).asset_materialization
        assert "r0000" in policy.metadata["base_model"].value and policy.metadata["parent_round"].value == "r0000"
        # the loop is closed: the child's Assistant is the parent's checkpoint, recorded in shards and metadata
        parent_checkpoint = str(WorkspaceResource(root=str(tmp_path)).round("r0000").latest_checkpoint())
        assert policy.metadata["parent_checkpoint"].value == parent_checkpoint  # lineage across rounds, in the UI
        synth = instance.get_latest_materialization_event(dg.AssetKey("synthetic_trajectories")).asset_materialization
        assert synth.partition == "r0001" and synth.metadata["policy_round"].value == "r0000"
        assert synth.metadata["policy_model"].value == parent_checkpoint
        assert synth.metadata["policy_checkpoint_version"].value not in ("base", "unknown")
        assert synth.metadata["parent_checkpoint"].value == parent_checkpoint
        shards = pl.read_parquet(tmp_path / "rounds" / "r0001" / "trajectories" / "*.parquet")
        assert set(shards["policy_model"].to_list()) == {parent_checkpoint}
        # the child's report compares it with its parent item by item, on the same entries and prompts
        report = instance.get_latest_materialization_event(dg.AssetKey("round_report")).asset_materialization
        assert report.partition == "r0001" and "in r0000 — " in report.metadata["vs_previous_round"].value
        assert "held-out probe: exact" in report.metadata["vs_previous_round"].value
        # both rounds were scored on the same fixed probe
        probes = [
            json.loads((tmp_path / "rounds" / k / "heldout" / "heldout.json").read_text())["probe"]
            for k in ("r0000", "r0001")
        ]
        assert probes[0] == probes[1]
        _export_reproduces_the_card(tmp_path)


def _export_reproduces_the_card(home: Path) -> None:
    """`inftool export` takes the best dev round away as a Hugging Face directory whose chat template
    renders tools as the policy was trained, and `inftool bfcl eval` with the card's command gives
    the card's numbers (the same outputs, entry by entry)."""
    import shlex

    from click.testing import CliRunner
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from inftool_dagster.cli import main
    from inftool_dagster.evolution import best_round
    from inftool_dagster.llm.prompts import render_prompt

    out = home / "export"
    gaps = {k: json.loads((home / "rounds" / k / "gaps" / "gaps.json").read_text()) for k in ("r0000", "r0001")}
    scores = {k: g["score"] for k, g in gaps.items()}
    chosen = best_round(list(scores), list(scores.values()))
    args = ["export", "--home", str(home), "--out", str(out)]
    if chosen is None:  # these rounds' dev sample has no summary score: the export asks for a round
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 1 and "has a dev score" in refused.output and not out.exists()
        chosen, args = "r0001", [*args, "--round", "r0001"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["dev_scores"] == scores and line["round"] == chosen
    record = json.loads((out / "inftool_eval.json").read_text())
    card = (out / "README.md").read_text()
    test = json.loads((home / "rounds" / record["round"] / "bfcl" / "test" / "summary.json").read_text())
    for category, figures in test["categories"].items():
        assert f"| {category} | " in card and f"({figures['correct']}/{figures['total']})" in card
    assert AutoModelForCausalLM.from_pretrained(out).num_parameters() > 0
    exported = AutoTokenizer.from_pretrained(out)
    trained = AutoTokenizer.from_pretrained(record["checkpoint"])
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.", "parameters": schema}}]
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    assert exported.apply_chat_template(
        messages, tools=tools, add_generation_prompt=True, tokenize=False
    ) == render_prompt(trained, messages, tools, "prompt")
    command = shlex.split(record["reproduce"].replace("/tmp/bfcl-recheck", str(home / "recheck")))
    assert command[:3] == ["inftool", "bfcl", "eval"]
    rerun = CliRunner().invoke(main, command[1:])
    assert rerun.exit_code == 0, rerun.output
    again = json.loads((home / "recheck" / "summary.json").read_text())
    assert {c: (v["correct"], v["total"]) for c, v in again["categories"].items()} == {
        c: (v["correct"], v["total"]) for c, v in test["categories"].items()
    }
    for category in test["categories"]:
        name = f"BFCL_v4_{category}_result.json"
        first = (home / "rounds" / record["round"] / "bfcl" / "test" / "result" / "policy" / name).read_text()
        second = next((home / "recheck" / "result").glob(f"*/{name}")).read_text()
        assert [json.loads(x)["result"] for x in first.splitlines()] == [
            json.loads(x)["result"] for x in second.splitlines()
        ]


def test_invalid_catalog_fails_blocking_check(tmp_path, samples, monkeypatch, tiny_dir):
    """A catalog whose schema is broken after the build fails the blocking check loudly."""
    import inftool_dagster.assets.catalog as catalog_assets

    real = catalog_assets.build_catalog

    def corrupting_build(*args, **kwargs):
        build = real(*args, **kwargs)
        build.functions = build.functions.with_columns(
            pl.when(pl.col("name") == "get_note")
            .then(pl.lit('{"type": "object", "required": "note_id"}'))
            .otherwise(pl.col("parameters"))
            .alias("parameters")
        )
        return build

    monkeypatch.setattr(catalog_assets, "build_catalog", corrupting_build)
    with dg.instance_for_test() as instance:
        result = _run(instance, tmp_path, tiny_dir)
        assert not result.success
        assert _checks(result)["catalog_schemas_valid"] is False
        # The blocking check stops the round: nothing downstream is materialized.
        assert instance.get_latest_materialization_event(dg.AssetKey("scenario_plan")) is None
        assert instance.get_latest_materialization_event(dg.AssetKey("synthetic_trajectories")) is None


def test_bad_trajectories_fail_the_blocking_quality_check(tmp_path, monkeypatch, tiny_dir):
    """Trajectories offering a tool the catalog lacks: the GX check fails loudly, nothing downstream runs."""
    import inftool_dagster.assets.synthesis as synthesis_assets

    real = synthesis_assets.synthesize

    def corrupting_synthesize(catalog, out, *args, **kwargs):
        summary = real(catalog, out, *args, **kwargs)
        for shard in sorted(Path(out).glob("shard-*.parquet")):
            frame = pl.read_parquet(shard)
            frame.with_columns(pl.col("tool_names").list.concat(pl.lit(["ghost_tool"]))).write_parquet(shard)
        return summary

    monkeypatch.setattr(synthesis_assets, "synthesize", corrupting_synthesize)
    with dg.instance_for_test() as instance:
        result = _run(instance, tmp_path, tiny_dir)
        assert not result.success
        assert _checks(result)["trajectories_quality"] is False
        evaluation = next(
            e.asset_check_evaluation_data
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
            and e.asset_check_evaluation_data.check_name == "trajectories_quality"
        )
        assert "ghost_tool" in str(evaluation.metadata["expectations"].value)
        assert instance.get_latest_materialization_event(dg.AssetKey("verified_trajectories")) is None
        assert instance.get_latest_materialization_event(dg.AssetKey("training_set")) is None


def test_definitions_validate():
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "inftool_dagster.definitions"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "passed validation" in proc.stderr + proc.stdout


def test_spec_sources_default_to_bundled_samples(samples):
    assert SpecSourcesResource().resolved_paths() == [str(samples), "py:inftool_dagster.sample_tools.everyday"]
