"""Synthesis: scenario plan, User Simulator, the three-agent loop, trajectories, resumability."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import polars as pl
import pytest

from inftool_dagster.catalog import build_catalog
from inftool_dagster.llm.backend import LLMBackend
from inftool_dagster.llm.types import Generation
from inftool_dagster.mcp_server import CatalogServer
from inftool_dagster.mcp_server.simulator import validate_arguments
from inftool_dagster.synthesis import SCENARIO_TYPES, Planner, ScenarioMix, SynthConfig, load_trajectories, synthesize
from inftool_dagster.synthesis.user_simulator import UserSimulator, leaks_all

from .tiny_model import tiny_backend, tiny_model


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory, samples):
    out = tmp_path_factory.mktemp("catalog")
    build_catalog([samples], workers=1).write(out)
    return out


@pytest.fixture(scope="module")
def server(catalog_dir):
    return CatalogServer.from_catalog(catalog_dir)


def test_plan_covers_every_scenario_type_with_valid_gold(server):
    planner = Planner(list(server.tools.values()), seed=3)
    blueprints = planner.plan(0, 400)
    kinds = Counter(b.scenario_type for b in blueprints)
    assert set(kinds) == set(SCENARIO_TYPES)
    assert len(blueprints) + sum(planner.rejected.values()) == 400
    for b in blueprints:
        assert set(b.targets) <= set(b.tools)
        for call in b.gold_calls:
            if not any(isinstance(v, str) and v.startswith("$result") for v in call.arguments.values()):
                validate_arguments(server.tools[call.name], call.arguments)
        if b.scenario_type == "irrelevance":
            assert b.gold_calls == [] and b.notes["request_call"]["name"] not in b.tools
        if b.scenario_type in ("multiple", "parallel_multiple"):
            assert len(b.tools) > len(b.targets)  # distractors offered
        if b.scenario_type == "parallel":
            assert len(b.gold_calls) >= 2 and len({c.name for c in b.gold_calls}) == 1
        if b.scenario_type == "missing_parameter":
            assert b.missing_parameter in b.gold_calls[0].arguments
    again = Planner(list(server.tools.values()), seed=3).plan(0, 400)
    assert again == blueprints  # deterministic for (seed, index)


def test_mix_weights_steer_the_plan(server):
    only = ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"parallel": 1.0})
    kinds = {b.scenario_type for b in Planner(list(server.tools.values()), mix=only).plan(0, 40)}
    assert kinds == {"parallel"}
    weighted = Planner(
        list(server.tools.values()),
        tool_weights={"convert_currency": 1000.0},
        mix=ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"simple": 1.0}),
    ).plan(0, 40)
    assert Counter(b.targets[0] for b in weighted).most_common(1)[0][0] == "convert_currency"


def test_template_requests_carry_every_value_and_withhold_the_missing_one(server):
    blueprints = Planner(list(server.tools.values()), seed=5).plan(0, 200)
    user = UserSimulator({n: t.description for n, t in server.tools.items()}, realizer="grammar")
    requests = user.requests(blueprints)
    for b, (text, source) in zip(blueprints, requests):
        assert source == "template"
        if b.scenario_type == "irrelevance":
            continue
        calls = b.gold_calls[:1] if b.scenario_type in ("multi_turn", "multi_step") else b.gold_calls
        assert leaks_all(text, calls, b.missing_parameter) == [], (b.scenario_type, text)
    assert len({t for t, _ in requests}) > 0.9 * len(requests)  # varied


class Scripted(LLMBackend):
    """The User Simulator's model stand-in: returns what the test wants it to say."""

    def __init__(self, fn):
        self.fn = fn

    def generate(self, conversations, params, tools=None):
        return [[Generation(self.fn(c[-1]["content"]))] for c in conversations]


