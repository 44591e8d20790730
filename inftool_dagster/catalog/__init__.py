"""Tool catalog: raw API specifications → normalized functions with JSON Schemas."""

from .builder import CatalogBuild, build_catalog, load_catalog, process_source
from .records import Rejection, ToolFunction

__all__ = ["CatalogBuild", "Rejection", "ToolFunction", "build_catalog", "load_catalog", "process_source"]
