"""Measurement that can be trusted: the BFCL dev/test split, intervals, counted failures, and the
rule that only dev results steer the loop."""

import json

import polars as pl
import pytest

from inftool_dagster.bfcl import evaluate, load_category
from inftool_dagster.bfcl.splits import DEV_FRACTION, select, split_of
from inftool_dagster.evaluation.intervals import mean_interval, mean_of_proportions, overlaps, proportion, wilson
from inftool_dagster.evolution import DevSplitRequired, capability_gaps
from inftool_dagster.llm.types import Generation, SamplingParams

from .tiny_model import tiny_backend


def test_split_is_stable_disjoint_and_about_a_quarter_dev():
    entries = load_category("simple_python")
    dev, test = select(entries, "dev"), select(entries, "test")
    assert {e["id"] for e in dev}.isdisjoint({e["id"] for e in test})
    assert len(dev) + len(test) == len(entries) == len(select(entries, "all"))
    assert abs(len(dev) / len(entries) - DEV_FRACTION) < 0.06
    assert all(split_of(e["id"]) == "dev" for e in dev)
    # a sample is a uniform draw from the split (hash order), not its first entries
    sample = select(entries, "test", 20)
    assert len(sample) == 20 and {e["id"] for e in sample} <= {e["id"] for e in test}
    assert [e["id"] for e in sample] != [e["id"] for e in test[:20]]
    assert select(entries, "test", 20) == sample
    with pytest.raises(ValueError, match="unknown split"):
        select(entries, "train")


def test_wilson_interval_matches_known_values():
    assert wilson(84, 400) == pytest.approx((0.1729, 0.2526), abs=2e-4)  # the 0.17–0.25
    assert wilson(0, 20)[0] == 0.0 and wilson(0, 20)[1] == pytest.approx(0.1611, abs=2e-4)
    assert wilson(20, 20)[1] == 1.0 and wilson(0, 0) is None
    assert proportion(90, 240)["ci95"] == pytest.approx((0.3162, 0.4378), abs=2e-4)  # 0.32–0.44
    mean = mean_of_proportions([(10, 20), (5, 20)])
    assert mean["accuracy"] == 0.375 and mean["ci95"][0] < 0.375 < mean["ci95"][1]
    assert mean_interval([0.0, 1.0] * 50) == pytest.approx((0.4015, 0.5985), abs=2e-4)
    assert mean_interval([0.3]) is None
    assert overlaps(proportion(8, 20), proportion(84, 400)) is True  # 0.40 vs 0.21: inside the noise at n=20
    assert overlaps(proportion(240, 240), proportion(90, 240)) is False


class _Failing:
    """A backend wrapper whose generation fails for chosen prompts (by position) with a given kind."""

    def __init__(self, inner, fail: dict[int, str]):
        self.inner, self.fail = inner, fail

    def generate(self, conversations, params, tools=None):
        out = self.inner.generate(conversations, params, tools)
        return [[Generation.failure("boom", kind=self.fail[i])] if i in self.fail else g for i, g in enumerate(out)]


def test_failed_generations_are_counted_and_scored_wrong_even_on_irrelevance(tmp_path):
    backend = _Failing(tiny_backend(), {0: "generation_error", 1: "prompt_too_long"})
    summary = evaluate(backend, ["irrelevance"], tmp_path, model_name="tiny", split="dev", limit=4, max_new_tokens=2)
    assert summary["split"] == "dev" and summary["generation_errors"] == 1 and summary["prompts_too_long"] == 1
    assert summary["categories"]["irrelevance"]["generation_errors"] == 1
    assert summary["failure_share"] == 0.5
    lines = (tmp_path / "score" / "tiny" / "BFCL_v4_irrelevance_score.json").read_text().splitlines()
    errors = [json.loads(line)["error_type"] for line in lines[1:]]
    # an empty output would pass irrelevance; a failure is wrong and says why
    assert "generation_failed:generation_error" in errors and "generation_failed:prompt_too_long" in errors
    result = summary["categories"]["irrelevance"]
    assert result["total"] == 4 and result["correct"] <= 2 and result["ci95"] is not None