def test_llm_requests_that_drop_values_are_rejected_and_counted(server):
    blueprints = [b for b in Planner(list(server.tools.values()), seed=5).plan(0, 60) if b.scenario_type == "simple"][
        :6
    ]
    faithful = Scripted(lambda prompt: prompt.split("Request: ", 1)[1] + " Thanks a lot!")
    user = UserSimulator({n: t.description for n, t in server.tools.items()}, faithful)
    assert {s for _, s in user.requests(blueprints)} == {"llm"}
    lossy = UserSimulator({n: t.description for n, t in server.tools.items()}, Scripted(lambda p: "Do the thing."))
    out = lossy.requests(blueprints)
    with_values = sum(1 for b in blueprints if b.gold_calls[0].arguments)
    assert sum(1 for _, s in out if s == "template") >= with_values
    rejected = sum(v for k, v in lossy.stats.items() if k.startswith("llm_rejected_"))
    assert rejected >= with_values
    from inftool_dagster.synthesis.runner import leak_check

    assert leak_check(user.stats) == {"tried": 6, "kept": 6, "pass_rate": 1.0, "rejected": {}}
    checked = leak_check(lossy.stats)
    assert checked["tried"] == 6 and checked["kept"] == 6 - rejected and sum(checked["rejected"].values()) == rejected


class Oracle(LLMBackend):
    """A policy that answers with the blueprint's gold (to check the loop end to end)."""

    def __init__(self, blueprints):
        self.by_request = {}
        self.blueprints = blueprints

    def generate(self, conversations, params, tools=None):
        from inftool_dagster.llm.tool_calls import render_python

        out = []
        for conv in conversations:
            calls_made = sum(1 for m in conv if m["role"] == "assistant" and m.get("tool_calls"))
            gold = self.blueprints[conv[0]["content"]]
            pending = gold.gold_calls[
                calls_made : calls_made
                + (1 if gold.scenario_type in ("multi_turn", "multi_step") else len(gold.gold_calls))
            ]
            if gold.scenario_type == "missing_parameter" and len(conv) == 1:
                out.append([Generation("Which value should I use?")])
            elif pending and conv[-1]["role"] == "user":
                out.append([Generation(render_python(pending))])
            else:
                out.append([Generation("Done.")])
        return out


def test_conversation_loop_executes_calls_through_mcp(server, catalog_dir, tmp_path):
    from inftool_dagster.synthesis.conversation import run_conversations
    from inftool_dagster.synthesis.user_simulator import UserSimulator

    blueprints = [
        b
        for b in Planner(list(server.tools.values()), seed=9).plan(0, 80)
        if b.scenario_type in ("simple", "parallel", "missing_parameter", "multi_turn")
    ][:12]
    user = UserSimulator({n: t.description for n, t in server.tools.items()})
    requests = dict(zip([r for r, _ in user.requests(blueprints)], blueprints))
    from inftool_dagster.llm.types import SamplingParams

    convs, timings = run_conversations(
        blueprints, CatalogServer.from_catalog(catalog_dir), Oracle(requests), user, SamplingParams(max_new_tokens=8)
    )
    for conv in convs:
        flat = [c for step in conv.predicted_calls for c in step]
        assert [(c["name"], c["arguments"]) for c in flat] == [(c.name, c.arguments) for c in conv.blueprint.gold_calls]
        tool_msgs = [m for m in conv.messages if m["role"] == "tool"]
        assert len(tool_msgs) == len(flat) and conv.tool_errors == 0
        assert conv.done and conv.final_answer == "Done."
        if conv.blueprint.scenario_type == "missing_parameter":
            b = conv.blueprint
            value = b.gold_calls[0].arguments[b.missing_parameter]
            said = conv.messages[2]["content"]  # the user's answer carries the withheld value (or its words)
            assert conv.messages[2]["role"] == "user" and "sorry" in said.lower()
            assert isinstance(value, (bool, list, dict)) or str(value) in said or any(ch.isalpha() for ch in said)
    assert timings.model_s >= 0 and timings.total_s > 0


