"""Dagster resources: where round artifacts live, and which specs feed the catalog."""

from .evolution import EvolutionResource
from .models import PolicyModelResource
from .quality import DataQualityResource
from .specs import SpecSourcesResource
from .workspace import WorkspaceResource

__all__ = [
    "EvolutionResource",
    "DataQualityResource",
    "PolicyModelResource",
    "SpecSourcesResource",
    "WorkspaceResource",
]