class _Recording:
    """A backend wrapper recording each generate call: (rows, whether an early-stop rule was set)."""

    def __init__(self, inner):
        self.inner, self.calls, self.params = inner, [], []

    def generate(self, conversations, params, tools=None):
        self.calls.append((len(conversations), params.stop_when is not None))
        self.params.append(params)
        return self.inner.generate(conversations, params, tools)

    def describe(self):
        return self.inner.describe()


def test_single_turn_categories_share_one_generate_call_per_stop_rule(tmp_path):
    categories = ["simple_python", "irrelevance", "simple_java"]
    backend = _Recording(tiny_backend())
    together = evaluate(backend, categories, tmp_path / "together", model_name="tiny", limit=3, max_new_tokens=3)
    assert backend.calls == [(6, True), (3, False)]  # Python categories with the early stop; Java without
    assert together["entries"] == 9 and together["generation"]["decoder"] == "continuous"
    for category in categories:  # the same outputs as generating each category on its own
        alone = evaluate(tiny_backend(), [category], tmp_path / category, model_name="tiny", limit=3, max_new_tokens=3)
        assert alone["categories"][category]["correct"] == together["categories"][category]["correct"]
        name = f"BFCL_v4_{category}_result.json"
        assert (tmp_path / category / "result" / "tiny" / name).read_text() == (
            tmp_path / "together" / "result" / "tiny" / name
        ).read_text()


def test_only_out_of_memory_is_caught_and_it_splits_the_batch(monkeypatch):
    import torch

    backend = tiny_backend(batch_size=4, decoder="generate")
    real = backend._generate_batch
    sizes = []

    def flaky(rows, params, offset, prefix_cache=None):
        sizes.append(len(rows))
        if len(rows) > 1:
            raise torch.OutOfMemoryError("CPU out of memory")
        return real(rows, params, offset, prefix_cache)

    monkeypatch.setattr(backend, "_generate_batch", flaky)
    prompts = [f"prompt number {i}" for i in range(4)]
    out = backend.generate_prompts(prompts, SamplingParams(max_new_tokens=2))
    assert all(g[0].ok for g in out) and sizes[0] == 4 and sizes.count(1) == 4

    def broken(rows, params, offset, prefix_cache=None):
        raise AttributeError("'DynamicCache' object has no attribute 'crop'")  # e.g. a changed cache API

    monkeypatch.setattr(backend, "_generate_batch", broken)
    with pytest.raises(AttributeError, match="crop"):  # never read as empty outputs scoring 0.000
        backend.generate_prompts(prompts, SamplingParams(max_new_tokens=2))


def test_continuous_decoding_out_of_memory_falls_back_and_other_errors_propagate(monkeypatch):
    import torch

    backend = tiny_backend(slots=4)
    prompts = [f"prompt number {i}" for i in range(4)]
    expected = [g[0].text for g in backend.generate_prompts(prompts, SamplingParams(max_new_tokens=3))]

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CPU out of memory")

    monkeypatch.setattr(backend._continuous, "generate", oom)  # the generate path takes over, same texts
    assert [g[0].text for g in backend.generate_prompts(prompts, SamplingParams(max_new_tokens=3))] == expected

    def broken(*args, **kwargs):
        raise AttributeError("'LlamaAttention' object has no attribute 'q_proj'")  # e.g. a changed model layout

    monkeypatch.setattr(backend._continuous, "generate", broken)
    with pytest.raises(AttributeError, match="q_proj"):
        backend.generate_prompts(prompts, SamplingParams(max_new_tokens=3))


def test_eos_ids_do_not_grow_the_models_generation_config():
    from inftool_dagster.llm.transformers_backend import _eos_ids

    backend = tiny_backend()
    backend.model.generation_config.eos_token_id = [7, 8]
    for _ in range(3):
        ids = _eos_ids(backend.model, backend.tokenizer)
    assert backend.model.generation_config.eos_token_id == [7, 8]
    assert ids == {7, 8, backend.tokenizer.eos_token_id}