def test_synthesize_writes_shards_and_exports(catalog_dir, tmp_path):
    from inftool_dagster.synthesis import export_hf, export_jsonl

    backend = tiny_backend(batch_size=8)
    config = SynthConfig(n=10, seed=1, shard_size=4, max_new_tokens=8, policy_model="tiny")
    summary = synthesize(catalog_dir, tmp_path / "out", config, backend)
    frame = load_trajectories(tmp_path / "out")
    assert summary["produced"] == frame.height and frame.height + sum(summary["rejected"].values()) >= 10 - 0
    assert len(list((tmp_path / "out").glob("shard-*.parquet"))) == 3
    assert frame["trajectory_id"].n_unique() == frame.height
    row = frame.row(0, named=True)
    messages = json.loads(row["messages"])
    assert messages[0]["role"] == "user" and messages[1]["role"] == "assistant"
    assert row["policy_model"] == "tiny" and row["request_source"] == "template"
    assert summary["leak_check"] == {"tried": 0, "kept": 0, "pass_rate": None, "rejected": {}}  # no simulator model
    again = synthesize(catalog_dir, tmp_path / "out", config, backend)
    assert again["resumed_shards"] == 3 and again["produced"] == frame.height
    export_jsonl(frame, tmp_path / "t.jsonl")
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert len(lines) == frame.height and isinstance(json.loads(lines[0])["messages"], list)
    import datasets

    export_hf(frame, tmp_path / "hf")
    assert datasets.load_from_disk(str(tmp_path / "hf")).num_rows == frame.height


def test_synth_cli_killed_mid_run_resumes_without_loss_or_duplicates(catalog_dir, tmp_path):
    model, tokenizer = tiny_model()
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    out = tmp_path / "synth"
    # a shard of the tiny model takes ~30 ms: 200 of them leave the poll seconds to land mid-run
    n = 800
    cmd = [
        sys.executable,
        "-m",
        "inftool_dagster.cli",
        "synth",
        "--catalog",
        str(catalog_dir),
        "--n",
        str(n),
        "--out",
        str(out),
        "--model",
        str(tmp_path / "tiny"),
        "--shard-size",
        "4",
        "--max-new-tokens",
        "8",
        "--shards-per-wave",
        "1",
    ]  # one shard at a time: the kill lands between shards, not after a wave
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and len(list(out.glob("shard-*.parquet"))) < 2:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(out.glob("shard-*.parquet")))
    assert 2 <= done_before < n // 4, done_before
    first = {p.name: pl.read_parquet(p)["trajectory_id"].to_list() for p in out.glob("shard-*.parquet")}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["resumed_shards"] == done_before
    frame = load_trajectories(out)
    assert frame["trajectory_id"].n_unique() == frame.height == summary["produced"]
    for name, ids in first.items():  # complete shards were kept, untouched
        assert pl.read_parquet(out / name)["trajectory_id"].to_list() == ids
    assert frame.height + sum(summary["rejected"].values()) == n


def test_a_result_the_mcp_client_rejects_is_a_recorded_tool_error_not_a_lost_shard():
    """The official client validates structured results against the output schema and raises on a
    mismatch (a pattern the simulator cannot honour here); the conversation records a tool error
    and the shard goes on."""
    from inftool_dagster.llm.tool_calls import ToolCall
    from inftool_dagster.llm.types import SamplingParams
    from inftool_dagster.mcp_server.simulator import CatalogTool
    from inftool_dagster.synthesis.blueprints import Blueprint
    from inftool_dagster.synthesis.conversation import run_conversations

    strict = CatalogTool(
        "get_code",
        "Get the code.",
        {"type": "object", "properties": {}},
        # a Unicode property class: the simulator satisfies it (ECMA regex), the MCP client validates
        # structured results with Python's re, which cannot compile it, and rejects the result
        {"type": "object", "properties": {"code": {"type": "string", "pattern": "^\\p{L}{3}$"}}, "required": ["code"]},
    )
    ok = CatalogTool("get_time", "Get the time.", {"type": "object", "properties": {}}, None)
    server = CatalogServer([strict, ok])
    blueprints = [
        Blueprint(f"b{i}", "simple", [name], [name], [ToolCall(name, {})], "d")
        for i, name in enumerate(("get_code", "get_time"))
    ]
    user = UserSimulator({t.name: t.description for t in (strict, ok)})

    class CallOnce(LLMBackend):
        def generate(self, conversations, params, tools=None):
            return [
                [Generation("Done." if c[-1]["role"] == "tool" else f"[{tools[i][0]['function']['name']}()]")]
                for i, c in enumerate(conversations)
            ]

    convs, _ = run_conversations(blueprints, server, CallOnce(), user, SamplingParams(max_new_tokens=8))
    rejected, fine = convs
    assert rejected.tool_errors == 1 and "client rejected the result" in rejected.messages[2]["content"]
    assert fine.tool_errors == 0 and fine.messages[2]["role"] == "tool"


