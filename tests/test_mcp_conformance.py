"""Drawn arguments and results satisfy the JSON Schema keywords real specs use (issue 21, part 1)."""

import base64
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import uuid
from datetime import date, datetime

import pytest
import regex
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft4Validator

from inftool_dagster.mcp_server import CatalogTool, Simulator, ToolCallError, validate_arguments
from inftool_dagster.mcp_server.conformance import check_tools, judge
from inftool_dagster.mcp_server.ecma import schema_validator
from inftool_dagster.mcp_server.values import generate, unsatisfiable


def draws(schema, n=25, hint=""):
    """n values for schema, each from its own seed; every one must validate."""
    values = [Simulator(seed=1).generate(schema, random.Random(i), hint=hint) for i in range(n)]
    validator = schema_validator(schema)
    for value in values:
        assert validator.is_valid(value), (schema, value, [e.message for e in validator.iter_errors(value)])
    return values


@pytest.mark.parametrize(
    "pattern,probe",
    [
        (r"^[A-Z]{3}-\d{4}$", r"[A-Z]{3}-\d{4}"),
        (r"^\p{L}+$", r"\p{L}+"),
        (r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,20}$", r"[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,20}"),
        (r"^(?<year>\d{4})-(?:0[1-9]|1[0-2])$", r"\d{4}-(0[1-9]|1[0-2])"),
        (r"^[^/\s]+/[^/\s]+$", r"[^/\s]+/[^/\s]+"),
        (r"arn:aws:[a-z]+", r".*arn:aws:[a-z]+.*"),
    ],
)
def test_strings_follow_their_pattern(pattern, probe):
    for value in draws({"type": "string", "pattern": pattern}, hint="name"):
        assert regex.fullmatch(probe, value), (pattern, value)


def test_a_pattern_with_lengths_and_a_plausible_candidate_that_breaks_it():
    schema = {"type": "string", "pattern": "^[a-z0-9-]+$", "minLength": 12, "maxLength": 16}
    assert all(12 <= len(v) <= 16 for v in draws(schema, hint="city"))  # "Berlin" is too short and capitalized


def test_ecma_unicode_classes_validate_instead_of_raising():
    tool = CatalogTool(
        "t", "", {"type": "object", "properties": {"q": {"type": "string", "pattern": "^\\p{L}+$"}}}, None
    )
    validate_arguments(tool, {"q": "Zoë"})
    with pytest.raises(ToolCallError, match="rule: pattern"):
        validate_arguments(tool, {"q": "R2-D2"})
    broken = CatalogTool("b", "", {"type": "object", "properties": {"q": {"type": "string", "pattern": "(["}}}, None)
    with pytest.raises(ToolCallError, match="pattern"):
        validate_arguments(broken, {"q": "x"})
    assert "does not compile" in unsatisfiable(broken.parameters["properties"]["q"])


def test_a_pattern_that_runs_too_long_refuses_the_value_instead_of_hanging(monkeypatch):
    from inftool_dagster.mcp_server import ecma

    monkeypatch.setattr(ecma, "MATCH_SECONDS", 1e-6)  # stands in for catastrophic backtracking
    tool = CatalogTool(
        "t", "", {"type": "object", "properties": {"q": {"type": "string", "pattern": "^(\\w+\\s?)*$"}}}, None
    )
    with pytest.raises(ToolCallError, match="could not be matched in time.*rule: pattern"):
        validate_arguments(tool, {"q": "ab " * 5_000 + "!"})


@pytest.mark.parametrize(
    "fmt,parse",
    [
        ("uuid", uuid.UUID),
        ("email", lambda v: v.index("@") > 0),
        ("date-time", lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))),
        ("date", date.fromisoformat),
        ("time", lambda v: datetime.fromisoformat(f"2026-01-01T{v}".replace("Z", "+00:00"))),
        ("ipv4", ipaddress.IPv4Address),
        ("ipv6", ipaddress.IPv6Address),
        ("hostname", lambda v: "." in v and " " not in v),
        ("uri", lambda v: v.startswith("https://")),
        ("byte", lambda v: base64.b64decode(v, validate=True)),
        ("password", len),
    ],
)
def test_formats(fmt, parse):
    for value in draws({"type": "string", "format": fmt}, n=10, hint="value"):
        parse(value)  # raises on a malformed value


def test_integer_formats_bound_the_value():
    assert all(-(2**31) <= v < 2**31 for v in draws({"type": "integer", "format": "int32", "minimum": -(2**40)}))


