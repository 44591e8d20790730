"""The exported compact chat template renders exactly what prompts.render_prompt renders."""

import collections
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inftool_dagster.llm.chat_template import compact_chat_template
from inftool_dagster.llm.prompts import prompt_mode_messages, render_prompt

from .tiny_model import real_tokenizer


@pytest.fixture(scope="module")
def tok():
    return real_tokenizer()


@pytest.fixture(scope="module")
def template(tok):
    return compact_chat_template(tok.chat_template)


def render(tok, template, messages, tools, generation=True):
    return tok.apply_chat_template(
        messages, tools=tools, add_generation_prompt=generation, tokenize=False, chat_template=template
    )


def check(tok, template, messages, tools):
    """Every prompt the model sees (each prefix before an assistant turn) and the whole chat."""
    for i, message in enumerate(messages):
        if message["role"] == "assistant":
            assert render(tok, template, messages[:i], tools) == render_prompt(tok, messages[:i], tools, "prompt")
    assert render(tok, template, messages, tools) == render_prompt(tok, messages, tools, "prompt")
    want = tok.apply_chat_template(prompt_mode_messages(messages, tools), tokenize=False)
    assert render(tok, template, messages, tools, generation=False) == want


def call(name, arguments):
    return {"id": "c", "type": "function", "function": {"name": name, "arguments": arguments}}


def fn(name, properties, required=(), description="Does things."):
    parameters = {"type": "object", "properties": properties, "required": list(required)}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


# --- gold replays over the sample catalog ----------------------------------------------
@pytest.fixture(scope="module")
def gold_rows(tmp_path_factory, sample_build):
    from inftool_dagster.mcp_server import CatalogServer
    from inftool_dagster.synthesis import Planner
    from inftool_dagster.synthesis.user_simulator import UserSimulator
    from inftool_dagster.training.views import gold_trajectory_rows

    out = tmp_path_factory.mktemp("catalog")
    sample_build.write(out)
    server = CatalogServer.from_catalog(out)
    rows = []
    for seed in (0, 3):
        blueprints = Planner(list(server.tools.values()), seed=seed).plan(0, 150)
        user = UserSimulator({n: t.description for n, t in server.tools.items()}, None, seed)
        rows += gold_trajectory_rows(blueprints, server, user)
    return rows


def test_gold_replays_render_like_render_prompt(tok, template, gold_rows):
    kinds = collections.Counter(row["scenario_type"] for row in gold_rows)
    expected = {"simple", "multiple", "parallel", "parallel_multiple", "irrelevance"}
    assert expected | {"multi_step", "multi_turn", "missing_parameter"} <= set(kinds), kinds
    for row in gold_rows:
        messages, tools = json.loads(row["messages"]), json.loads(row["tools"])
        check(tok, template, messages, tools)
    assert sum(len(json.loads(r["messages"])) for r in gold_rows) > 1000


def test_gold_replays_with_dict_arguments_and_a_system_message(tok, template, gold_rows):
    for row in gold_rows[::3]:
        messages, tools = json.loads(row["messages"]), json.loads(row["tools"])
        for message in messages:
            for c in message.get("tool_calls") or []:
                c["function"]["arguments"] = json.loads(c["function"]["arguments"])
        system = [{"role": "system", "content": "You are a careful assistant."}]
        check(tok, template, system + messages, tools)
        check(tok, template, messages, None)  # plain chat, no tools


# --- hand-made edge cases --------------------------------------------------------------
EDGE_TOOLS = [
    fn(
        "book_trip",
        {
            "city": {"type": "string", "description": " Destination city. ", "minLength": 1, "pattern": "^[A-Z]"},
            "mode": {
                "type": "string",
                "enum": ["train", "vélo", "Zürich→Genève", 3, 2.5, True, None],
                "default": "vélo",
            },
            "nights": {"type": ["integer", "null"], "minimum": 0, "maximum": 30, "default": None},
            "date": {"type": "string", "format": "date"},
            "ratio": {"type": "number", "default": 0.1},
            "flag": {"type": "boolean", "default": False},
            "travellers": {
                "type": "array",
                "description": "Who travels.",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "Full name."},
                        "age": {"type": "integer", "minimum": 0},
                        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                    },
                    "required": ["name"],
                },
            },
            "options": {
                "type": "object",
                "description": "",
                "properties": {
                    "seat": {"type": "dict", "properties": {"row": {"type": "integer", "description": "Row."}}},
                    "meal": {"type": "string", "default": "none"},
                },
                "required": ["seat"],
            },
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "blob": {"type": "object"},
            "anything": {},
            "odd": True,
            "listed": {"type": ["array"], "items": {"type": "integer"}},
            "empty_enum": {"type": "string", "enum": []},
        },
        required=["city", "travellers"],
        description="  Book a trip.\n",
    ),
    {"type": "function", "function": {"name": "no_params"}},
    {"name": "bare_doc", "description": "", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}},
    fn("ping", {}, description=""),
]