def test_request_metrics_flag_a_name_before_its_value_only():
    from inftool_dagster.synthesis.request_metrics import distinct_n, names_beside_values, request_metrics

    args = {"city": "Tokyo", "days": 11}
    assert names_beside_values("Get the forecast using city Tokyo and days 11.", args) == ["city", "days"]
    assert names_beside_values("What's the weather in Tokyo over the next 11 days?", args) == []
    assert names_beside_values("Use petId: 42 please", {"petId": 42}) == ["petId"]
    assert distinct_n(["a b a b"], 1) == 0.5 and distinct_n(["a b c"], 2) == 1.0
    rows = [
        {"request": "list pets using limit 5", "calls": [{"name": "x", "arguments": {"limit": 5}}]},
        {"request": "show me five pets", "calls": [{"name": "x", "arguments": {}}]},
    ]
    figures = request_metrics(rows)
    assert figures["requests_with_arguments"] == 1 and figures["param_name_rate"] == 1.0


def test_natural_requests_state_every_value_in_context(server):
    from inftool_dagster.synthesis.request_metrics import names_beside_values

    blueprints = Planner(list(server.tools.values()), seed=5).plan(0, 300)
    grammar = UserSimulator({n: t.description for n, t in server.tools.items()}, realizer="grammar")
    natural = UserSimulator({n: t.description for n, t in server.tools.items()}, realizer="natural")
    beside = {"grammar": 0, "natural": 0}
    with_args = 0
    for b, (old, _), (new, source) in zip(blueprints, grammar.requests(blueprints), natural.requests(blueprints)):
        assert source == "template"
        call_args = (
            [b.notes["request_call"]["arguments"]]
            if b.scenario_type == "irrelevance"
            else [
                c.arguments
                for c in (b.gold_calls[:1] if b.scenario_type in ("multi_turn", "multi_step") else b.gold_calls)
            ]
        )
        call_args = [{k: v for k, v in a.items() if k != b.missing_parameter} for a in call_args]
        # every value the calls need is in the request, literally or as phrased (a date in words)
        surfaces = natural.surfaces[b.blueprint_id]
        assert all(s.lower() in new.lower() for s in surfaces), (new, surfaces)
        if b.missing_parameter:
            withheld = b.gold_calls[0].arguments[b.missing_parameter]
            assert str(withheld) not in new or str(withheld) in str(call_args), new
        if any(call_args):
            with_args += 1
            beside["grammar"] += any(names_beside_values(old, a) for a in call_args)
            beside["natural"] += any(names_beside_values(new, a) for a in call_args)
    assert beside["grammar"] > 0.9 * with_args  # the grammar names nearly every parameter beside its value
    assert beside["natural"] < 0.15 * with_args, beside
    assert len(set(natural.templates.values())) > 10  # many phrasing families, not six asks


def test_natural_realizer_phrases_values_by_kind():
    import random

    from inftool_dagster.llm.tool_calls import ToolCall
    from inftool_dagster.synthesis.realizer import NaturalRealizer

    realizer = NaturalRealizer({"book": "Book a table at a restaurant."})
    call = ToolCall(
        "book",
        {
            "city": "Lisbon",
            "date": "2026-03-03",
            "page": 2,
            "include_terrace": True,
            "tags": ["quiet", "vegan"],
            "restaurantId": "r_991",
        },
    )
    done = realizer.realize([call], random.Random(1))
    text = done.text
    assert "March 3, 2026" in text and "2026-03-03" not in text  # a date in words
    assert "2nd page" in text and "including terrace" in text and "quiet and vegan" in text
    assert "Lisbon" in text and "r_991" in text
    assert "city Lisbon" not in text and "restaurant id" not in text.lower()
    assert set(done.surfaces) >= {"Lisbon", "March 3, 2026", "2nd", "quiet", "vegan", "r_991"}
    with pytest.raises(ValueError):
        UserSimulator({}, realizer="poetry")


