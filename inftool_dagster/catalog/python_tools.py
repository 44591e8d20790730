"""Tools written as Python functions: a ``.py`` file or an importable module (``py:package.module``).

Each public function of the module (no leading underscore; the names in ``__all__`` when the
module defines it) that is defined in that module becomes one tool:

* parameters: a JSON Schema built by pydantic from the type hints (int, float, bool, str,
  ``list[...]``, ``dict[...]``, ``tuple[...]``, ``Optional``/``X | None``, ``Literal``,
  ``Enum``, ``TypedDict``, pydantic models, ``Annotated[..., Field(...)]``); ``$defs`` are
  inlined so the schema is self-contained; a parameter with a default is optional and
  carries the default when it is JSON-serialisable;
* descriptions: the docstring, parsed by ``docstring-parser`` (Google, NumPy and reST
  styles): summary + long description → the tool's description, each parameter's text →
  its property's ``description`` (unless ``Field(description=...)`` gave one);
* ``response_schema``: from the return annotation when it maps to a JSON Schema, else None.

A function is rejected (kind ``operation``) with ``no_docstring``, ``missing_annotations``
(the parameters are listed), ``var_args`` (``*args``/``**kwargs``) or ``unsupported_type``
(a hint pydantic cannot turn into a schema, or one that cannot be evaluated).

**Import rule.** Code is imported only when the user names it: a ``.py`` path or a
``py:`` module given explicitly. A directory walk never imports a ``.py`` file
(``sources.iter_sources`` takes spec suffixes only). Before importing, the module's
source is read and its top level scanned with ``ast`` (nothing runs yet); the whole module
is rejected with ``import_side_effects``, naming the line and the statement kind, when a
top-level statement does something beyond defining names. Allowed: the docstring (any
constant expression), ``import``/``from ... import``, ``def``/``async def``, ``class``
(whose body follows the same rule), assignments (``x = ...``, ``x: T = ...``, ``x += ...``;
``logger = logging.getLogger(...)`` is fine), ``pass``, ``if __name__ == "__main__":`` and
``if TYPE_CHECKING:`` (their bodies do not run at import), other ``if`` blocks whose branches
hold only allowed statements (version checks), and ``try`` blocks that are import fallbacks
(every handler catches ``ImportError``/``ModuleNotFoundError`` and every branch holds only
allowed statements). Rejected: any other expression statement (``print(...)``, ``main()``),
loops, ``with``, ``del``, ``raise``, ``assert``, ``match`` and other ``try`` blocks.
Decorators, default values and the right-hand sides of assignments are evaluated as Python
evaluates them: the rule stops statements whose purpose is to act, not every call. Only the
named module is scanned; its parent packages are imported as Python imports them.

Module-level reason codes (kind ``spec``): ``not_found`` (no such file or module),
``no_source`` (a built-in, extension or namespace module: nothing to scan),
``import_side_effects``, ``unimportable`` (a syntax error or any exception raised while
importing, with its text) and ``no_functions``. Nothing a module does at import stops the batch.
"""

from __future__ import annotations

import ast
import contextlib
import enum
import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import re
import sys
import types
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .naming import SAFE_NAME, identifier
from .records import Rejection, ToolFunction
from .schema_convert import MAX_DESCRIPTION, SchemaConverter
from .sources import PYTHON_PREFIX

SOURCE_FORMAT = "python"
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
_STATEMENT_KINDS = {
    "Expr": "expression statement",
    "For": "for loop",
    "AsyncFor": "async for loop",
    "While": "while loop",
    "With": "with block",
    "AsyncWith": "async with block",
    "Delete": "del statement",
    "Try": "try block (not an import fallback)",
    "TryStar": "try block (not an import fallback)",
    "Raise": "raise statement",
    "Assert": "assert statement",
    "Match": "match statement",
    "If": "if block running statements",
    "Global": "global statement",
    "Nonlocal": "nonlocal statement",
}
_DEFINITIONS: tuple[type, ...] = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.Pass,
) + ((ast.TypeAlias,) if hasattr(ast, "TypeAlias") else ())


