"""Self-evolution: capability gaps, stop rule, the sensor and the nightly schedule on a real instance."""

import json

import dagster as dg
import polars as pl

from inftool_dagster.assets.evolution import evolution_sensor, nightly_evolution
from inftool_dagster.assets.partitions import PARENT_TAG
from inftool_dagster.evolution import StopRule, best_round, capability_gaps, error_kind, should_stop
from inftool_dagster.resources import EvolutionResource, WorkspaceResource


def test_error_kinds_and_gaps_raise_weights_where_the_policy_fails(tmp_path):
    assert error_kind("simple_function_checker:wrong_func_name") == "wrong_function"
    assert (
        error_kind("type_error:simple") == "wrong_type"
        and error_kind("irrelevance_error:decoder_success") == "false_call_on_irrelevance"
    )
    score_dir = tmp_path / "score" / "policy"
    score_dir.mkdir(parents=True)
    (score_dir / "BFCL_v4_parallel_score.json").write_text(
        json.dumps({"accuracy": 0.0, "correct_count": 0, "total_count": 2})
        + "\n"
        + json.dumps({"id": "p0", "error_type": "parallel_function_checker_no_order:wrong_count"})
        + "\n"
        + json.dumps({"id": "p1", "error_type": "value_error:string"})
        + "\n"
    )
    (score_dir / "BFCL_v4_simple_python_score.json").write_text(
        json.dumps({"accuracy": 1.0, "correct_count": 2, "total_count": 2}) + "\n"
    )
    gated = pl.DataFrame(
        {
            "scenario_type": ["multiple", "multiple", "simple"],
            "domain": ["a", "a", "b"],
            "verified": [False, False, True],
            "reject_reason": ["wrong_value: x", "no_call", None],
        }
    )
    (tmp_path / "summary.json").write_text(json.dumps({"split": "dev", "model": "policy", "summary": {}}))
    gaps = capability_gaps(tmp_path, gated)
    weights = gaps["scenario_weights"]
    assert weights["parallel"] > 1.0 and weights["multiple"] > 2.0 and weights["simple"] == 2.0
    assert gaps["bfcl_error_kinds"] == {"wrong_call_count": 1, "wrong_value": 1}
    assert gaps["synthetic_error_kinds"] == {"wrong_value": 1, "missed_call": 1}
    assert gaps["domain_weights"]["a"] > gaps["domain_weights"]["b"]


def test_stop_rule():
    rule = StopRule(max_rounds=4, patience=2)
    assert should_stop([0.1, 0.2], rule) == (False, "continue")
    assert should_stop([0.1, 0.2, 0.3, 0.4], rule)[0]  # max rounds
    assert should_stop([0.1, 0.3, 0.2, 0.3], StopRule(max_rounds=9, patience=2))[0]  # no improvement for 2
    assert not should_stop([0.1, 0.3, 0.2, 0.35], StopRule(max_rounds=9, patience=2))[0]


def test_the_kept_checkpoint_is_the_best_dev_round_and_a_tie_keeps_the_earlier():
    keys = ["r0000", "r0001", "r0002", "r0003"]
    assert best_round(keys, [0.1, 0.3, 0.2, 0.25]) == "r0001"
    assert best_round(keys, [0.1, 0.3, None, 0.3]) == "r0001"  # a later round must beat it, not match it
    assert best_round(keys, [None, None, 0.05, None]) == "r0002"
    assert best_round(keys, [None] * 4) is None


def _tick(instance, resources, cursor=None):
    """One sensor evaluation, with resources opened and closed as the daemon does."""
    with dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        return evolution_sensor(context)


def _nightly(instance, resources):
    with dg.build_schedule_context(instance=instance, resources=resources) as context:
        return nightly_evolution(context)


def _round_done(instance, root, key, score):
    instance.add_dynamic_partitions("rounds", [key])
    gaps = root / "rounds" / key / "gaps"
    gaps.mkdir(parents=True, exist_ok=True)
    (gaps / "gaps.json").write_text(json.dumps({"score": score, "score_split": "dev"}))
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="capability_gaps", partition=key))


