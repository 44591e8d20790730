"""Tools written as Python functions: schemas from type hints, descriptions from docstrings,
the import rule and every rejection; the bundled sample module through build, CLI and MCP check."""

import json
import random
import sys
import textwrap
import typing

import orjson
import pydantic
import pytest
from click.testing import CliRunner

from inftool_dagster.catalog import build_catalog
from inftool_dagster.catalog.python_tools import extract_python_tools, fingerprint, locate
from inftool_dagster.catalog.quality import check_schemas
from inftool_dagster.catalog.sources import SAMPLE_PYTHON_TOOLS, SAMPLE_SPECS
from inftool_dagster.cli import main
from inftool_dagster.mcp_server.conformance import check_tools, judge
from inftool_dagster.mcp_server.simulator import Simulator, load_tools

SAMPLE = "py:inftool_dagster.sample_tools.everyday"


def write(directory, name: str, source: str):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def extract(path):
    spec_id, tools, rejections = extract_python_tools(str(path))
    return {t.name: t for t in tools}, rejections


def params(tool) -> dict:
    return json.loads(tool.parameters)


# -- schemas from annotations -------------------------------------------------------------
KINDS = '''
import enum
from typing import Annotated, Literal, Optional, TypedDict

from pydantic import BaseModel, Field


class Color(enum.Enum):
    """A paint colour."""

    RED = "red"
    BLUE = "blue"


class Point(TypedDict):  # typing's TypedDict: pydantic needs typing_extensions' before 3.12, rebuilt for it
    """A point on a plane."""

    x: float
    y: float


class Corner(BaseModel):
    """A corner."""

    x: float
    y: float


class Box(BaseModel):
    """A box."""

    width: int = Field(ge=1)
    corner: Corner


def everything(
    a: int,
    b: float,
    c: bool,
    d: str,
    e: list[int],
    f: dict[str, float],
    g: tuple[int, str],
    h: tuple[float, ...],
    i: Optional[int],
    j: int | None,
    k: Literal["x", "y"],
    m: Color,
    n: Point,
    o: Box,
    p: Annotated[int, Field(ge=1, le=9, description="How many.")],
) -> Point:
    """Take one argument of every kind."""
    return {"x": 0.0, "y": 0.0}
'''

EXPECTED = {
    "a": {"type": "integer"},
    "b": {"type": "number"},
    "c": {"type": "boolean"},
    "d": {"type": "string"},
    "e": {"type": "array", "items": {"type": "integer"}},
    "f": {"type": "object", "additionalProperties": {"type": "number"}},
    "g": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2, "maxItems": 2},
    "h": {"type": "array", "items": {"type": "number"}},
    "i": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "j": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    "k": {"type": "string", "enum": ["x", "y"]},
    "m": {"type": "string", "enum": ["red", "blue"], "description": "A paint colour."},
    "n": {
        "type": "object",
        "description": "A point on a plane.",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
    },
    "o": {
        "type": "object",
        "description": "A box.",
        "properties": {
            "width": {"type": "integer", "minimum": 1},
            "corner": {
                "type": "object",
                "description": "A corner.",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
            },
        },
        "required": ["width", "corner"],
    },
    "p": {"type": "integer", "minimum": 1, "maximum": 9, "description": "How many."},
}