# -- locating a target without running it ---------------------------------------------------
@dataclass
class PythonTarget:
    """A ``.py`` path or ``py:`` module, located on disk; nothing imported yet."""

    target: str  # as the user gave it
    module_name: str  # the dotted name (``py:``) or the file's stem
    spec_id: str  # python/<module name>
    file: Path | None  # the source file, when found
    is_file: bool  # given as a path (imported under a unique name) rather than a module name
    error: tuple[str, str] | None = None  # (reason_code, reason) when it cannot be used

    @property
    def domain(self) -> str:
        return self.module_name.rsplit(".", 1)[-1]


def locate(target: str | Path) -> PythonTarget:
    """Find the source file of ``target`` without importing it (parent packages are not run)."""
    text = str(target)
    if text.startswith(PYTHON_PREFIX):
        name = text[len(PYTHON_PREFIX) :].strip()
        found = PythonTarget(text, name, f"python/{name}", None, False)
        if not name or not all(part.isidentifier() for part in name.split(".")):
            found.error = ("not_found", f"{name!r} is not a dotted module name")
            return found
        spec = _find_spec(name)
        if spec is None:
            found.error = ("not_found", f"no module named {name!r}")
            return found
        origin = spec.origin if spec.has_location else None
        if not origin or not origin.endswith(".py") or not Path(origin).is_file():
            found.error = ("no_source", f"module {name!r} has no Python source file to check (built-in or extension)")
            return found
        found.file = Path(origin)
        return found
    path = Path(text)
    found = PythonTarget(text, path.stem, f"python/{path.stem}", None, True)
    if not path.is_file():
        found.error = ("not_found", "no such file")
        return found
    found.file = path.resolve()
    return found


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    """``importlib.util.find_spec`` without importing parent packages: each level is looked up
    in its parent's search locations (an already imported module answers with its own spec)."""
    parts = name.split(".")
    spec = None
    for depth in range(1, len(parts) + 1):
        full = ".".join(parts[:depth])
        loaded = sys.modules.get(full)
        if loaded is not None and getattr(loaded, "__spec__", None) is not None:
            spec = loaded.__spec__
            continue
        try:
            if depth == 1:
                spec = importlib.util.find_spec(full)  # top level: meta path finders, nothing executed
            else:
                locations = spec.submodule_search_locations if spec is not None else None
                if locations is None:  # the parent is a plain module, not a package
                    return None
                spec = importlib.machinery.PathFinder.find_spec(full, list(locations))
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
    return spec


def fingerprint(target: str | Path) -> tuple[str, bytes]:
    """(spec id, source bytes) for a data version: the named module's file, read but not run."""
    found = locate(target)
    if found.file is None:
        return found.spec_id, b""
    try:
        return found.spec_id, found.file.read_bytes()
    except OSError:
        return found.spec_id, b""


# -- the import rule ------------------------------------------------------------------------
def side_effect(tree: ast.Module) -> str | None:
    """The first top-level statement that acts at import (``line N: kind (code)``), else None."""
    return _scan(tree.body)


def _scan(body: list[ast.stmt]) -> str | None:
    for node in body:
        problem = _check(node)
        if problem is not None:
            return problem
    return None


def _check(node: ast.stmt) -> str | None:
    if isinstance(node, _DEFINITIONS):
        return None
    if isinstance(node, ast.ClassDef):
        return _scan(node.body)  # a class body runs at import
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None  # the docstring (and other constants: nothing runs)
    if isinstance(node, ast.If):
        if _is_main_guard(node.test) or _is_type_checking(node.test):
            return _scan(node.orelse)  # the body never runs on import
        if _scan(node.body) is None and _scan(node.orelse) is None:
            return None  # conditional definitions (version checks)
    if isinstance(node, ast.Try) and _is_import_fallback(node):
        return None
    kind = _STATEMENT_KINDS.get(type(node).__name__, f"{type(node).__name__} statement")
    code = ast.unparse(node.value if isinstance(node, ast.Expr) else node).splitlines()[0]
    code = code if len(code) <= 80 else code[:77] + "..."
    return f"line {node.lineno}: {kind} runs at import: {code}"


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(mains) == 1


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_import_fallback(node: ast.Try) -> bool:
    if not node.handlers or node.finalbody:
        return False
    for handler in node.handlers:
        caught = handler.type
        names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
        if not names or not all(isinstance(n, ast.Name) and n.id in _IMPORT_ERRORS for n in names):
            return False
        if _scan(handler.body) is not None:
            return False
    return _scan(node.body) is None and _scan(node.orelse) is None