def test_numeric_bounds_exclusive_and_multiple_of():
    assert set(draws({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25})) <= {
        0.25,
        0.5,
        0.75,
    }
    assert set(draws({"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 7})) == {14}
    assert all(v % 0.01 < 1e-9 or abs(v % 0.01 - 0.01) < 1e-9 for v in draws({"type": "number", "multipleOf": 0.01}))
    assert set(draws({"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6})) == {5}
    draft4 = {"type": "integer", "minimum": 5, "exclusiveMinimum": True, "maximum": 6, "exclusiveMaximum": False}
    values = {Simulator().generate(draft4, random.Random(i)) for i in range(20)}
    assert values == {6} and all(Draft4Validator(draft4).is_valid(v) for v in values)
    assert all(v < -1000 for v in draws({"type": "number", "maximum": -1000.5}))


def test_string_lengths():
    assert all(len(v) == 12 for v in draws({"type": "string", "minLength": 12, "maxLength": 12}, hint="title"))
    assert all(len(v) <= 3 for v in draws({"type": "string", "maxLength": 3}, hint="description"))


def test_arrays_unique_items_and_counts():
    schema = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 4},
        "minItems": 4,
        "uniqueItems": True,
    }
    assert all(sorted(v) == [1, 2, 3, 4] for v in draws(schema))
    assert all(len(v) == 2 for v in draws({"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}))
    colours = {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "minItems": 3, "uniqueItems": True}
    assert all(sorted(v) == ["blue", "green", "red"] for v in draws(colours))


def test_objects_min_max_properties_required_and_maps():
    leaf = {"type": "object", "properties": {"note": {"type": "string"}}, "minProperties": 1}
    nested = {
        "type": "object",
        "properties": {"a": {"type": "object", "properties": {"b": {"type": "object", "properties": {"c": leaf}}}}},
    }
    for value in draws(nested, hint="result"):
        assert value["a"]["b"]["c"]  # deep optional objects used to come back empty
    wide = {"type": "object", "properties": {k: {"type": "integer"} for k in "abcdef"}, "maxProperties": 2}
    assert all(len(v) <= 2 for v in draws(wide))
    closed = {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "required": ["id", "x-extra"],
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    assert all(isinstance(v["x-extra"], int) for v in draws(closed))
    tags = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 4}, "minProperties": 2}
    assert all(len(v) >= 2 for v in draws(tags, hint="tags"))
    keyed = {
        "type": "object",
        "patternProperties": {"^[a-z]{2}_[0-9]$": {"type": "boolean"}},
        "minProperties": 1,
        "additionalProperties": False,
    }
    draws(keyed)


def test_enum_and_const():
    assert set(draws({"type": "string", "enum": [1, "a", "b"]})) <= {"a", "b"}  # the integer breaks the type
    assert draws({"const": {"k": [1]}}) == [{"k": [1]}] * 25


def test_one_of_any_of_all_of():
    values = draws({"oneOf": [{"type": "string", "format": "email"}, {"type": "integer", "minimum": 3}]}, hint="x")
    assert all("@" in v for v in values)
    assert all(isinstance(v, float) for v in draws({"oneOf": [{"type": "number"}, {"type": "integer"}]}))
    merged = {
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "integer", "minimum": 10}}, "required": ["a"]},
            {"properties": {"a": {"maximum": 12}, "b": {"type": "string", "format": "uuid"}}, "required": ["b"]},
        ]
    }
    assert all(10 <= v["a"] <= 12 and uuid.UUID(v["b"]) for v in draws(merged))
    draws({"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{3}$"}}]})


def test_nullable_types():
    assert all(v is not None for v in draws({"type": ["string", "null"], "format": "date"}))
    openapi30 = {"type": "integer", "nullable": True, "minimum": 3, "maximum": 3}
    assert {Simulator().generate(openapi30, random.Random(i)) for i in range(5)} == {3}


def test_examples_defaults_and_name_heuristics_come_first_when_valid():
    assert set(draws({"type": "string", "examples": ["Paris"]})) == {"Paris"}
    assert "abc" not in draws({"type": "string", "pattern": "^[0-9]+$", "examples": ["abc"]})
    assert all(re.fullmatch(r"[\w.]+@example\.(com|org|net)", v) for v in draws({"type": "string"}, hint="email"))
    cities = draws({"type": "string"}, hint="city")
    assert all(re.fullmatch(r"[A-Z][a-z]+( [A-Z]?[a-z]+)*", v) for v in cities), cities  # "Lake Susan", not "cedar-4"
    assert len(set(cities)) > 0.8 * len(cities)  # many cities, not a list of eight


def test_plausible_strings_follow_the_parameter_name_and_are_deterministic():
    from inftool_dagster.mcp_server.plausible import plausible_string

    def some(name, n=30):
        rng = random.Random(7)
        return [plausible_string(name, rng) for _ in range(n)]

    assert some("firstName") == some("firstName")  # same rng, same values
    assert all(" " not in v and v[:1].isupper() for v in some("firstName"))
    assert all(" " in v for v in some("customer_name"))  # a person's full name
    assert all(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v) for v in some("ipAddress"))  # not a street address
    assert all(re.fullmatch(r"[A-Z]{3}", v) for v in some("currency"))
    assert all(re.fullmatch(r"[a-z]+\.[a-z0-9]+", v) for v in some("fileName"))
    assert len(set(some("resource_group_name", 60))) > 40  # a thing's name: varied, never a person


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 5, "maxLength": 3},
        {"type": "integer", "enum": ["a", "b"]},
        {"type": "number", "minimum": 10, "maximum": 1},
        {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 2},
        {"type": "array", "minItems": 3, "maxItems": 1},
        {"type": "array", "items": {"type": "boolean"}, "minItems": 3, "uniqueItems": True},
        {"type": "object", "properties": {"a": {}}, "required": ["b"], "additionalProperties": False},
        {"type": "object", "properties": {"a": {"type": "string", "minLength": 9, "maxLength": 1}}, "required": ["a"]},
        {"type": "string", "const": 5},
    ],
)
def test_contradictions_are_reported_unsatisfiable(schema):
    assert unsatisfiable(schema)
    tool = CatalogTool("contradiction", "", {"type": "object", "properties": {"p": schema}, "required": ["p"]}, schema)
    report = check_tools([tool]).as_dict()
    assert (report["args_valid_rate"], report["results_valid_rate"]) == (0.0, 0.0)
    assert report["unsatisfiable"] == {"args": 1, "results": 1}
    assert report["failures_by_keyword"] == {"args": {}, "results": {}}


