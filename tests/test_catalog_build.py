import io
import json
import tarfile

import orjson
import polars as pl
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.quality import check_schemas, description_rate, duplicate_names
from inftool_dagster.cli import main


def fn(build, name):
    rows = build.functions.filter(pl.col("name") == name).to_dicts()
    assert rows, f"{name} not in {build.functions['name'].to_list()}"
    row = rows[0]
    row["parameters"] = json.loads(row["parameters"])
    row["param_locations"] = json.loads(row["param_locations"])
    return row


def test_every_sample_format_is_ingested(sample_build):
    formats = set(sample_build.functions["source_format"])
    assert formats == {"openapi-3.0", "openapi-3.1", "swagger-2.0", "function-docs", "mcp-tools"}
    assert sample_build.rejections.height == 0
    assert sample_build.specs == sample_build.specs_ok == 6
    assert len(set(sample_build.functions["domain"])) >= 5


def test_every_sample_schema_is_valid_2020_12(sample_build):
    for text in sample_build.functions["parameters"]:
        schema = json.loads(text)
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
    result = check_schemas(sample_build.functions)
    assert (result.checked, result.invalid) == (sample_build.functions.height, 0)
    assert duplicate_names(sample_build.functions) == []
    assert description_rate(sample_build.functions) == 1.0


def test_openapi_parameters_are_merged_with_locations(sample_build):
    row = fn(sample_build, "petstore_list_pets")
    props = row["parameters"]["properties"]
    assert set(props) == {"species", "status", "limit", "X-Request-Id"}
    assert props["status"]["enum"] == ["available", "pending", "sold"]  # $ref resolved
    assert props["limit"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
        "description": "Maximum number of pets to return.",
    }
    assert row["param_locations"]["X-Request-Id"] == {"in": "header", "name": "X-Request-Id"}
    assert (row["method"], row["path"], row["spec_id"]) == ("GET", "/pets", "petstore")
    response = json.loads(row["response_schema"])
    assert response["properties"]["next_cursor"]["type"] == ["string", "null"]


def test_path_level_parameters_and_body_merge(sample_build):
    get_pet = fn(sample_build, "petstore_get_pet")
    assert get_pet["parameters"]["required"] == ["petId"]
    create = fn(sample_build, "petstore_create_pet")
    assert create["parameters"]["required"] == ["name", "species"]
    assert create["param_locations"]["name"]["in"] == "body"
    assert any("circular reference" in n for n in create["notes"])
    order = fn(sample_build, "petstore_place_order")  # allOf body is kept whole under `body`
    assert "allOf" in order["parameters"]["properties"]["body"]
    assert order["parameters"]["required"] == ["body"]


def test_swagger2_body_formdata_and_headers(sample_build):
    forecast = fn(sample_build, "weather_get_forecast")
    assert set(forecast["parameters"]["properties"]) == {"city", "days", "units"}  # Authorization skipped
    assert forecast["parameters"]["properties"]["units"]["default"] == "metric"
    subscribe = fn(sample_build, "weather_subscribe_alerts")
    assert subscribe["parameters"]["required"] == ["email", "city"]
    upload = fn(sample_build, "weather_upload_station_data")
    assert upload["parameters"]["properties"]["readings"] == {"type": "string", "format": "binary"}
    assert upload["param_locations"]["readings"]["in"] == "formData"


def test_openapi31_refs_to_parameters_and_request_bodies(sample_build):
    create = fn(sample_build, "calendar_create_event")
    assert create["parameters"]["required"] == ["title", "start_time"]
    assert create["parameters"]["properties"]["location"]["anyOf"][1] == {"type": "null"}
    book = fn(sample_build, "calendar_post_rooms_by_room_book")  # no operationId: method + path
    assert book["parameters"]["properties"]["room"]["enum"] == ["Everest", "K2", "Denali"]
    assert "oneOf" in book["parameters"]["properties"]["body"]
    assert fn(sample_build, "calendar_get_event")["parameters"]["required"] == ["event_id"]