def _score_dir(tmp_path, split: str, accuracy: float):
    out = tmp_path / split
    (out / "score" / "policy").mkdir(parents=True)
    header = {"accuracy": accuracy, "correct_count": int(accuracy * 10), "total_count": 10}
    (out / "score" / "policy" / "BFCL_v4_simple_python_score.json").write_text(json.dumps(header) + "\n")
    (out / "summary.json").write_text(
        json.dumps({"split": split, "model": "policy", "summary": {"non_live_python_ast_summary": accuracy}})
    )
    return out


def test_gaps_and_stop_rule_refuse_anything_but_the_dev_split(tmp_path):
    dev = capability_gaps(_score_dir(tmp_path, "dev", 0.3), pl.DataFrame())
    assert dev["score"] == 0.3 and dev["score_split"] == "dev" and dev["bfcl_error_rate"] == {"simple_python": 0.7}
    for split in ("test", "all"):
        with pytest.raises(DevSplitRequired, match="only the dev split"):
            capability_gaps(_score_dir(tmp_path, split, 0.9), pl.DataFrame())


def test_the_stop_rule_refuses_a_gaps_file_carrying_a_test_score(tmp_path):
    from inftool_dagster.assets.evolution import _scores, gaps_path
    from inftool_dagster.resources import WorkspaceResource

    workspace = WorkspaceResource(root=str(tmp_path))
    gaps_path(workspace, "r0000").write_text(json.dumps({"score": 0.2, "score_split": "dev"}))
    assert _scores(workspace, ["r0000"]) == [0.2]
    gaps_path(workspace, "r0001").write_text(json.dumps({"score": 0.5, "score_split": "test"}))
    with pytest.raises(DevSplitRequired):
        _scores(workspace, ["r0000", "r0001"])


def test_the_gaps_asset_reads_the_dev_directory_only():
    """Lineage and code agree: capability_gaps depends on bfcl_dev_scores, never on test-side assets."""
    import dagster as dg

    from inftool_dagster.definitions import defs

    graph = defs.resolve_asset_graph()
    upstream = {k.to_user_string() for k in graph.get(dg.AssetKey("capability_gaps")).parent_keys}
    assert upstream == {"bfcl_dev_scores", "verified_trajectories"}
    ancestors = {k.to_user_string() for k in dg.AssetSelection.assets("capability_gaps").upstream().resolve(graph)}
    assert "bfcl_dev_scores" in ancestors and "policy_checkpoint" in ancestors
    assert not ancestors & {"bfcl_test_scores", "heldout_scores", "policy_yield", "round_report"}


def test_heldout_probe_stops_after_the_call_list_unless_told_and_records_it():
    from inftool_dagster.training.heldout import heldout_eval

    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    frame = pl.DataFrame(
        {
            "prompt": [json.dumps([{"role": "user", "content": "call f"}])] * 2,
            "tools": [json.dumps(tools)] * 2,
            "gold_calls": [json.dumps([{"name": "f", "arguments": {}}]), "[]"],
            "scenario_type": ["simple", "irrelevance"],
        }
    )
    backend = _Recording(tiny_backend())
    weights = {"format": 0.2, "name": 0.3, "arguments": 0.5}
    stopped = heldout_eval(backend, frame, weights, max_new_tokens=3)
    talked = heldout_eval(backend, frame, weights, max_new_tokens=3, stop_after_calls=False)
    assert [(p.max_new_tokens, p.stop_after_calls) for p in backend.params] == [(3, True), (3, False)]
    assert stopped["generation"] == {"max_new_tokens": 3, "stop_after_calls": True}
    assert talked["generation"]["stop_after_calls"] is False
    assert stopped["prompts"] == 2 and stopped["exact"]["total"] == 2


class _Scripted:
    """A backend answering each prompt with a fixed text (None: a failed generation)."""

    def __init__(self, texts):
        self.texts = texts

    def generate(self, conversations, params, tools=None):
        return [[Generation(text=t) if t is not None else Generation.failure("boom")] for t in self.texts]