def test_sensor_starts_the_next_round_with_its_parent_and_honours_the_stop_rule(tmp_path):
    with dg.instance_for_test() as instance:
        resources = {"workspace": WorkspaceResource(root=str(tmp_path)), "evolution": EvolutionResource(max_rounds=3)}
        assert isinstance(_tick(instance, resources), dg.SkipReason)  # nothing yet
        _round_done(instance, tmp_path, "r0000", 0.0)
        result = _tick(instance, resources)
        assert [r.partition_key for r in result.run_requests] == ["r0001"]
        assert result.run_requests[0].tags[PARENT_TAG] == "r0000"
        assert result.dynamic_partitions_requests[0].partition_keys == ["r0001"] and result.cursor == "r0000"
        # same gaps again (cursor): no duplicate round
        again = _tick(instance, resources, "r0000")
        assert isinstance(again, dg.SkipReason)
        # a tick that crashed never stored its cursor: the next tick sees the same gaps and requests the round
        retry = _tick(instance, resources, None)
        assert retry.run_requests[0].run_key == "evolve-r0001"  # run_key dedups it if it did launch
        _round_done(instance, tmp_path, "r0001", 0.1)
        _round_done(instance, tmp_path, "r0002", 0.2)
        stop = _tick(instance, resources, "r0001")
        assert isinstance(stop, dg.SkipReason) and "max_rounds=3" in stop.skip_message


def test_nightly_schedule_starts_round_zero_then_continues(tmp_path):
    with dg.instance_for_test() as instance:
        resources = {"workspace": WorkspaceResource(root=str(tmp_path)), "evolution": EvolutionResource()}
        first = _nightly(instance, resources)
        assert [r.partition_key for r in first] == ["r0000"] and instance.get_dynamic_partitions("rounds") == ["r0000"]
        _round_done(instance, tmp_path, "r0000", 0.0)
        nxt = _nightly(instance, resources)
        assert [r.partition_key for r in nxt] == ["r0001"] and nxt[0].tags[PARENT_TAG] == "r0000"
        assert "r0001" in instance.get_dynamic_partitions("rounds")


def test_a_crashed_sensor_tick_does_not_skip_the_round(tmp_path):
    """A tick that raises (here: the round's gaps file is corrupt) stores no cursor; once the file
    is readable, the next tick requests the round it would have requested."""
    import pytest

    with dg.instance_for_test() as instance:
        resources = {"workspace": WorkspaceResource(root=str(tmp_path)), "evolution": EvolutionResource(max_rounds=5)}
        _round_done(instance, tmp_path, "r0000", 0.3)
        gaps = tmp_path / "rounds" / "r0000" / "gaps" / "gaps.json"
        good = gaps.read_text()
        gaps.write_text("{ truncated")
        with pytest.raises(json.JSONDecodeError):
            _tick(instance, resources)
        gaps.write_text(good)
        result = _tick(instance, resources)
        assert [r.partition_key for r in result.run_requests] == ["r0001"] and result.cursor == "r0000"


def test_min_share_keeps_what_the_policy_does_right_in_the_mix(tmp_path):
    import pytest

    from inftool_dagster.evolution.gaps import keep_shares
    from inftool_dagster.evolution.stopping import EvolutionSettings

    score_dir = tmp_path / "score" / "policy"
    score_dir.mkdir(parents=True)
    for category, accuracy in [("simple_python", 0.0), ("multiple", 0.0), ("irrelevance", 1.0)]:
        (score_dir / f"BFCL_v4_{category}_score.json").write_text(json.dumps({"accuracy": accuracy}) + "\n")
    (tmp_path / "summary.json").write_text(json.dumps({"split": "dev", "model": "policy", "summary": {}}))
    plain = capability_gaps(tmp_path, pl.DataFrame())["scenario_weights"]
    kept = capability_gaps(tmp_path, pl.DataFrame(), min_share={"irrelevance": 0.2})["scenario_weights"]
    share = lambda w, s: w[s] / sum(w.values())  # noqa: E731
    assert share(plain, "irrelevance") < 0.2  # the gaps alone thin out the skill the policy has
    assert share(kept, "irrelevance") == pytest.approx(0.2, abs=1e-3)
    assert {s: w for s, w in kept.items() if s != "irrelevance"} == {
        s: w for s, w in plain.items() if s != "irrelevance"
    }
    # a floor already met changes nothing; two floors both hold
    assert keep_shares({"a": 1.0, "b": 1.0}, {"a": 0.3}) == {"a": 1.0, "b": 1.0}
    two = keep_shares({"a": 8.0, "b": 1.0, "c": 1.0}, {"b": 0.25, "c": 0.25})
    assert share(two, "b") == pytest.approx(0.25, abs=1e-3) and share(two, "c") == pytest.approx(0.25, abs=1e-3)
    with pytest.raises(ValueError, match="unknown scenario"):
        EvolutionSettings(min_share={"irrelevant": 0.2})
    with pytest.raises(ValueError, match="sum to less than 1"):
        EvolutionSettings(min_share={"simple": 0.6, "irrelevance": 0.5})