def test_function_docs_and_mcp_listings(sample_build):
    assert fn(sample_build, "convert_currency")["domain"] == "financial"
    scale = fn(sample_build, "recipes_scale")  # BFCL-style dotted name and "dict"/"float" types
    assert scale["operation_id"] == "recipes.scale"
    assert scale["parameters"]["properties"]["factor"]["type"] == "number"
    note = fn(sample_build, "create_note")
    assert note["source_format"] == "mcp-tools"
    assert json.loads(note["response_schema"])["required"] == ["note_id"]


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def test_bad_inputs_are_rejected_with_reasons_and_never_stop_the_batch(tmp_path, samples):
    good = (samples / "weather.json").read_bytes()
    _write(tmp_path / "ok.json", good)
    _write(tmp_path / "malformed.json", b'{"openapi": "3.0.0", "paths": {,,}}')
    _write(tmp_path / "truncated.json", good[: len(good) // 2])
    _write(tmp_path / "binary.json", bytes(range(256)) * 10)
    _write(tmp_path / "latin1.yaml", "title: caf\xe9".encode("latin-1"))
    _write(tmp_path / "enormous.json", b'{"openapi": "3.0.0", "paths": {}}' + b" " * 3_000_000)
    _write(tmp_path / "empty.yaml", b"")
    _write(tmp_path / "unknown.json", b'{"hello": "world"}')
    _write(tmp_path / "nopaths.yaml", b"openapi: 3.0.0\ninfo: {title: x}\npaths: {}\n")
    _write(tmp_path / "badyaml.yaml", b"openapi: 3.0.0\npaths: [unclosed\n")
    deep = (
        b'{"openapi": "3.0.0", "paths": {"/x": {"get": {"responses": {"200": {"description": "", "content": '
        b'{"application/json": {"schema": ' + b'{"type": "array", "items": ' * 3000 + b"{}" + b"}" * 3000 + b"}}}}}}}}"
    )
    _write(tmp_path / "deep.json", deep)
    build = build_catalog([tmp_path], workers=2, max_spec_bytes=2_000_000)
    codes = dict(zip(build.rejections["spec_id"], build.rejections["reason_code"]))
    assert codes == {
        "malformed": "malformed",
        "truncated": "truncated",
        "binary": "binary",
        "latin1": "binary",
        "enormous": "too_large",
        "empty": "empty",
        "unknown": "unknown_format",
        "nopaths": "no_operations",
        "badyaml": "malformed",
        "deep": codes.get("deep"),
    }
    assert codes["deep"] in {"too_deep", "schema_too_deep", "malformed"}
    assert set(build.functions["spec_id"]) == {"ok"}
    assert build.specs == 11 and build.specs_ok == 1
    assert all(build.rejections["reason"].str.len_chars() > 5)


def test_tgz_archives_and_bad_archives(tmp_path, samples):
    archive = tmp_path / "specs.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("petstore.yaml", "weather.json"):
            tar.add(samples / name, arcname=f"package/api/example.com/{name}")
        info = tarfile.TarInfo("package/api/broken.json")
        payload = b'{"openapi": nope}'
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    _write(tmp_path / "corrupt.tgz", b"\x1f\x8b" + b"garbage" * 100)
    build = build_catalog([archive, tmp_path / "corrupt.tgz"], workers=1)
    assert set(build.functions["spec_id"]) == {"example.com/petstore", "example.com/weather"}
    assert sorted(build.rejections["reason_code"].to_list()) == ["bad_archive", "malformed"]


def test_names_are_stable_unique_and_identifier_safe(tmp_path, samples):
    # The same spec under two providers collides by name; hashes of the stable key separate them.
    for provider in ("a.com", "b.com"):
        (tmp_path / provider).mkdir()
        (tmp_path / provider / "petstore.yaml").write_bytes((samples / "petstore.yaml").read_bytes())
    first = build_catalog([tmp_path], workers=1)
    second = build_catalog([tmp_path], workers=2)
    names = first.functions["name"].to_list()
    assert len(names) == len(set(names)) == 12
    assert all(n.isidentifier() and len(n) <= 64 for n in names)
    as_map = lambda b: dict(zip(b.functions["stable_key"], b.functions["name"]))
    assert as_map(first) == as_map(second)  # same inputs, same names, whatever the parallelism
    # Adding a third, unrelated spec does not rename existing functions.
    (tmp_path / "c.com").mkdir()
    (tmp_path / "c.com" / "weather.json").write_bytes((samples / "weather.json").read_bytes())
    third = as_map(build_catalog([tmp_path], workers=1))
    assert all(third[k] == v for k, v in as_map(first).items())
    assert duplicate_names(first.functions) == []


def test_long_operation_ids_are_truncated_with_hash(tmp_path):
    spec = {
        "openapi": "3.0.0",
        "info": {"title": "t"},
        "paths": {
            "/a": {"get": {"operationId": "x" * 100 + "A", "responses": {}}},
            "/b": {"get": {"operationId": "x" * 100 + "B", "responses": {}}},
        },
    }
    (tmp_path / "long.json").write_bytes(orjson.dumps(spec))
    names = build_catalog([tmp_path], workers=1).functions["name"].to_list()
    assert len(set(names)) == 2 and all(len(n) <= 64 for n in names)


def test_cli_catalog_build_prints_one_json_line(tmp_path, samples):
    result = CliRunner().invoke(
        main, ["catalog", "build", str(samples), "--out", str(tmp_path / "cat"), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(summary) == {"specs", "specs_ok", "functions", "rejected", "seconds"}
    assert summary["functions"] == pl.read_parquet(tmp_path / "cat" / "catalog.parquet").height
    assert pl.read_parquet(tmp_path / "cat" / "rejections.parquet").height == summary["rejected"] == 0