def test_paired_comparisons_read_per_item_verdicts_and_use_mcnemars_exact_test(tmp_path):
    from inftool_dagster.bfcl import entry_outcomes
    from inftool_dagster.evaluation.paired import describe, paired_difference, pooled_items
    from inftool_dagster.training.heldout import heldout_eval, rescore_hits

    # BFCL: every entry's verdict read back from the result and score files, failures wrong
    backend = _Failing(tiny_backend(), {0: "generation_error", 1: "prompt_too_long"})
    summary = evaluate(backend, ["irrelevance"], tmp_path, model_name="tiny", split="dev", limit=4, max_new_tokens=2)
    outcomes = entry_outcomes(tmp_path)["irrelevance"]
    ids = [e["id"] for e in select(load_category("irrelevance"), "dev", 4)]
    assert list(outcomes) == ids and sum(outcomes.values()) == summary["categories"]["irrelevance"]["correct"]
    assert outcomes[ids[0]] is False and outcomes[ids[1]] is False
    # `inftool bfcl compare`: the same entries without the failures, and a directory that is no run
    from click.testing import CliRunner

    from inftool_dagster.cli import main

    again = evaluate(
        tiny_backend(), ["irrelevance"], tmp_path / "again", model_name="tiny", split="dev", limit=4, max_new_tokens=2
    )
    shown = CliRunner().invoke(main, ["bfcl", "compare", str(tmp_path), str(tmp_path / "again")])
    row = json.loads(shown.output)["comparisons"]["irrelevance"]
    first, second = summary["categories"]["irrelevance"]["correct"], again["categories"]["irrelevance"]["correct"]
    assert (row["first"], row["second"]) == (f"{first}/4", f"{second}/4")
    assert row["paired"]["a_only"] - row["paired"]["b_only"] == first - second
    same = CliRunner().invoke(main, ["bfcl", "compare", str(tmp_path), str(tmp_path)])
    assert json.loads(same.output)["comparisons"]["irrelevance"]["verdict"] == "inside the noise"
    (tmp_path / "empty").mkdir()
    bad = CliRunner().invoke(main, ["bfcl", "compare", str(tmp_path), str(tmp_path / "empty")])
    assert bad.exit_code != 0 and "not two bfcl eval directories" in bad.output

    # McNemar: only the discordant items count; 9 against 1 is p = 2 * 11/1024
    a = {str(i): i < 9 or i >= 15 for i in range(20)}  # 9 won, 5 shared passes, 0 lost
    b = {str(i): i == 9 or i >= 15 for i in range(20)}  # 1 won
    result = paired_difference(a, b)
    assert result == {"items": 20, "a_only": 9, "b_only": 1, "p_value": round(22 / 1024, 4)}
    assert describe(result).startswith("outside the noise")
    assert paired_difference(a, a)["p_value"] == 1.0 and describe(paired_difference(a, a)).startswith("inside")
    assert paired_difference(a, {"x": True}) is None
    # a summary pools its categories' entries only when every entry weighs the same
    cats = {"p": {"1": True, "2": False}, "q": {"1": False, "2": False}}
    assert pooled_items(cats, {"p": 0.5, "q": 0.5}) == {"p/1": True, "p/2": False, "q/1": False, "q/2": False}
    assert pooled_items(cats, {"p": 0.75, "q": 0.25}) is None and pooled_items(cats, {"p": 0.5, "r": 0.5}) is None

    # the probe: per-prompt hits, and the same hits re-scored from kept outputs
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    frame = pl.DataFrame(
        {
            "prompt": [json.dumps([{"role": "user", "content": "call f"}])] * 4,
            "tools": [json.dumps(tools)] * 4,
            "gold_calls": [
                json.dumps([{"name": "f", "arguments": {}}]),
                "[]",
                "[]",
                json.dumps([{"name": "f", "arguments": {}}]),
            ],
            "scenario_type": ["simple", "irrelevance", "irrelevance", "simple"],
        }
    )
    answers = ["[f()]", "None of these tools can do that.", None, "[g()]"]
    record = heldout_eval(_Scripted(answers), frame, {"format": 0.2, "name": 0.3, "arguments": 0.5}, max_new_tokens=8)
    assert record["hits"] == [True, True, False, False]  # the failed generation on irrelevance is wrong
    assert rescore_hits(record, frame) == record["hits"]
    with pytest.raises(ValueError, match="rescored"):
        rescore_hits(record, frame.with_columns(pl.lit("[]").alias("gold_calls")))
