"""BFCL's checker modules imported from the extracted wheel code without installing the wheel
(whose dependency tree is a whole inference stack): its packages are registered in
``sys.modules`` as namespace stubs, and ``bfcl_eval.constants.model_config`` (which imports
every model handler) is replaced by a mapping that answers for any model. Written for the one
BFCL wheel ``bfcl/data.py`` pins by sha256, so the layout cannot change under it."""

from __future__ import annotations

import sys
import types
from pathlib import Path

_PACKAGES = (
    "bfcl_eval",
    "bfcl_eval.constants",
    "bfcl_eval.eval_checker",
    "bfcl_eval.model_handler",
    "bfcl_eval.model_handler.parser",
)


class _Config:
    underscore_to_dot = False


class _AnyModel(dict):
    def __missing__(self, key):
        return _Config()


def install_package_stubs(root: Path) -> None:
    """Make ``bfcl_eval.*`` importable from ``root`` (the extracted code)."""
    for package in _PACKAGES:
        if package not in sys.modules:
            module = types.ModuleType(package)
            module.__path__ = [str(root / Path(*package.split(".")))]
            sys.modules[package] = module
    if "bfcl_eval.constants.model_config" not in sys.modules:
        stub = types.ModuleType("bfcl_eval.constants.model_config")
        stub.MODEL_CONFIG_MAPPING = _AnyModel()
        sys.modules["bfcl_eval.constants.model_config"] = stub
