"""The MCP Server agent, driven by the official MCP Python client (in-process, stdio, HTTP)."""

import json
import socket
import subprocess
import sys
import time

import anyio
import httpx
import pytest
from jsonschema import Draft202012Validator
from mcp import Client, StdioServerParameters

from inftool_dagster.catalog import build_catalog
from inftool_dagster.mcp_server import CatalogServer, CatalogTool, Simulator, ToolCallError
from inftool_dagster.mcp_server.simulator import MAX_ARGUMENT_BYTES
from inftool_dagster.mcp_server.state import SessionState


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory, samples):
    out = tmp_path_factory.mktemp("catalog")
    build_catalog([samples], workers=1).write(out)
    return out


@pytest.fixture()
def server(catalog_dir):
    return CatalogServer.from_catalog(catalog_dir, page_size=10)


def text(result):
    return result.content[0].text


def run(coro_fn, *args):
    return anyio.run(coro_fn, *args)


def test_list_tools_paginates_with_exact_schemas(server, sample_build):
    async def go():
        async with Client(server.server) as client:
            tools, cursor, pages = [], None, 0
            while True:
                page = await client.list_tools(cursor=cursor)
                tools += page.tools
                pages += 1
                cursor = page.next_cursor
                if not cursor:
                    return tools, pages

    tools, pages = run(go)
    assert pages == 3 and len(tools) == sample_build.functions.height == 25
    expected = {r["name"]: json.loads(r["parameters"]) for r in sample_build.functions.iter_rows(named=True)}
    assert {t.name: t.input_schema for t in tools} == expected


def test_invalid_calls_are_tool_errors_naming_parameter_and_rule(server):
    cases = {
        ("nope", json.dumps({})): "unknown tool 'nope'",
        (
            "petstore_list_pets",
            json.dumps({"limit": "ten"}),
        ): "parameter 'limit': 'ten' is not of type 'integer' (rule: type)",
        ("petstore_list_pets", json.dumps({"limit": 0})): "parameter 'limit'",
        ("petstore_list_pets", json.dumps({"colour": "red"})): "unknown parameter 'colour' (rule: additionalProperties",
        ("create_note", json.dumps({"title": "t"})): "parameter 'body': 'body' is a required property (rule: required)",
        ("petstore_list_pets", json.dumps({"species": "lizard"})): "(rule: enum)",
        (
            "create_note",
            json.dumps({"title": "t", "body": "x" * (MAX_ARGUMENT_BYTES + 10)}),
        ): "over the 262144-byte limit",
    }

    async def go():
        out = {}
        async with Client(server.server) as client:
            for (name, args), _ in cases.items():
                out[(name, args)] = await client.call_tool(name, json.loads(args))
            ok = await client.call_tool("petstore_list_pets", {"limit": 5})  # still serving
        return out, ok

    results, ok = run(go)
    for key, expected in cases.items():
        assert results[key].is_error, key
        assert expected in text(results[key]), (key, text(results[key]))
    assert not ok.is_error
    assert server.errors == len(cases)


def test_results_conform_deterministic_and_session_consistent(catalog_dir):
    async def go(seed):
        srv = CatalogServer.from_catalog(catalog_dir, seed=seed)
        async with Client(srv.server) as client:
            created = await client.call_tool("petstore_create_pet", {"name": "Rex", "species": "dog", "price": 12.5})
            pet = json.loads(text(created))
            read = await client.call_tool("petstore_get_pet", {"petId": pet["id"]})
            deleted = await client.call_tool("petstore_delete_pet", {"petId": pet["id"]})
            gone = await client.call_tool("petstore_get_pet", {"petId": pet["id"]})
            forecast = await client.call_tool("weather_get_forecast", {"city": "Berlin", "days": 2})
            return srv, pet, read, deleted, gone, forecast

    srv, pet, read, deleted, gone, forecast = run(go, 7)
    pet_schema = srv.tools["petstore_get_pet"].response_schema
    Draft202012Validator(pet_schema).validate(pet)
    assert (pet["name"], pet["species"], pet["price"]) == ("Rex", "dog", 12.5)  # arguments echoed
    assert json.loads(text(read)) == pet  # created id reads back
    assert not deleted.is_error and gone.is_error and "deleted" in text(gone)
    Draft202012Validator(srv.tools["weather_get_forecast"].response_schema).validate(json.loads(text(forecast)))
    assert json.loads(text(forecast)) == json.loads(text(run(go, 7)[5]))  # same seed, same result
    assert json.loads(text(forecast)) != json.loads(text(run(go, 8)[5]))  # other seed, other result


