import pytest
from jsonschema import Draft202012Validator

from inftool_dagster.catalog.schema_convert import SchemaConverter


def convert(schema, document=None, **kw):
    conv = SchemaConverter(document if document is not None else {}, **kw)
    out = conv.convert(schema)
    Draft202012Validator.check_schema(out)
    return out, conv.notes


def test_openapi30_dialect_becomes_2020_12():
    out, _ = convert({"type": "number", "minimum": 0, "exclusiveMinimum": True, "nullable": True, "example": 3})
    assert out == {"type": ["number", "null"], "exclusiveMinimum": 0, "examples": [3]}


def test_swagger_quirks_are_repaired():
    out, _ = convert(
        {
            "type": "object",
            "properties": {"f": {"type": "file"}, "n": {"type": "string", "required": True}},
            "required": ["x", "x"],
            "x-vendor": 1,
        }
    )
    assert out["properties"]["f"] == {"type": "string", "format": "binary"}
    assert out["required"] == ["n", "x"]
    assert "x-vendor" not in out


def test_bfcl_type_aliases():
    out, _ = convert({"type": "dict", "properties": {"a": {"type": "float"}, "b": {"type": "tuple"}}})
    assert out == {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "array"}}}


def test_unknown_type_dropped_with_note():
    out, notes = convert({"type": "Thing", "description": "d"})
    assert out == {"description": "d"}
    assert any("unknown type" in n for n in notes)


def test_tuple_items_become_prefix_items_and_bad_counts_dropped():
    out, _ = convert(
        {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "minItems": -1, "maxItems": "3"}
    )
    assert out == {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "maxItems": 3}


def test_refs_inlined_and_cycles_cut_with_note():
    doc = {
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "properties": {"value": {"type": "integer"}, "child": {"$ref": "#/components/schemas/Node"}},
                },
            }
        }
    }
    out, notes = convert({"$ref": "#/components/schemas/Node"}, doc)
    assert out["properties"]["value"] == {"type": "integer"}
    assert "circular reference to Node cut" in out["properties"]["child"]["description"]
    assert any("circular reference to Node" in n for n in notes)


def test_deep_chain_cut_at_bounded_depth():
    schemas = {
        f"S{i}": {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/S{i + 1}"}}}
        for i in range(20)
    }
    out, notes = convert({"$ref": "#/components/schemas/S0"}, {"components": {"schemas": schemas}}, max_ref_depth=3)
    depth, node = 0, out
    while "properties" in node:
        node, depth = node["properties"]["next"], depth + 1
    assert depth == 3
    assert any("depth 3" in n for n in notes)


def test_unresolvable_and_external_refs_become_open_schemas():
    out, notes = convert({"type": "object", "properties": {"a": {"$ref": "#/nope"}, "b": {"$ref": "other.yaml#/X"}}})
    assert out["properties"]["a"]["description"].startswith("(unresolved")
    assert len([n for n in notes if "unresolvable" in n]) == 2


def test_node_budget_truncates_enormous_schemas():
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(500)}}
    out, notes = convert(wide, max_nodes=50)
    assert sum(1 for v in out["properties"].values() if "truncated" in v.get("description", "")) > 400
    assert any("truncated" in n for n in notes)


@pytest.mark.parametrize("keyword", ["allOf", "anyOf", "oneOf"])
def test_combinators_kept(keyword):
    out, _ = convert({keyword: [{"type": "string"}, {"type": "integer", "default": 2}]})
    assert out == {keyword: [{"type": "string"}, {"type": "integer", "default": 2}]}


def test_pointer_escapes_resolve():
    doc = {"paths": {"/a/{b}": {"x": {"type": "string"}}}}
    conv = SchemaConverter(doc)
    assert conv.resolve("#/paths/~1a~1%7Bb%7D/x") == {"type": "string"}


def test_a_cut_reference_keeps_its_targets_scalar_type():
    """A reference cut at the depth limit still says what it is: an ``Arn`` string stays a string
    (real specs: AWS Inspector's rulesPackageArns, whose cut used to claim ``object`` and made
    every conforming simulated result invalid); a target without a type stays open."""
    schemas = {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
        "B": {
            "type": "object",
            "properties": {
                "arns": {"type": "array", "items": {"$ref": "#/components/schemas/Arn"}},
                "any": {"$ref": "#/components/schemas/Free"},
            },
        },
        "Arn": {"type": "string", "pattern": "^arn:"},
        "Free": {"description": "anything"},
    }
    out, notes = convert({"$ref": "#/components/schemas/A"}, {"components": {"schemas": schemas}}, max_ref_depth=2)
    cut = out["properties"]["b"]["properties"]
    assert cut["arns"]["items"] == {"type": "string", "description": "(Arn: nesting depth limit)"}
    assert cut["any"] == {"description": "(Free: nesting depth limit)"}
    assert any("depth 2" in n for n in notes)
