"""Dagster resources: where round artifacts live, and which specs feed the catalog."""

from .models import PolicyModelResource
from .specs import SpecSourcesResource
from .workspace import WorkspaceResource

__all__ = ["PolicyModelResource", "SpecSourcesResource", "WorkspaceResource"]