# -- importing --------------------------------------------------------------------------
def _import(found: PythonTarget) -> types.ModuleType:
    """Import the located module; stdout written at import goes to stderr (CLI output is JSON)."""
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # importing leaves no __pycache__ beside the user's file
    try:
        with contextlib.redirect_stdout(sys.stderr):
            if not found.is_file:
                return importlib.import_module(found.module_name)
            assert found.file is not None
            digest = hashlib.sha1(str(found.file).encode()).hexdigest()[:10]
            stem = re.sub(r"\W", "_", found.file.stem)
            unique = f"_inftool_python_tools_{digest}_{stem}"
            spec = importlib.util.spec_from_file_location(unique, found.file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {found.file} as a Python module")
            module = importlib.util.module_from_spec(spec)
            sys.modules[unique] = module  # TypedDicts, dataclasses and models resolve hints through it
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(unique, None)
                raise
            return module
    finally:
        sys.dont_write_bytecode = dont_write


def public_functions(module: types.ModuleType) -> list[Any]:
    """Functions defined in ``module`` that it exports, in definition order."""
    names = getattr(module, "__all__", None)
    if isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names):
        candidates = [(n, getattr(module, n, None)) for n in names]
    else:
        candidates = [(n, v) for n, v in vars(module).items() if not n.startswith("_")]
    return [
        value
        for _, value in candidates
        if inspect.isfunction(value) and getattr(value, "__module__", None) == module.__name__
    ]


# -- one module -------------------------------------------------------------------------
def extract_python_tools(target: str | Path) -> tuple[str, list[ToolFunction], list[Rejection]]:
    """(spec id, tools, rejections) for one ``.py`` file or ``py:`` module; never raises."""
    found = locate(target)
    source = found.target

    def reject(code: str, reason: str) -> tuple[str, list[ToolFunction], list[Rejection]]:
        return found.spec_id, [], [Rejection(source, found.spec_id, "spec", code, reason[:500])]

    if found.error is not None:
        return reject(*found.error)
    assert found.file is not None
    try:
        text = found.file.read_bytes()
        tree = ast.parse(text, filename=str(found.file))
    except SyntaxError as exc:
        return reject("unimportable", f"SyntaxError: {exc.msg} (line {exc.lineno})")
    except (OSError, ValueError) as exc:
        return reject("unimportable", f"{type(exc).__name__}: {exc}")
    problem = side_effect(tree)
    if problem is not None:
        return reject("import_side_effects", f"{problem} (a module imported for its tools may only define names)")
    try:
        module = _import(found)
    except (Exception, SystemExit) as exc:  # anything the module does at import is its own failure
        return reject("unimportable", f"{type(exc).__name__}: {exc}")
    functions = public_functions(module)
    if not functions:
        return reject("no_functions", "the module defines no public functions")
    tools: list[ToolFunction] = []
    rejections: list[Rejection] = []
    for fn in functions:
        try:
            result = function_tool(fn, found.spec_id, source, found.domain)
        except Exception as exc:  # one function's oddity never costs the module's other tools
            result = _operation(source, found.spec_id, fn, "internal_error", f"{type(exc).__name__}: {exc}")
        (tools if isinstance(result, ToolFunction) else rejections).append(result)
    return found.spec_id, tools, rejections


def _operation(source: str, spec_id: str, fn: Any, code: str, reason: str) -> Rejection:
    return Rejection(source, spec_id, "operation", code, reason[:500], fn.__name__)


