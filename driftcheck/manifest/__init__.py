"""Manifest v1: YAML with positions, models built from spec's table, messages, loading.

- ``yaml``: safe, bounded YAML loading that remembers every value's line and column;
- ``models``: the pydantic models (vendor models generated from ``spec.VENDOR_FIELDS``) and
  the JSON Schema for editors;
- ``messages``: pydantic errors as plain messages with close-match suggestions;
- ``desired``: the records a load produces (``DesiredState``, ``Problem``, ``ManifestError``);
- ``load``: discovery, reading, validation of one document, duplicates;
- ``environments``, ``interpolate``, ``effective``: environments, ``${...}`` references, and
  one file as a plain manifest for one environment, each value with its origin;
- ``sets``: the whole set for the selected environments (``load_set``, ``load_manifests``);
- ``render``: the effective manifest as YAML with ``# file:line`` comments.
"""

from __future__ import annotations

from driftcheck.errors import Problem
from driftcheck.manifest.desired import DesiredDeployment, DesiredState, ManifestError
from driftcheck.manifest.environments import Environment, SelectionError
from driftcheck.manifest.load import MANIFEST_SUFFIXES, discover
from driftcheck.manifest.models import (
    MANIFEST_VERSION,
    UNMANAGED_IGNORE,
    DeploymentModel,
    ManifestModel,
    json_schema,
)
from driftcheck.manifest.sets import (
    EnvironmentState,
    LoadedSet,
    Selection,
    load_manifests,
    load_set,
)

__all__ = [
    "MANIFEST_SUFFIXES",
    "MANIFEST_VERSION",
    "UNMANAGED_IGNORE",
    "DeploymentModel",
    "DesiredDeployment",
    "DesiredState",
    "Environment",
    "EnvironmentState",
    "LoadedSet",
    "ManifestError",
    "ManifestModel",
    "Problem",
    "Selection",
    "SelectionError",
    "discover",
    "json_schema",
    "load_manifests",
    "load_set",
]