@pytest.fixture(scope="module")
def kinds(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("kinds"), "kinds.py", KINDS)
    tools, rejections = extract(path)
    assert rejections == []
    return tools["everything"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_annotation_kind_has_its_schema(kinds, name):
    schema = params(kinds)
    assert schema["properties"][name] == EXPECTED[name]
    assert name in schema["required"]  # no defaults here: every parameter is required


def test_schema_is_self_contained_without_titles_and_passes_the_meta_schema(kinds):
    text = kinds.parameters
    assert "$ref" not in text and "$defs" not in text and '"title"' not in text
    assert json.loads(kinds.response_schema)["properties"] == {"x": {"type": "number"}, "y": {"type": "number"}}
    assert kinds.source_format == "python" and kinds.spec_id == "python/kinds" and kinds.domain == "kinds"
    assert json.loads(kinds.param_locations)["a"] == {"in": "body", "name": "a"}
    assert kinds.stable_key == "python/kinds\x1feverything"


def test_string_annotations_resolve(tmp_path):
    path = write(
        tmp_path,
        "future.py",
        '''
        from __future__ import annotations

        from typing import TypedDict


        class Item(TypedDict):
            name: str
            qty: int


        def order(items: list[Item], note: str | None = None) -> dict[str, int]:
            """Place an order."""
            return {i["name"]: i["qty"] for i in items}
        ''',
    )
    tools, rejections = extract(path)
    assert rejections == []
    schema = params(tools["order"])
    assert schema["properties"]["items"]["items"]["properties"] == {
        "name": {"type": "string"},
        "qty": {"type": "integer"},
    }
    assert schema["required"] == ["items"]
    assert json.loads(tools["order"].response_schema) == {"type": "object", "additionalProperties": {"type": "integer"}}


# -- descriptions from docstrings ---------------------------------------------------------
DOCSTRINGS = {
    "google": '''
        """Convert an amount of money.

        Uses the day's mid-market rate.

        Args:
            amount: How much to convert.
            currency: ISO 4217 code to convert to.
        """''',
    "numpy": '''
        """Convert an amount of money.

        Uses the day's mid-market rate.

        Parameters
        ----------
        amount : float
            How much to convert.
        currency : str
            ISO 4217 code to convert to.
        """''',
    "rest": '''
        """Convert an amount of money.

        Uses the day's mid-market rate.

        :param amount: How much to convert.
        :param currency: ISO 4217 code to convert to.
        """''',
}


@pytest.mark.parametrize("style", sorted(DOCSTRINGS))
def test_docstring_styles_give_descriptions(tmp_path, style):
    body = textwrap.indent(textwrap.dedent(DOCSTRINGS[style]).strip(), "    ")
    source = f"def convert(amount: float, currency: str) -> float:\n{body}\n    return amount\n"
    tools, _ = extract(write(tmp_path, f"{style}_doc.py", source))
    tool = tools["convert"]
    assert tool.description == "Convert an amount of money. Uses the day's mid-market rate."
    props = params(tool)["properties"]
    assert props["amount"]["description"] == "How much to convert."
    assert props["currency"]["description"] == "ISO 4217 code to convert to."


def test_field_description_outranks_the_docstring_which_outranks_a_types_docstring(tmp_path):
    path = write(
        tmp_path,
        "ranks.py",
        '''
        import enum
        from typing import Annotated

        from pydantic import Field


        class Unit(enum.Enum):
            """Units of length."""

            M = "m"
            FT = "ft"


        def measure(length: Annotated[float, Field(description="From Field.")], unit: Unit) -> float:
            """Measure.

            Args:
                length: From the docstring.
                unit: The unit of the length.
            """
            return length
        ''',
    )
    props = params(extract(path)[0]["measure"])["properties"]
    assert props["length"]["description"] == "From Field."
    assert props["unit"]["description"] == "The unit of the length."


def test_defaults_make_parameters_optional(tmp_path):
    path = write(
        tmp_path,
        "defaults.py",
        '''
        import enum
        from typing import Literal


        class Mode(enum.Enum):
            FAST = "fast"
            SAFE = "safe"


        def run(task: str, retries: int = 3, *, mode: Mode = Mode.SAFE, tags: tuple[str, ...] = ("a",),
                level: Literal[1, 2] = 2, when: object = object()) -> None:
            """Run a task."""
        ''',
    )
    tool = extract(path)[0]["run"]
    schema = params(tool)
    assert schema["required"] == ["task"]  # keyword-only parameters are fine
    props = schema["properties"]
    assert props["retries"] == {"type": "integer", "default": 3}
    assert props["mode"]["default"] == "safe" and props["tags"]["default"] == ["a"] and props["level"]["default"] == 2
    assert "default" not in props["when"]  # not JSON-serialisable: optional, no default, a note
    assert any("not JSON-serialisable" in n for n in tool.notes)
    assert tool.response_schema is None  # -> None


# -- rejections -------------------------------------------------------------------------
def test_bad_functions_are_rejected_with_a_reason_and_good_ones_kept(tmp_path):
    path = write(
        tmp_path,
        "mixed.py",
        '''
        from math import sqrt  # imported functions are not this module's tools
        from typing import Callable


        def good(x: int) -> int:
            """Fine."""
            return x


        def unannotated(x, y: int, z):
            """No hints on x and z."""


        def star(*values: int) -> int:
            """Variadic."""
            return 0


        def kwargs(**options: str) -> None:
            """Keyword variadic."""


        def undocumented(x: int) -> int:
            return x


        def callback(fn: Callable[[int], int]) -> int:
            """A callable has no JSON Schema."""
            return 0


        def _private(x: int) -> int:
            """Not public."""
            return x
        ''',
    )
    tools, rejections = extract(path)
    assert sorted(tools) == ["good"]
    by_function = {r.operation: r for r in rejections}
    assert {k: r.reason_code for k, r in by_function.items()} == {
        "unannotated": "missing_annotations",
        "star": "var_args",
        "kwargs": "var_args",
        "undocumented": "no_docstring",
        "callback": "unsupported_type",
    }
    assert all(r.kind == "operation" and r.spec_id == "python/mixed" for r in rejections)
    assert "x, z" in by_function["unannotated"].reason
    assert "*values" in by_function["star"].reason and "**options" in by_function["kwargs"].reason
    assert "fn" in by_function["callback"].reason and "Callable" in by_function["callback"].reason


@pytest.mark.parametrize(
    "source, needle",
    [
        ("def f(x: int) -> int:\n    return x +\n", "SyntaxError"),
        ('VALUE = 1 / 0\n\ndef f(x: int) -> int:\n    """F."""\n    return x\n', "ZeroDivisionError"),
        ('import no_such_module_anywhere\n\ndef f(x: int) -> int:\n    """F."""\n    return x\n', "ModuleNotFound"),
    ],
    ids=["syntax_error", "raises_at_import", "missing_import"],
)
def test_unimportable_modules_are_rejected_not_raised(tmp_path, source, needle):
    path = write(tmp_path, "broken.py", source)
    good = write(tmp_path, "fine.py", 'def ok(x: int) -> int:\n    """Ok."""\n    return x\n')
    build = build_catalog([str(path), str(good)], workers=1)
    assert build.functions["name"].to_list() == ["ok"]  # the batch survives
    (row,) = build.rejections.to_dicts()
    assert row["reason_code"] == "unimportable" and row["kind"] == "spec" and needle in row["reason"]


SIDE_EFFECTS = {
    "expression statement": "open(MARKER, 'w').write('ran')",
    "for loop": "for _ in range(1):\n    open(MARKER, 'w').write('ran')",
    "while loop": "while not pathlib.Path(MARKER).exists():\n    open(MARKER, 'w').write('ran')",
    "with block": "with open(MARKER, 'w') as fh:\n    fh.write('ran')",
    "try block": "try:\n    open(MARKER, 'w').write('ran')\nexcept OSError:\n    pass",
    "del statement": "del MARKER",
    "if block": "if True:\n    open(MARKER, 'w').write('ran')",
}


@pytest.mark.parametrize("kind", sorted(SIDE_EFFECTS))
def test_side_effects_at_import_are_rejected_and_never_run(tmp_path, kind):
    marker = tmp_path / "marker.txt"
    source = (
        f'"""A module that acts when imported."""\nimport pathlib\n\nMARKER = {str(marker)!r}\n'
        f"{SIDE_EFFECTS[kind]}\n\n\ndef f(x: int) -> int:\n"
        '    """F."""\n    return x\n'
    )
    path = write(tmp_path, "acts.py", source)
    tools, rejections = extract(path)
    assert tools == {}
    (rejection,) = rejections
    assert rejection.reason_code == "import_side_effects" and rejection.kind == "spec"
    assert "line 5" in rejection.reason and kind in rejection.reason
    assert not marker.exists()


def test_print_at_top_level_is_rejected_and_never_executed(tmp_path):
    marker = tmp_path / "printed.txt"
    path = write(
        tmp_path,
        "noisy.py",
        f"""
        import pathlib

        def f(x: int) -> int:
            \"\"\"F.\"\"\"
            return x

        print("x")
        pathlib.Path({str(marker)!r}).write_text("ran")
        """,
    )
    _, (rejection,) = extract(path)
    assert rejection.reason_code == "import_side_effects"
    assert rejection.reason.startswith("line 8: expression statement") and "print('x')" in rejection.reason
    assert not marker.exists()


def test_definitions_guards_and_import_fallbacks_are_allowed(tmp_path):
    marker = tmp_path / "main.txt"
    path = write(
        tmp_path,
        "allowed.py",
        f'''
        """Only definitions."""
        import logging
        import sys
        from typing import TYPE_CHECKING

        try:
            import tomllib
        except ImportError:  # an import fallback
            tomllib = None

        if TYPE_CHECKING:
            from collections.abc import Iterable

        if sys.version_info >= (3, 11):
            PY311 = True
        else:
            PY311 = False

        logger = logging.getLogger(__name__)
        LIMIT: int = 10
        LIMIT += 1


        class Config:
            """Settings."""

            size = 3


        def area(width: float, height: float = 1.0) -> float:
            """Area of a rectangle."""
            return width * height


        if __name__ == "__main__":
            open({str(marker)!r}, "w").write("ran")
        ''',
    )
    tools, rejections = extract(path)
    assert rejections == [] and sorted(tools) == ["area"]
    assert not marker.exists()
    assert not (tmp_path / "__pycache__").exists()  # importing leaves no bytecode beside the file


def test_py_module_not_found_and_no_source(tmp_path, monkeypatch):
    marker = tmp_path / "parent_ran.txt"
    write(tmp_path, "parentpkg/__init__.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for target in ("py:no_such_package_xyz.tools", "py:parentpkg.missing", "py:not a name"):
        _, tools, (rejection,) = extract_python_tools(target)
        assert tools == [] and rejection.reason_code == "not_found" and rejection.source == target
    assert not marker.exists()  # looking for parentpkg.missing did not import parentpkg
    assert "parentpkg" not in sys.modules
    _, _, (builtin,) = extract_python_tools("py:math")
    assert builtin.reason_code == "no_source"
    _, _, (missing,) = extract_python_tools(str(tmp_path / "nope.py"))
    assert missing.reason_code == "not_found"


def test_py_module_with_side_effects_is_scanned_before_import(tmp_path, monkeypatch):
    marker = tmp_path / "ran.txt"
    write(tmp_path, "sidepkg/__init__.py", "")
    write(tmp_path, "sidepkg/good.py", 'def twice(x: float) -> float:\n    """Double x."""\n    return 2 * x\n')
    write(tmp_path, "sidepkg/acts.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _, _, (rejection,) = extract_python_tools("py:sidepkg.acts")
    assert rejection.reason_code == "import_side_effects" and "sidepkg.acts" not in sys.modules
    assert not marker.exists()
    spec_id, (tool,), rejections = extract_python_tools("py:sidepkg.good")
    assert spec_id == "python/sidepkg.good" and tool.domain == "good" and rejections == []
    assert tool.operation_id == "sidepkg.good.twice"


def test_a_directory_walk_never_imports_python_files(tmp_path):
    marker = tmp_path / "walked.txt"
    specs = tmp_path / "specs"
    write(specs, "tools.py", f"open({str(marker)!r}, 'w').write('ran')\n\ndef f(x: int) -> int:\n    return x\n")
    tool_list = [{"name": "ping", "description": "Ping.", "parameters": {"type": "object", "properties": {}}}]
    (specs / "tools.json").write_text(json.dumps(tool_list))
    build = build_catalog([specs], workers=1)
    assert build.functions["name"].to_list() == ["ping"] and build.rejections.height == 0 and build.specs == 1
    assert not marker.exists()
    spec_id, data = fingerprint(specs / "tools.py")  # the data version reads the file, never runs it
    assert spec_id == "python/tools" and b"walked" in data and not marker.exists()


def test_locating_reads_nothing_and_imports_nothing(tmp_path):
    found = locate(SAMPLE)
    assert found.file is not None and found.file.name == "everyday.py" and found.error is None
    assert locate(tmp_path / "x.py").error[0] == "not_found"


# -- the bundled sample module ------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    build = build_catalog([SAMPLE], workers=1)
    out = build.write(tmp_path_factory.mktemp("pycat"))
    return build, out


def test_sample_module_gives_tools_with_numeric_and_array_parameters(sample):
    build, _ = sample
    frame = build.functions
    assert build.rejections.height == 0 and build.specs == build.specs_ok == 1
    assert frame.height >= 10 and set(frame["source_format"]) == {"python"} and set(frame["domain"]) == {"everyday"}
    kinds = {
        p.get("type")
        for row in frame.iter_rows(named=True)
        for p in json.loads(row["parameters"])["properties"].values()
    }
    assert {"number", "integer", "array", "object", "string", "boolean"} <= kinds
    assert frame["response_schema"].null_count() == 0
    assert all(len(d) > 20 for d in frame["description"])
    assert check_schemas(frame, limit=1000).invalid == 0  # Draft 2020-12 meta-schema
    from inftool_dagster.bfcl.leakage import bfcl_index

    assert not set(frame["name"]) & bfcl_index().function_names  # not BFCL's functions


def test_sample_is_part_of_the_default_round():
    from inftool_dagster.resources import SpecSourcesResource

    assert SAMPLE_PYTHON_TOOLS == SAMPLE
    assert SpecSourcesResource().resolved_paths() == [str(SAMPLE_SPECS), SAMPLE]
    build = build_catalog(SpecSourcesResource().resolved_paths(), workers=1)
    assert build.functions.filter(build.functions["source_format"] == "python").height == 13
    assert build.functions["name"].n_unique() == build.functions.height


def test_mcp_simulator_arguments_and_results_conform_for_every_sample_tool(sample):
    _, out = sample
    tools = load_tools(out)
    report = check_tools(tools, seed=3)
    assert report.tools == len(tools) and report.results_checked == len(tools)
    assert report.args_valid == report.results_valid == len(tools), report.examples


def test_real_functions_accept_simulated_arguments_and_return_what_their_schemas_say(sample):
    from inftool_dagster.sample_tools import everyday

    _, out = sample
    simulator = Simulator(0)
    for tool in load_tools(out):
        fn = getattr(everyday, tool.name)
        returns = pydantic.TypeAdapter(typing.get_type_hints(fn)["return"])
        for seed in range(3):
            args = simulator.generate(tool.parameters, random.Random(f"{seed}:{tool.name}"))
            assert judge(tool.parameters, args, arguments=True).valid
            result = returns.dump_python(pydantic.validate_call(fn)(**args), mode="json")
            verdict = judge(tool.response_schema, orjson.loads(orjson.dumps(result)))
            assert verdict.valid, (tool.name, args, verdict.message)


def test_sample_functions_compute_real_answers():
    from inftool_dagster.sample_tools import everyday as e

    loan = e.monthly_loan_payment(100_000, 6.0, 30)
    assert loan["monthly_payment"] == pytest.approx(599.55, abs=0.01) and loan["months"] == 360
    assert e.convert_length(1, e.LengthUnit.MILE, e.LengthUnit.KILOMETRE) == pytest.approx(1.6093, abs=1e-4)
    assert sum(e.split_bill(100, ["a", "b", "c"], tip_percent=10).values()) == pytest.approx(110.0)
    paris, london = e.Waypoint(latitude=48.8566, longitude=2.3522), e.Waypoint(latitude=51.5074, longitude=-0.1278)
    assert e.route_length([paris, london])["total"] == pytest.approx(343.6, abs=0.5)
    assert (
        e.meeting_time_options([{"name": "a", "utc_offset_hours": 0}, {"name": "b", "utc_offset_hours": 1}])[0]
        == "09:00"
    )


# -- CLI --------------------------------------------------------------------------------
def test_cli_builds_a_catalog_from_a_python_file_and_a_module(tmp_path):
    path = write(
        tmp_path, "cli_tools.py", 'def add(a: int, b: int = 1) -> int:\n    """Add two numbers."""\n    return a + b\n'
    )
    out = tmp_path / "cat"
    result = CliRunner().invoke(main, ["catalog", "build", str(path), SAMPLE, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["specs"] == summary["specs_ok"] == 2 and summary["functions"] == 14 and summary["rejected"] == 0
    names = {t.name: t for t in load_tools(out)}
    assert names["add"].parameters == {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer", "default": 1}},
        "required": ["a"],
    }


def test_api_specs_data_version_follows_a_python_modules_source(tmp_path):
    import dagster as dg

    from inftool_dagster.assets.catalog import api_specs
    from inftool_dagster.resources import SpecSourcesResource

    marker = tmp_path / "observed.txt"
    path = write(tmp_path, "observed.py", 'def f(x: int) -> int:\n    """F."""\n    return x\n')
    side = write(tmp_path, "side.py", f"open({str(marker)!r}, 'w').write('ran')\n")
    observe = api_specs.observe_fn  # the decorated function itself: context, resource -> DataVersion

    def version(paths):
        return observe(dg.build_asset_context(), SpecSourcesResource(paths=[str(p) for p in paths])).value

    before = version([path, side])
    assert version([path, side]) == before
    path.write_text(path.read_text() + "\n# edited\n")
    assert version([path, side]) != before
    assert not marker.exists()  # observing reads the source, never imports it