# -- one function -----------------------------------------------------------------------
def function_tool(fn: Any, spec_id: str, source: str, domain: str) -> ToolFunction | Rejection:
    """The tool for one function, or the reason it cannot be one."""
    import docstring_parser

    name = fn.__name__
    doc = inspect.getdoc(fn)
    if not doc or not doc.strip():
        return _operation(source, spec_id, fn, "no_docstring", f"{name} has no docstring to describe the tool")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return _operation(source, spec_id, fn, "unsupported_type", f"no signature: {exc}")
    params = list(signature.parameters.values())
    variadic = [p for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if variadic:
        shown = ", ".join(("*" if p.kind == p.VAR_POSITIONAL else "**") + p.name for p in variadic)
        return _operation(source, spec_id, fn, "var_args", f"{name} takes {shown}: a tool's parameters must be named")
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        return _operation(source, spec_id, fn, "unsupported_type", f"annotations cannot be evaluated: {exc}")
    missing = [p.name for p in params if p.name not in hints]
    if missing:
        return _operation(
            source, spec_id, fn, "missing_annotations", f"{name}: parameters without a type hint: {', '.join(missing)}"
        )
    notes: list[str] = []
    try:
        parameters, described = _parameters_schema(name, params, hints, notes)
    except _Unsupported as exc:
        return _operation(source, spec_id, fn, "unsupported_type", str(exc))

    try:
        parsed = docstring_parser.parse(doc)
    except Exception:  # a docstring no style reads: the whole text describes the tool
        parsed = None
    if parsed is not None:
        description = "\n\n".join(t for t in (parsed.short_description, parsed.long_description) if t)
        param_docs = {}
        for entry in parsed.params:
            for arg in entry.arg_name.split(","):  # numpydoc's "x, y : float"
                if entry.description:
                    param_docs.setdefault(arg.strip().lstrip("*"), entry.description)
        returns = parsed.returns.description if parsed.returns is not None else None
    else:
        description, param_docs, returns = doc, {}, None
    for prop, text in param_docs.items():
        schema = parameters["properties"].get(prop)
        if isinstance(schema, dict) and prop not in described:  # outranks a type's own docstring
            schema["description"] = _clean(text)

    response = _response_schema(hints.get("return", inspect.Signature.empty), notes)
    if response is not None and returns and not response.get("description"):
        response["description"] = _clean(returns)
    return ToolFunction(
        name=name if SAFE_NAME.match(name) else identifier(name, fallback="tool"),
        description=_clean(description) or name,
        parameters=orjson.dumps(parameters).decode(),
        response_schema=orjson.dumps(response).decode() if response is not None else None,
        spec_id=spec_id,
        spec_title=spec_id.split("/", 1)[-1],
        domain=domain,
        source_format=SOURCE_FORMAT,
        operation_id=f"{spec_id.split('/', 1)[-1]}.{fn.__qualname__}",
        param_locations=orjson.dumps({k: {"in": "body", "name": k} for k in parameters["properties"]}).decode(),
        notes=notes,
        stable_key=f"{spec_id}\x1f{name}",
    )


def _clean(text: str) -> str:
    return " ".join(text.split())[:MAX_DESCRIPTION]


class _Unsupported(Exception):
    """A type hint with no JSON Schema; the message names the parameter and the type."""


def _parameters_schema(
    name: str, params: list[inspect.Parameter], hints: dict, notes: list[str]
) -> tuple[dict, set[str]]:
    """The object schema of the parameters, and the parameters ``Field(description=...)`` described."""
    import pydantic

    fields: dict[str, Any] = {}
    for i, param in enumerate(params):
        hint = _portable(hints[param.name])
        if param.default is inspect.Parameter.empty:
            fields[f"p{i}"] = (hint, pydantic.Field(alias=param.name))
        else:
            fields[f"p{i}"] = (hint, pydantic.Field(param.default, alias=param.name))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = pydantic.create_model(f"{name}_arguments", **fields)
            raw = model.model_json_schema(by_alias=True)
    except Exception as exc:
        for param in params:  # name the parameter at fault
            try:
                pydantic.TypeAdapter(_portable(hints[param.name])).json_schema()
            except Exception as inner:
                raise _Unsupported(
                    f"parameter {param.name}: {_type_name(hints[param.name])} has no JSON Schema ({_first_line(inner)})"
                ) from None
        raise _Unsupported(f"no JSON Schema for the parameters: {_first_line(exc)}") from None
    for warning in caught:
        if "not JSON serializable" in str(warning.message):
            notes.append(f"a default value is not JSON-serialisable and was left out: {_first_line(warning.message)}")
    schema = _self_contained(raw, notes)
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    given = {k for k, v in (raw.get("properties") or {}).items() if isinstance(v, dict) and "description" in v}
    return schema, given


def _response_schema(hint: Any, notes: list[str]) -> dict | None:
    if hint is inspect.Signature.empty or hint is None or hint is type(None) or hint is Any:
        return None
    import pydantic

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = pydantic.TypeAdapter(_portable(hint)).json_schema(mode="serialization")
    except Exception:
        notes.append(f"return type {_type_name(hint)} has no JSON Schema: no response schema")
        return None
    schema = _self_contained(raw, notes)
    return schema or None


def _self_contained(raw: dict, notes: list[str]) -> dict:
    """Inline pydantic's ``$defs`` (siblings of a ``$ref``, like its default, are kept), drop
    its generated titles, then normalise as every catalog schema is (``SchemaConverter``)."""
    defs = raw.get("$defs") or {}
    inlined = _inline({k: v for k, v in raw.items() if k != "$defs"}, defs, (), notes)
    converter = SchemaConverter(inlined)
    out = converter.convert(inlined)
    notes.extend(n for n in converter.notes if n not in notes)
    return orjson.loads(orjson.dumps(out))  # a private copy: converted subtrees may be shared


def _inline(node: Any, defs: dict, stack: tuple[str, ...], notes: list[str]) -> Any:
    if isinstance(node, list):
        return [_inline(v, defs, stack, notes) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        key = ref[len("#/$defs/") :]
        target = defs.get(key)
        if target is None:
            return _inline(siblings, defs, stack, notes)
        if key in stack or len(stack) >= 6:
            notes.append(f"recursive type {key} cut at depth {len(stack)}")
            cut = {"description": f"({key}: recursive, cut)"}
            if isinstance(target.get("type"), str):
                cut["type"] = target["type"]
            return {**cut, **_inline(siblings, defs, stack, notes)}
        return {**_inline(target, defs, stack + (key,), notes), **_inline(siblings, defs, stack, notes)}
    out = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue  # pydantic's generated titles ("Principal", "LoanSummary") repeat the names
        if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            out[key] = {k: _inline(v, defs, stack, notes) for k, v in value.items()}
        else:
            out[key] = _inline(value, defs, stack, notes)
    return out


def _portable(hint: Any, seen: dict | None = None) -> Any:
    """Before Python 3.12 pydantic refuses ``typing.TypedDict``: rebuild such classes (wherever
    they sit in the hint) as ``typing_extensions.TypedDict`` with the same fields and docstring."""
    if sys.version_info >= (3, 12):
        return hint
    seen = {} if seen is None else seen
    if isinstance(hint, type) and typing.is_typeddict(hint) and type(hint).__module__ == "typing":
        if hint in seen:
            return seen[hint]  # a recursive TypedDict stays as it is (and is reported unsupported)
        seen[hint] = hint
        import typing_extensions

        fields = {}
        for key, value in typing.get_type_hints(hint, include_extras=True).items():
            value = _strip_required(value)
            value = _portable(value, seen)
            wrapper = typing_extensions.Required if key in hint.__required_keys__ else typing_extensions.NotRequired
            fields[key] = wrapper[value]
        rebuilt = typing_extensions.TypedDict(hint.__name__, fields)
        rebuilt.__doc__ = hint.__doc__
        rebuilt.__module__ = hint.__module__
        seen[hint] = rebuilt
        return rebuilt
    args = typing.get_args(hint)
    if not args or isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return hint
    if origin is typing.Annotated:
        inner = _portable(args[0], seen)
        return hint if inner is args[0] else typing.Annotated[(inner, *hint.__metadata__)]
    new = tuple(_portable(a, seen) for a in args)
    if all(a is b for a, b in zip(new, args)):
        return hint
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[new]  # noqa: UP007 (built from a tuple of arguments)
    if hasattr(hint, "copy_with"):
        return hint.copy_with(new)
    try:
        return origin[new]
    except TypeError:
        return hint


def _strip_required(hint: Any) -> Any:
    import typing_extensions

    while typing.get_origin(hint) in (
        typing.Required,
        typing.NotRequired,
        typing_extensions.Required,
        typing_extensions.NotRequired,
    ):
        hint = typing.get_args(hint)[0]
    return hint


def _type_name(hint: Any) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__qualname__
    return repr(hint).replace("typing.", "")


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else type(value).__name__
