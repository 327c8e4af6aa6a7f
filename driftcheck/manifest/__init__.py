"""Manifest v1: YAML with positions, models built from spec's table, messages, loading.

- ``yaml``: safe, bounded YAML loading that remembers every value's line and column;
- ``models``: the pydantic models (vendor models generated from ``spec.VENDOR_FIELDS``) and
  the JSON Schema for editors;
- ``messages``: pydantic errors as plain messages with close-match suggestions;
- ``desired``: the records a load produces (``DesiredState``, ``Problem``, ``ManifestError``);
- ``load``: discovery, reading, validation, duplicates.
"""

from __future__ import annotations

from driftcheck.errors import Problem
from driftcheck.manifest.desired import DesiredDeployment, DesiredState, ManifestError
from driftcheck.manifest.load import MANIFEST_SUFFIXES, discover, load_manifests
from driftcheck.manifest.models import (
    MANIFEST_VERSION,
    UNMANAGED_IGNORE,
    DeploymentModel,
    ManifestModel,
    json_schema,
)

__all__ = [
    "MANIFEST_SUFFIXES",
    "MANIFEST_VERSION",
    "UNMANAGED_IGNORE",
    "DeploymentModel",
    "DesiredDeployment",
    "DesiredState",
    "ManifestError",
    "ManifestModel",
    "Problem",
    "discover",
    "json_schema",
    "load_manifests",
]