def test_irrelevance_offers_near_misses_that_do_not_serve_the_request(server):
    from inftool_dagster.synthesis.blueprints import _singular

    tools = list(server.tools.values())
    only = ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"irrelevance": 1.0})
    planner = Planner(tools, seed=11, mix=only, near_miss_share=1.0)
    blueprints = planner.plan(0, 120)
    kinds = Counter()
    for b in blueprints:
        wanted = planner.tools[b.notes["request_call"]["name"]]
        assert wanted.name not in b.tools and set(b.notes["negatives"]) == set(b.tools)
        for name, kind in b.notes["negatives"].items():
            kinds[kind] += 1
            other = planner.tools[name]
            if kind == "wrong_entity":  # same kind of action, another resource
                assert other.action == wanted.action and _singular(other.resource) != _singular(wanted.resource)
            elif kind == "missing_capability":  # same resource, another action
                assert _singular(other.resource) == _singular(wanted.resource) and other.action != wanted.action
            else:
                assert kind == "other_domain" and other.domain != wanted.domain
    assert kinds["wrong_entity"] + kinds["missing_capability"] > 0.3 * len(blueprints), kinds
    shares = planner.negative_shares(blueprints)["irrelevance"]
    assert shares["blueprints"] == len(blueprints)
    assert shares["wrong_entity"] == kinds["wrong_entity"] and shares["other_domain"] == kinds["other_domain"]
    assert 0.3 < shares["with_near_miss_share"] <= 1.0
    # without near misses every negative comes from another domain
    far = Planner(tools, seed=11, mix=only, near_miss_share=0.0).plan(0, 60)
    assert all(set(b.notes["negatives"].values()) == {"other_domain"} for b in far)


def test_hard_distractors_prefer_tools_sharing_parameter_names(server):
    tools = list(server.tools.values())
    only = ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"multiple": 1.0})
    planner = Planner(tools, seed=2, mix=only)
    figures = planner.negative_shares(planner.plan(0, 200))["distractors"]
    assert figures["same_domain"] + figures["same_cluster"] > 0
    # the planner's pick beats a random same-domain choice on parameter overlap
    import random

    from inftool_dagster.synthesis.blueprints import _jaccard, _param_names

    rng = random.Random(0)
    chosen, random_pick = [], []
    for name in planner.names:
        pool = [n for n in planner.by_domain[planner.tools[name].domain] if n != name]
        if len(pool) < 3:
            continue
        mine = _param_names(planner.tools[name])
        best = planner._closest(rng, pool, name, 1, {name})
        chosen.append(_jaccard(mine, _param_names(planner.tools[best[0]])))
        random_pick.append(_jaccard(mine, _param_names(planner.tools[rng.choice(pool)])))
    assert chosen and sum(chosen) > sum(random_pick)


def test_natural_requests_say_what_an_unknown_parameter_is_from_its_description():
    import random

    from inftool_dagster.llm.tool_calls import ToolCall
    from inftool_dagster.synthesis.realizer import NaturalRealizer
    from inftool_dagster.synthesis.request_metrics import names_beside_values

    parameters = {
        "search_web": {
            "type": "object",
            "properties": {
                "mkt": {"type": "string", "description": "The market where the results come from."},
                "cc": {"type": "string", "description": "Two-letter code; see the table below for values {…}"},
            },
        }
    }
    realizer = NaturalRealizer({"search_web": "Search the web."}, parameters)
    said = [
        realizer.realize([ToolCall("search_web", {"mkt": "en-GB", "cc": "gb"})], random.Random(i)).text
        for i in range(30)
    ]
    assert all("en-GB" in t and "gb" in t for t in said)
    assert sum("the market where the results come from" in t for t in said) > 20  # the description names it
    assert not any("the the" in t for t in said)
    assert any("cc" in t for t in said)  # a description that is no noun phrase: the name in words
    assert not any(names_beside_values(t, {"mkt": "en-GB"}) for t in said)


