"""One manifest file as a plain manifest v1 for one environment, with every value's origin.

A deployment with an ``environments`` map exists only in the environments it names; its
entry is deep-merged over the rest of the deployment (maps merge key by key, scalars and
lists replace). Every string is then interpolated. Each path of the result remembers the place
that won: the override, the base, or the ``vars`` entry its value came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from driftcheck.manifest.environments import ENVIRONMENTS, IDS, Environment
from driftcheck.manifest.interpolate import (
    Interpolator,
    Origin,
    Place,
    Unresolved,
    Variable,
)
from driftcheck.manifest.yaml import Document, Path


@dataclass
class Effective:
    """The effective document of one file; ``origins`` holds every path's origin."""

    file: str
    environment: str | None
    data: Any = None
    origins: dict[Path, Origin] = field(default_factory=dict)
    sensitive: set[Path] = field(default_factory=set)
    # lines of values that could not be resolved: their problem is already reported
    unresolved: set[tuple[str, int]] = field(default_factory=set)
    # the file's index of each effective deployment (a deployment absent here is left out)
    indices: list[int] = field(default_factory=list)
    # ids an environment entry fails to give: reported there once, not again as missing keys
    reported: set[Path] = field(default_factory=set)

    def document(self) -> Document:
        locations = {path: (o.line, o.column) for path, o in self.origins.items()}
        return Document(self.data, locations)

    def files(self) -> dict[Path, str]:
        """Paths whose value came from another file than this one."""
        return {path: o.file for path, o in self.origins.items() if o.file != self.file}


def build(
    file: str, document: Document, environment: Environment | None, resolver: Interpolator
) -> Effective:
    out = Effective(file, environment.name if environment else None)
    data = document.data
    root = Place(file, document, ())
    if not isinstance(data, dict):
        out.data = _emit(data, root, (), out, resolver)
        return out
    out.origins[()] = root.origin()
    result: dict[Any, Any] = {}
    for key, value in data.items():
        if key == ENVIRONMENTS:
            continue  # definitions: read by environments.definitions, used through vars
        place = root.child(key)
        if key == "deployments" and isinstance(value, list):
            out.origins[("deployments",)] = place.origin()
            items: list[Any] = []
            for index, item in enumerate(value):
                merged = _deployment(
                    item, place.child(index), len(items), environment, out, resolver
                )
                if merged is not _ABSENT:
                    items.append(merged)
                    out.indices.append(index)
            result[key] = items
        else:
            result[key] = _emit(value, place, (key,), out, resolver)
    if ENVIRONMENTS in data and "deployments" not in data:
        result["deployments"] = []  # a file may only define environments
    out.data = result
    return out


_ABSENT: Any = object()


def _deployment(
    item: Any,
    place: Place,
    index: int,
    environment: Environment | None,
    out: Effective,
    resolver: Interpolator,
) -> Any:
    here: Path = ("deployments", index)
    if not (isinstance(item, dict) and ENVIRONMENTS in item):
        return _emit(item, place, here, out, resolver)
    entries = item[ENVIRONMENTS]
    if environment is None or not isinstance(entries, dict):
        return _ABSENT  # reported by environments.deployment_problems
    if environment.name not in entries:
        return _ABSENT  # this deployment does not exist in this environment
    entry = entries[environment.name]
    for key in IDS:
        given = entry.get(key) if isinstance(entry, dict) else None
        if not (isinstance(given, str) and given):
            out.reported.add((*here, key))
    base = {k: v for k, v in item.items() if k != ENVIRONMENTS}
    over = entry if isinstance(entry, dict) else {}
    return _merge(
        base, place, over, place.child(ENVIRONMENTS).child(environment.name), here, out, resolver
    )


def _merge(
    base: Any,
    base_place: Place,
    over: Any,
    over_place: Place,
    path: Path,
    out: Effective,
    resolver: Interpolator,
) -> Any:
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return _emit(over, over_place, path, out, resolver)
    out.origins[path] = base_place.origin()
    merged: dict[Any, Any] = {}
    for key, value in base.items():
        child = (*path, key)
        if key in over:
            merged[key] = _merge(
                value, base_place.child(key), over[key], over_place.child(key), child, out, resolver
            )
        else:
            merged[key] = _emit(value, base_place.child(key), child, out, resolver)
    for key, value in over.items():
        if key not in base:
            merged[key] = _emit(value, over_place.child(key), (*path, key), out, resolver)
    return merged


def _emit(value: Any, place: Place, path: Path, out: Effective, resolver: Interpolator) -> Any:
    out.origins[path] = place.origin()
    if isinstance(value, dict):
        return {k: _emit(v, place.child(k), (*path, k), out, resolver) for k, v in value.items()}
    if isinstance(value, list):
        return [_emit(v, place.child(i), (*path, i), out, resolver) for i, v in enumerate(value)]
    if not (isinstance(value, str) and "${" in value):
        return value
    try:
        found = resolver.scalar(value, place.text_origin(), source=place.source())
    except Unresolved:
        origin = out.origins[path]
        out.unresolved.add((origin.file, origin.line))
        return value
    if found.sensitive:
        out.sensitive.update((*path, *part) for part in found.parts)
    if found.source is not None:
        _from_variable(found.value, found.source, path, out)
    return found.value


def _from_variable(value: Any, variable: Variable, path: Path, out: Effective) -> None:
    """Origins of a value typed into place from a variable: the ``vars`` entry, and below it
    the entry's own lines; a ``--var`` keeps the reference's line, noted as such."""
    note = f"var.{variable.name}" if variable.place is not None else f"--var {variable.name}"
    if variable.place is None:
        here = out.origins[path]
        out.origins[path] = Origin(here.file, here.line, here.column, note)
        return
    stack: list[tuple[Any, Place, Path]] = [(value, variable.place, path)]
    while stack:
        item, place, at = stack.pop()
        out.origins[at] = place.origin(note)
        if isinstance(item, dict):
            stack.extend((v, place.child(k), (*at, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, place.child(i), (*at, i)) for i, v in enumerate(item))