def test_sessions_are_isolated_by_meta_key(server):
    async def go():
        async with Client(server.server) as client:
            note = json.loads(
                text(
                    await client.call_tool(
                        "create_note", {"title": "t", "body": "b"}, meta={"inftool/session": "alice"}
                    )
                )
            )
            await client.call_tool("delete_note", {"note_id": note["note_id"]}, meta={"inftool/session": "alice"})
            alice = await client.call_tool("get_note", {"note_id": note["note_id"]}, meta={"inftool/session": "alice"})
            bob = await client.call_tool("get_note", {"note_id": note["note_id"]}, meta={"inftool/session": "bob"})
            return alice, bob

    alice, bob = run(go)
    assert alice.is_error and not bob.is_error


@pytest.mark.parametrize(
    "name",
    [
        "petstore_list_pets",
        "weather_get_forecast",
        "calendar_create_event",
        "calendar_search_events",
        "convert_currency",
        "create_note",
        "recipes_nutrition",
    ],
)
def test_every_response_conforms_over_many_argument_draws(catalog_dir, name):
    srv = CatalogServer.from_catalog(catalog_dir)
    tool = srv.tools[name]
    sim = Simulator(seed=3)
    import random

    for i in range(30):
        args = sim.generate(tool.parameters, random.Random(i))
        args = {k: v for k, v in args.items() if k in tool.parameters.get("properties", {})}
        try:
            result = srv.call(name, args, session_key=i)
        except ToolCallError as exc:  # generated args may break a pattern; the error must say so
            assert "rule:" in str(exc)
            continue
        if tool.response_validator is not None:
            assert tool.response_validator.is_valid(result), (name, args, result)


def test_session_state_semantics():
    state = SessionState()
    state.put("pets", "1", {"id": "1"})
    assert state.get("pets", "1") == {"id": "1"}
    assert state.delete("pets", "1") and not state.delete("pets", "1")
    assert state.was_deleted("pets", "1") and state.get("pets", "1") is None


def test_action_inference():
    make = lambda name, method=None, path=None: CatalogTool(name, "", {"type": "object"}, None, method, path)
    assert make("api_create", "POST", "/pets").action == "create"
    assert make("api_get", "GET", "/pets/{id}").action == "read"
    assert make("api_list", "GET", "/pets").action == "other"
    assert make("api_del", "DELETE", "/pets/{id}").action == "delete"
    assert make("create_note").action == "create" and make("get_note").action == "read"
    assert make("cancel_alerts").action == "delete" and make("get_note").resource == "note"


# --- real transports -----------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_cmd(catalog_dir, *extra):
    return [sys.executable, "-m", "inftool_dagster.cli", "mcp", "serve", "--catalog", str(catalog_dir), *extra]


def test_stdio_transport_with_official_client(catalog_dir):
    params = StdioServerParameters(command=sys.executable, args=_serve_cmd(catalog_dir)[1:])

    async def go():
        async with Client(params) as client:
            tools = await client.list_tools()
            good = await client.call_tool(
                "convert_currency", {"amount": 10, "from_currency": "USD", "to_currency": "EUR"}
            )
            bad = await client.call_tool(
                "convert_currency", {"amount": -1, "from_currency": "USD", "to_currency": "EUR"}
            )
            return tools, good, bad

    tools, good, bad = run(go)
    assert len(tools.tools) == 25
    assert not good.is_error and json.loads(text(good))["amount"] == 10
    assert bad.is_error and "parameter 'amount'" in text(bad) and "rule: minimum" in text(bad)