def test_satisfiable_schemas_are_not_reported():
    for schema in [
        {"type": ["string", "null"], "minLength": 5, "maxLength": 3},  # null satisfies it
        {"type": "object", "properties": {"a": {"type": "string", "minLength": 9, "maxLength": 1}}},  # optional
        {"type": "integer", "minimum": 0.5, "maximum": 1.5},
    ]:
        assert unsatisfiable(schema) is None, schema
        draws(schema)


def test_judge_names_the_broken_keyword():
    assert judge({"type": "string", "pattern": "^a"}, "b").keyword == "pattern"
    assert judge({"type": "object", "properties": {}}, {"x": 1}, arguments=True).keyword == "additionalProperties"
    assert judge({"type": "object", "minProperties": 1}, {}).keyword == "minProperties"


_SCHEMAS = st.recursive(
    st.one_of(
        st.builds(
            lambda lo, extra, pattern: {"type": "string", "minLength": lo, "maxLength": lo + extra, **pattern},
            st.integers(0, 6),
            st.integers(1, 10),
            st.sampled_from([{}, {"pattern": "^[a-f0-9]+$"}, {"pattern": "^\\p{Lu}[a-z]*$"}]),
        ),
        st.sampled_from([{"type": "string", "format": f} for f in ("uuid", "email", "date-time", "ipv4", "ipv6")]),
        st.builds(
            lambda kind, lo, width, multiple, low: {"type": kind, low: lo, "exclusiveMaximum": lo + width, **multiple},
            st.sampled_from(["number", "integer"]),
            st.integers(-50, 50),
            st.integers(1, 40),
            st.sampled_from([{}, {"multipleOf": 0.1}, {"multipleOf": 3}, {"multipleOf": 0.25}]),
            st.sampled_from(["minimum", "exclusiveMinimum"]),
        ),
        st.builds(
            lambda values: {"enum": values}, st.lists(st.integers(0, 9) | st.text(max_size=3), min_size=1, max_size=4)
        ),
    ),
    lambda inner: st.one_of(
        st.builds(
            lambda item, lo, unique: {  # uniqueItems over scalars: containers with one possible value are out of scope
                "type": "array",
                "items": item,
                "minItems": lo,
                "uniqueItems": unique and item.get("type") not in ("array", "object"),
            },
            inner,
            st.integers(0, 3),
            st.booleans(),
        ),
        st.builds(
            lambda props, lo: {
                "type": "object",
                "properties": props,
                "required": sorted(props)[:1],
                "minProperties": lo,
            },
            st.dictionaries(st.sampled_from(["id", "name", "count", "tags"]), inner, max_size=3),
            st.integers(0, 2),
        ),
        st.builds(lambda a, b: {"oneOf": [a, b]}, inner, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(schema=_SCHEMAS, seed=st.integers(0, 2**16))
def test_property_every_draw_validates_unless_the_schema_contradicts_itself(schema, seed):
    value = generate(schema, random.Random(seed), hint="value")
    if not schema_validator(schema).is_valid(value):
        assert unsatisfiable(schema) or "oneOf" in json.dumps(schema), (schema, value)


def test_draws_do_not_depend_on_hash_order():
    code = (
        "import random; from inftool_dagster.mcp_server.values import generate;"
        "schema = {'type': 'string', 'pattern': '^[^a-z]{4}\\\\W[.]\\\\S$'};"
        "print([generate(schema, random.Random(i)) for i in range(9)])"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": s},
        ).stdout
        for s in ("1", "2")
    }
    assert len(outs) == 1


def test_cli_check_prints_one_json_line(tmp_path, sample_build):
    from inftool_dagster.cli import main

    sample_build.write(tmp_path / "catalog")
    result = CliRunner().invoke(main, ["mcp", "check", "--catalog", str(tmp_path / "catalog"), "--sample", "10"])
    assert result.exit_code == 0, result.output
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert {
        "tools",
        "args_valid_rate",
        "results_valid_rate",
        "unsatisfiable",
        "failures_by_keyword",
        "examples",
        "seconds",
    } <= set(line)
    assert line["tools"] == 10 and line["args_valid_rate"] == 1.0 and line["results_valid_rate"] == 1.0
    assert set(line["failures_by_keyword"]) == {"args", "results"}