EDGE_ARGUMENTS = {
    "city": 'Zürich "old town" \\ tab\there\nnewline',
    "mode": "vélo",
    "nights": None,
    "ratio": 0.1,
    "big": 1e22,
    "small": 1e-7,
    "negzero": -0.0,
    "integer": 12345678901234567890,
    "flag": True,
    "off": False,
    "travellers": [{"name": "Zoë ☃ 😀", "age": 7, "tags": ["a"]}, {"name": "Ann", "extra": {"k": [1, 2.0, None]}}],
    "options": {"seat": {"row": 3}, 7: "int key", "nested": {"deeper": [[], {}]}},
    "control": "\x00\x1f\x7f\u2028",
    "nan": float("nan"),
    "inf": float("inf"),
    "ninf": float("-inf"),
}


def edge_conversation(arguments):
    return [
        {"role": "user", "content": "Book me a trip to Zürich ☃"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("book_trip", arguments), call("ping", {}), call("no_params", "")],
        },
        {"role": "tool", "tool_call_id": "c", "name": "book_trip", "content": '{"ok": true, "id": "é"}'},
        {"role": "tool", "tool_call_id": "c", "content": "no name given"},
        {"role": "tool", "name": "ping", "content": ""},
        {"role": "assistant", "content": "Booked."},
        {"role": "user", "content": "And again, in JSON text?"},
        {"role": "assistant", "content": "", "tool_calls": [call("book_trip", {"city": "Bern"})]},
        {"role": "tool", "name": "book_trip", "content": "done"},
        {"role": "assistant", "content": "Done twice."},
    ]


@pytest.mark.parametrize("system", [None, "Be brief.", ""])
@pytest.mark.parametrize("as_json", ["dict", "ascii", "unicode", "compact", "indented"])
def test_edge_cases(tok, template, system, as_json):
    arguments = EDGE_ARGUMENTS
    if as_json != "dict":
        arguments = {k: v for k, v in EDGE_ARGUMENTS.items() if k != "options"}  # JSON keys are strings
        dumps = {
            "ascii": lambda v: json.dumps(v),
            "unicode": lambda v: json.dumps(v, ensure_ascii=False),
            "compact": lambda v: json.dumps(v, separators=(",", ":")),
            "indented": lambda v: json.dumps(v, indent=2, ensure_ascii=False),
        }[as_json]
        arguments = dumps(arguments)
    messages = edge_conversation(arguments)
    if system is not None:
        messages = [{"role": "system", "content": system}] + messages
    check(tok, template, messages, EDGE_TOOLS)
    check(tok, template, messages, None)
    check(tok, template, messages, [])


def test_rendering_details(tok, template):
    """Spot checks of the text itself, beyond the equality with render_prompt."""
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "tool_calls": [call("book_trip", '{"city": "B\\u00e9rn", "n": 1.50, "x": [true, null]}')],
        },
    ]
    text = render(tok, template, messages, EDGE_TOOLS, generation=False)
    assert 'mode?: "train"|"vélo"|"Zürich→Genève"|3|2.5|true|null = "vélo"' in text
    assert "nights?: integer|null = null" in text
    assert 'travellers: array[dict{name: string, age?: integer, tags?: array["a"|"b"]}]' in text
    assert "  travellers.name: Full name.\n" in text and "  options.seat.row: Row.\n" in text
    assert '  city: Destination city. {"minLength": 1, "pattern": "^[A-Z]"}\n' in text
    assert '[book_trip(city="Bérn", n=1.5, x=[True, None])]' in text
    assert text.startswith("<|im_start|>system\nYou call functions.")


