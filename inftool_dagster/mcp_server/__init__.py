"""The MCP Server agent: any tool catalog served as a real, simulated MCP server."""

from .server import CatalogServer
from .simulator import CatalogTool, Simulator, ToolCallError, validate_arguments

__all__ = ["CatalogServer", "CatalogTool", "Simulator", "ToolCallError", "validate_arguments"]
