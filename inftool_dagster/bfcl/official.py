"""BFCL's own code, loaded unchanged from the pinned wheel where re-writing it would only add risk.

Used at run time for what is BFCL's definition rather than a rule to port: the Java and
JavaScript call parsers (tree-sitter) and value converters, the multi-turn executable
backends (file system, trading bot, …) and the stateful multi-turn checker. Used in tests for
the AST checker, against which ``checker.py`` is held to identical verdicts.

Only the needed modules are extracted (``pip download --no-deps`` wheel, sha256-checked) into a
private cache and imported under the ``bfcl_eval`` name; package ``__init__`` files are not run.
``ast_checker.py`` imports ``bfcl_eval.constants.model_config``, which pulls in every provider
SDK; only ``underscore_to_dot`` of a model is read from it (False for prompting models), so a
stand-in module provides that.
"""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path
from types import ModuleType

from inftool_dagster.compat.bfcl_modules import install_package_stubs
from inftool_dagster.storage.wheels import cache_dir, fetch_wheel

from .data import BFCL_REQUIREMENT, BFCL_SHA256, BFCL_VERSION, BFCL_WHEEL

_EXTRACT = (
    "bfcl_eval/eval_checker/ast_eval/",
    "bfcl_eval/eval_checker/multi_turn_eval/",
    "bfcl_eval/constants/enums.py",
    "bfcl_eval/constants/type_mappings.py",
    "bfcl_eval/constants/executable_backend_config.py",
    "bfcl_eval/model_handler/parser/java_parser.py",
    "bfcl_eval/model_handler/parser/js_parser.py",
)
_CODE_VERSION = "2"  # bump when _EXTRACT grows


def code_root() -> Path:
    root = cache_dir() / "bfcl" / f"{BFCL_VERSION}-code"
    marker = root / "VERIFIED"
    want = f"{BFCL_SHA256} {_CODE_VERSION}"
    if not (marker.exists() and marker.read_text().strip() == want):
        wheel = fetch_wheel(BFCL_REQUIREMENT, BFCL_WHEEL, BFCL_SHA256)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.startswith(_EXTRACT) and member.endswith(".py"):
                    out = root / member
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(archive.read(member))
        marker.write_text(want)
    return root


def bfcl_module(name: str) -> ModuleType:
    """Import ``bfcl_eval.<name>`` from the extracted wheel code."""
    install_package_stubs(code_root())
    return importlib.import_module(f"bfcl_eval.{name}")


def official_checker():
    """(ast_checker function, Language enum) from the wheel."""
    checker = bfcl_module("eval_checker.ast_eval.ast_checker")
    return checker.ast_checker, bfcl_module("constants.enums").Language
