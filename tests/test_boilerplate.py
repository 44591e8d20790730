"""Boilerplate parameters are found by shape, and gold calls can leave them (and most options) out."""

from collections import Counter

from inftool_dagster.catalog.boilerplate import boilerplate_parameters
from inftool_dagster.mcp_server.simulator import CatalogTool
from inftool_dagster.synthesis import Planner

STANDARD = {"quotaUser": {"type": "string"}, "prettyPrint": {"type": "boolean"}}


def _tool(name, spec, own, required=(), extra=None, standard=True):
    props = {**(STANDARD if standard else {}), **(extra or {}), **{p: {"type": "string"} for p in own}}
    parameters = {"type": "object", "properties": props, "required": list(required)}
    return CatalogTool(name, f"Do {name}.", parameters, None, spec_id=spec, locations={p: "query" for p in props})


def _api(spec, n=6):
    return [
        _tool(f"{spec}_op{i}", spec, [f"thing{i}", "label", "color", "size", "shape"], required=[f"thing{i}"])
        for i in range(n)
    ]


def test_parameters_every_operation_takes_alike_are_boilerplate_and_nothing_else():
    tools = _api("api_a")
    tools[0] = _tool("api_a_op0", "api_a", ["thing0"], required=["thing0", "quotaUser"])  # required there
    tools[1] = _tool("api_a_op1", "api_a", ["thing1"], extra={"prettyPrint": {"type": "integer"}})  # other schema
    small = [_tool(f"small_op{i}", "small", ["x"]) for i in range(3)]  # too few operations to tell
    found = boilerplate_parameters(tools + small)
    # quotaUser: optional alike on 5 of 6 (required on op0); prettyPrint: alike on 5 of 6 (integer
    # on op1); label, color, size and shape: on 4 of 6 only
    assert found["api_a_op2"] == {"quotaUser", "prettyPrint"}
    assert found["api_a_op0"] == {"prettyPrint"}  # a required parameter is never boilerplate
    assert found["api_a_op1"] == {"quotaUser"}
    assert not any(name.startswith("small") for name in found)
    assert boilerplate_parameters(tools, share=0.9) == {}  # 5 of 6 is under nine tenths


def test_gold_calls_skip_boilerplate_and_keep_at_most_the_optional_cap():
    # one API whose operations share the standard parameters, another without any
    tools = _api("google", 8) + [
        _tool(f"solo_op{i}", f"solo{i}", ["a", "b", "c", "d", "e"], required=["a"], standard=False) for i in range(8)
    ]
    mix = {"simple": 1.0, "multiple": 1.0, "parallel": 1.0}
    mix = {k: mix.get(k, 0.0) for k in ("simple", "multiple", "parallel", "parallel_multiple", "irrelevance")}
    mix |= {"missing_parameter": 0.0, "multi_step": 0.0, "multi_turn": 0.0}

    def optional_args(planner):
        counts, said = [], Counter()
        for blueprint in planner.plan(0, 120):
            for call in blueprint.gold_calls:
                params = planner.tools[call.name].parameters
                extra = [p for p in call.arguments if p not in params.get("required", [])]
                counts.append(len(extra))
                said.update(extra)
        return counts, said

    from inftool_dagster.synthesis import ScenarioMix

    before, said_before = optional_args(Planner(tools, seed=2, mix=ScenarioMix(**mix)))
    after, said_after = optional_args(
        Planner(tools, seed=2, mix=ScenarioMix(**mix), max_optional_args=1, skip_boilerplate=True)
    )
    assert said_before["quotaUser"] > 0 and max(before) > 1  # as drawn: boilerplate asked for, many options
    assert said_after["quotaUser"] == said_after["prettyPrint"] == 0 and max(after) == 1
    assert said_after["b"] > 0  # the solo APIs' own options are still asked for
