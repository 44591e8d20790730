"""Load BFCL's own AST checker from the pinned wheel, for agreement tests and benchmarks.

``ast_checker.py`` imports ``bfcl_eval.constants.model_config``, which pulls in every
provider SDK. Only one attribute of it is used (``underscore_to_dot`` of the model, False
for prompting models), so a stand-in module provides that; every checking rule is the
wheel's own code, imported unchanged from a private extraction of the wheel.
"""

from __future__ import annotations

import importlib
import sys
import types
import zipfile
from pathlib import Path

from inftool_dagster.models.registry import cache_dir, fetch_wheel

from .data import BFCL_REQUIREMENT, BFCL_SHA256, BFCL_VERSION, BFCL_WHEEL


class _Config:
    underscore_to_dot = False


def official_checker():
    """(ast_checker function, Language enum) from the wheel."""
    root = cache_dir() / "bfcl" / f"{BFCL_VERSION}-code"
    marker = root / "VERIFIED"
    if not (marker.exists() and marker.read_text().strip() == BFCL_SHA256):
        wheel = fetch_wheel(BFCL_REQUIREMENT, BFCL_WHEEL, BFCL_SHA256)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.startswith(("bfcl_eval/eval_checker/ast_eval/", "bfcl_eval/constants/enums.py",
                                      "bfcl_eval/constants/type_mappings.py")) and member.endswith(".py"):
                    out = root / member
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(archive.read(member))
        marker.write_text(BFCL_SHA256)
    for package in ("bfcl_eval", "bfcl_eval.constants", "bfcl_eval.eval_checker"):
        if package not in sys.modules:
            module = types.ModuleType(package)
            module.__path__ = [str(root / Path(*package.split(".")))]
            sys.modules[package] = module
    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = _AnyModel()
    sys.modules["bfcl_eval.constants.model_config"] = stub
    checker = importlib.import_module("bfcl_eval.eval_checker.ast_eval.ast_checker")
    enums = importlib.import_module("bfcl_eval.constants.enums")
    return checker.ast_checker, enums.Language


class _AnyModel(dict):
    def __missing__(self, key):
        return _Config()