INVALID_OR_NOT_OBJECTS = [
    "",
    " ",
    "null",
    "[1, 2]",
    '"text"',
    "3",
    "{",
    "}",
    '{"a": }',
    '{"a": 1,}',
    '{"a" 1}',
    "{'a': 1}",
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .5}',
    '{"a": +1}',
    '{"a": -}',
    '{"a": 1e}',
    '{"a": --1}',
    '{"a": tru}',
    '{"a": trueish}',
    '{"a": "\x01"}',
    '{"a": "\\x41"}',
    '{"a": "\\u12"}',
    '{"a": "\\u12g4"}',
    '{"a": "unterminated}',
    '{"a": 1} trailing',
    '{"a": 1}{}',
    '{"a": [1,]}',
    '{"a": [,1]}',
    '{"a": [1 2]}',
    '{"a": {"b": 1]}',
    '{"a": [1}',
    "{,}",
    '{"a": 1, "b"}',
    "{1: 2}",
    "\ufeff{}",
    '{"a": 1}\n',
    ' \t\n{"a" :1 , "b":[ ] }\r\n',
    '{"a": NaN, "b": Infinity, "c": -Infinity, "d": -Infinityx}',
    '{"a": NaN, "b": Infinity, "c": -Infinity}',
    '{"a": -0, "b": 0e0, "c": 1E+2, "d": -1.25e-3, "e": 1e400, "f": 123456789012345678901234567890}',
    '{"a": "\\/\\b\\f\\n\\r\\t\\"\\\\", "b": "\\ud83d\\ude00 \\ud83d lone \\ude00 \\u0000 \\u001F \\u00e9\\u20AC"}',
    '{"k\\"ey": 1, "n": {"k\\u00e9y": "v", "": ""}}',
    "{}",
    " {} ",
]


@pytest.mark.parametrize("arguments", INVALID_OR_NOT_OBJECTS)
def test_json_string_arguments_follow_json_loads(tok, template, arguments):
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call("f", arguments)]}]
    check(tok, template, messages, [fn("f", {"a": {"type": "string"}})])


def test_non_string_arguments(tok, template):
    for arguments in (None, [1, 2], 3, True):
        messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call("f", arguments)]}]
        check(tok, template, messages, [fn("f", {})])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    arguments=st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=5),
    ensure_ascii=st.booleans(),
    compact=st.booleans(),
)
def test_random_arguments_as_dicts_and_json_text(tok, template, arguments, ensure_ascii, compact):
    text = json.dumps(arguments, ensure_ascii=ensure_ascii, separators=(",", ":") if compact else None)
    tools = [fn("f", {"a": {"type": "string"}})]
    for args in (arguments, text):
        messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call("f", args)]}]
        want = tok.apply_chat_template(prompt_mode_messages(messages, tools), tokenize=False)
        assert render(tok, template, messages, tools, generation=False) == want


# --- wrapping ----------------------------------------------------------------------------
GENERIC_BASES = [
    "{{ bos_token }}{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + "
    "message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + "
    "message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + "
    "message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n"
    "{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
    "  {% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}\n",
    "\n  {% for m in messages %}\n  [{{ m.role }}] {{ m.content }}\n  {% endfor %}\n  {% if add_generation_prompt %}\n"
    "  GO {% endif %}",
]


@pytest.mark.parametrize("base", GENERIC_BASES)
def test_other_base_templates_are_wrapped_unchanged(tok, base):
    wrapped = compact_chat_template(base)
    messages = edge_conversation(EDGE_ARGUMENTS)
    for tools in (EDGE_TOOLS, None):
        for generation in (True, False):
            want = tok.apply_chat_template(
                prompt_mode_messages(messages, tools),
                add_generation_prompt=generation,
                tokenize=False,
                chat_template=base,
            )
            assert render(tok, wrapped, messages, tools, generation) == want


def test_refuses_templates_with_their_own_tool_format(template):
    with pytest.raises(ValueError, match="renders tools itself"):
        compact_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}{% if tools %}{{ tools }}{% endif %}")
    with pytest.raises(ValueError, match="chat template"):
        compact_chat_template("")
    with pytest.raises(ValueError, match="chat template"):
        compact_chat_template(None)
    assert compact_chat_template(template) == template  # idempotent


def test_exported_tokenizer_directory_round_trips(tok, template, tmp_path):
    from transformers import AutoTokenizer

    tok.save_pretrained(tmp_path)
    exported = AutoTokenizer.from_pretrained(tmp_path)
    exported.chat_template = template
    exported.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert reloaded.chat_template == template
    messages = edge_conversation(json.dumps({"city": "Zürich", "n": 2}))
    for i in (1, 6, len(messages)):
        got = reloaded.apply_chat_template(messages[:i], tools=EDGE_TOOLS, add_generation_prompt=True, tokenize=False)
        assert got == render_prompt(tok, messages[:i], EDGE_TOOLS, "prompt")