@pytest.fixture(scope="module")
def http_server(catalog_dir):
    port = _free_port()
    proc = subprocess.Popen(
        _serve_cmd(catalog_dir, "--transport", "http", "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(proc.stderr.read().decode()[-2000:])
    yield url, port, proc
    proc.terminate()
    proc.wait(10)


def _http_roundtrip(url):
    async def go():
        async with Client(url) as client:
            tools = await client.list_tools()
            res = await client.call_tool("get_stock_quote", {"symbol": "AAPL"})
            return len(tools.tools), res

    return run(go)


def test_streamable_http_transport_with_official_client(http_server):
    url, _, _ = http_server
    count, res = _http_roundtrip(url)
    assert count == 25 and not res.is_error and json.loads(text(res))["symbol"] == "AAPL"


def test_http_survives_malformed_jsonrpc_floods_oversize_and_disconnects(http_server):
    url, port, proc = http_server
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    with httpx.Client(timeout=10) as http:
        statuses = set()
        for body in [
            b"{not json",
            b"[]",
            b'{"jsonrpc": "2.0"}',
            b'{"jsonrpc": "2.0", "id": 1, "method": 42}',
            b"\x00\xff" * 50,
        ]:
            for _ in range(40):  # a flood of bad requests
                statuses.add(http.post(url, content=body, headers=headers).status_code)
        assert statuses and all(400 <= s < 500 for s in statuses), statuses
        big = http.post(
            url,
            content=b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "' + b"a" * (2 << 20) + b'"}}',
            headers=headers,
        )
        assert big.status_code == 413
    # Clients that vanish mid-request, and a slow client trickling its body.
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
            b'{"jsonrpc"'
        )
        s.close()
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    try:
        count, res = _http_roundtrip(url)  # served while the slow client still holds its connection
    finally:
        slow.close()
    assert count == 25 and not res.is_error
    assert proc.poll() is None


def test_llm_written_results_are_schema_checked_with_simulator_fallback(catalog_dir):
    from inftool_dagster.llm.backend import LLMBackend
    from inftool_dagster.llm.types import Generation
    from inftool_dagster.mcp_server.llm_results import LLMResultWriter

    class Scripted(LLMBackend):
        def __init__(self, texts):
            self.texts = list(texts)

        def generate(self, conversations, params, tools=None):
            return [[Generation(self.texts.pop(0))] for _ in conversations]

    good = 'Sure! {"note_id": "n-1", "title": "Groceries", "created_at": "2026-02-01T10:00:00Z"}'
    writer = LLMResultWriter(Scripted([good, "I am not JSON", '{"title": 5}']))
    srv = CatalogServer.from_catalog(catalog_dir, result_writer=writer)
    first = srv.call("create_note", {"title": "Groceries", "body": "milk"}, session_key="w")
    assert first == {"note_id": "n-1", "title": "Groceries", "created_at": "2026-02-01T10:00:00Z"}
    assert srv.call("get_note", {"note_id": "n-1"}, session_key="w")["title"] == "Groceries"  # stored, no LLM call
    for _ in range(2):  # garbage, then a result breaking the schema: the simulator answers instead
        result = srv.call("create_note", {"title": "t", "body": "b"}, session_key="w")
        assert srv.tools["create_note"].response_validator.is_valid(result)
    assert (writer.used, writer.fallbacks) == (1, 2)


def test_llm_results_with_a_real_tiny_model_fall_back_cleanly(catalog_dir):
    from inftool_dagster.mcp_server.llm_results import LLMResultWriter

    from .tiny_model import tiny_backend

    writer = LLMResultWriter(tiny_backend(), max_new_tokens=16)
    srv = CatalogServer.from_catalog(catalog_dir, result_writer=writer)
    result = srv.call("weather_get_forecast", {"city": "Berlin"})
    assert srv.tools["weather_get_forecast"].response_validator.is_valid(result)
    assert writer.used + writer.fallbacks == 1


def test_a_pattern_that_cannot_be_evaluated_is_a_tool_error_not_a_crash():
    """ECMA-262 classes such as ``\\p{L}`` validate (tests/test_mcp_conformance.py); a pattern that
    compiles in no engine is still refused with a tool error."""
    tool = CatalogTool(
        "t", "", {"type": "object", "properties": {"q": {"type": "string", "pattern": "^(\\p{L}+$"}}}, None
    )
    from inftool_dagster.mcp_server import validate_arguments

    with pytest.raises(ToolCallError, match="pattern that cannot be evaluated"):
        validate_arguments(tool, {"q": "abc"})


@pytest.mark.parametrize(
    "name,stem",
    [
        ("fieldId", "field_"),
        ("valid_id", "valid_"),
        ("dId", "d_"),
        ("id", "id_"),
        ("uuid", "uuid_"),
        ("bucketID", "bucket_"),
    ],
)
def test_id_values_keep_the_name_before_its_id_suffix(name, stem):
    """An id value starts with the parameter's name less its id suffix (not less every trailing
    'I', 'd', '_' or 'i' character)."""
    import random

    from inftool_dagster.mcp_server.plausible import plausible_string

    assert plausible_string(name, random.Random(0)).startswith(stem)