@pytest.mark.parametrize(
    ("rewrite", "problem"),
    [
        ("", "empty"),
        ("Rewrite this request to an assistant: list the pets", "prompt_echo"),
        ("Dear user, I'm here to assist you with listing pets.", "assistant_voice"),
        ("Sure! Here is how you list pets in the store.", "assistant_voice"),
        ("Pets!\nW: WOW\nC: FREE\nR: FREE\nP: PETS", "shape"),
        ("ok", "shape"),
        ("What a lovely morning for a long walk by the river today, friend.", "off_topic"),
        ("Could you show me the cats in the pet store, up to 20 of them?", None),
    ],
)
def test_llm_rewrites_that_are_not_a_users_request_are_rejected(rewrite, problem):
    from inftool_dagster.synthesis.user_simulator import _unwrap, rewrite_problem

    template = "Can you list the pets in the store matching “cat”, just the first 20?"
    assert rewrite_problem(_unwrap(rewrite), template) == problem
    assert _unwrap('Here\'s the request:\n\nRequest: "List cats, 20 max."') == "List cats, 20 max."


def test_merged_parallel_requests_ask_for_every_call_in_one_sentence(server):
    """``merged_share`` marks that share of parallel blueprints and changes nothing else in the
    plan; the User Simulator then asks for their calls in one sentence, every value said."""
    from inftool_dagster.synthesis.realizer import JOINERS

    tools = list(server.tools.values())
    only = ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"parallel": 1.0})
    plain = Planner(tools, seed=5, mix=only).plan(0, 60)
    marked = Planner(tools, seed=5, mix=only, merged_share=0.5).plan(0, 60)
    assert [(b.blueprint_id, b.tools, b.gold_calls) for b in plain] == [
        (b.blueprint_id, b.tools, b.gold_calls) for b in marked
    ]
    merged = [b for b in marked if b.notes.get("phrasing") == "merged"]
    assert 0.25 * len(marked) < len(merged) < 0.75 * len(marked)
    assert not any(b.notes.get("phrasing") for b in plain)
    user = UserSimulator.for_tools(tools)
    for blueprint, (text, _) in zip(merged, user.requests(merged)):
        assert not any(joiner in text for joiner in JOINERS[:8]), text  # no second sentence per call
        said = user.surfaces[blueprint.blueprint_id]  # each value as phrased ("April 23, 2026")
        assert len(said) >= sum(map(len, (c.arguments for c in blueprint.gold_calls))) - 1, (text, said)
        assert all(value.lower() in text.lower() for value in said), text


def test_factored_parallel_requests_list_the_values_of_the_one_argument_the_calls_differ_in(server):
    """``factored_share`` turns that share of parallel blueprints into calls of one tool that
    differ in one argument (BFCL's parallel shape), leaves the other blueprints as they were, and
    the User Simulator says the shared values once and lists the varying ones in one phrase."""
    tools = list(server.tools.values())
    only = ScenarioMix(**{k: 0.0 for k in SCENARIO_TYPES} | {"parallel": 1.0})
    plain = {b.blueprint_id: b for b in Planner(tools, seed=5, mix=only).plan(0, 80)}
    marked = Planner(tools, seed=5, mix=only, factored_share=0.5).plan(0, 80)
    factored = [b for b in marked if b.notes.get("phrasing") == "factored"]
    assert 0.2 * len(marked) < len(factored) < 0.7 * len(marked)
    for blueprint in marked:
        if blueprint not in factored and blueprint.blueprint_id in plain:
            assert blueprint.gold_calls == plain[blueprint.blueprint_id].gold_calls  # untouched
    user = UserSimulator.for_tools(tools)
    texts = dict(zip((b.blueprint_id for b in factored), (t for t, _ in user.requests(factored))))
    spliced = 0
    for blueprint in factored:
        varying, calls = blueprint.notes["varying"], blueprint.gold_calls
        assert len(calls) in (2, 3) and len({c.name for c in calls}) == 1
        shared = [{k: v for k, v in c.arguments.items() if k != varying} for c in calls]
        assert all(s == shared[0] for s in shared)
        values = [c.arguments[varying] for c in calls]
        assert len(set(map(str, values))) == len(values)
        text = texts[blueprint.blueprint_id]
        said = user.surfaces[blueprint.blueprint_id]  # each value as phrased ("May 30, 2026")
        assert all(value.lower() in text.lower() for value in said), text  # every value is said
        if user.templates[blueprint.blueprint_id].startswith("n-factored"):
            spliced += 1  # one phrase for the values, each shared value said once
            assert len(said) == len(set(said)) >= len(values), said  # no shared value said twice
            assert " and " in text, text
    assert spliced >= len(factored) // 2
