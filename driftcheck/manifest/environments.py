"""Environments: their definitions (top-level ``environments`` in any file of the set), the
checks of each deployment's ``environments`` map, and which environments a run selects."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import DriftcheckError, Problem
from driftcheck.manifest.interpolate import VAR_NAME, Origin, Place, Variable, in_key
from driftcheck.manifest.messages import close_match, describe, suggest
from driftcheck.manifest.schema import ENVIRONMENT_NAME
from driftcheck.manifest.yaml import Document

ENVIRONMENTS = "environments"
ALL = "all"
NAME = re.compile(ENVIRONMENT_NAME)
ENVIRONMENT_KEYS = ("account_id", "base_url", "vars")
IDS = ("model_instance_id", "deployment_id")


@dataclass(frozen=True)
class Environment:
    name: str
    origin: Origin
    account_id: str | None = None
    base_url: str | None = None
    variables: dict[str, Variable] = field(default_factory=dict)


class SelectionError(DriftcheckError):
    """``--env`` or ``--var`` do not fit the set: a usage error (exit 1), nothing checked."""


def definitions(
    documents: Sequence[tuple[str, Document]],
) -> tuple[dict[str, Environment], list[Problem]]:
    """Every environment the set defines; a name defined twice names both places."""
    found: dict[str, Environment] = {}
    problems: list[Problem] = []
    for file, document in documents:
        data = document.data
        if not isinstance(data, dict) or ENVIRONMENTS not in data:
            continue
        top = Place(file, document, (ENVIRONMENTS,))
        block = data[ENVIRONMENTS]
        if not isinstance(block, dict) or not block:
            problems.append(
                _at(
                    top,
                    f"environments: expected a mapping of environment names, got {describe(block)}",
                )
            )
            continue
        for name, entry in block.items():
            place = top.child(name) if isinstance(name, str) else top
            if in_key(name):
                continue  # reported as a reference in a key
            if not isinstance(name, str) or not NAME.fullmatch(name):
                problems.append(
                    _at(place, f"environment name {name!r} must match [a-z][a-z0-9_-]*")
                )
                continue
            if name == ALL:  # --env all selects every environment: it cannot name one
                problems.append(
                    _at(
                        place,
                        f"environment name {ALL!r} is reserved "
                        "(--env all selects every environment)",
                    )
                )
                continue
            environment = _environment(name, entry, place, problems)
            earlier = found.get(name)
            if earlier is not None:
                first = earlier.origin
                problems.append(
                    _at(
                        place,
                        f"environment {name!r} is defined twice: here and at "
                        f"{first.file}:{first.line}:{first.column}",
                    )
                )
                continue
            if environment is not None:
                found[name] = environment
    return found, problems


def _environment(
    name: str, entry: Any, place: Place, problems: list[Problem]
) -> Environment | None:
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        problems.append(
            _at(
                place,
                f"environments.{name}: expected a mapping with account_id, base_url "
                f"or vars, got {describe(entry)}",
            )
        )
        return None
    ok = True
    for key in entry:
        if key not in ENVIRONMENT_KEYS:
            ok = False
            problems.append(
                _at(
                    place.child(key) if isinstance(key, str) else place,
                    f"unknown key {key!r} in environment {name!r}: "
                    + suggest(str(key), ENVIRONMENT_KEYS),
                )
            )
    texts: dict[str, str | None] = {}
    for key in ("account_id", "base_url"):
        value = entry.get(key)
        if value is not None and not (isinstance(value, str) and value):
            ok = False
            problems.append(
                _at(
                    place.child(key),
                    f"environments.{name}.{key}: expected a non-empty "
                    f"string, got {describe(value)}",
                )
            )
        texts[key] = value if isinstance(value, str) and value else None
    variables: dict[str, Variable] = {}
    raw_vars = entry.get("vars")
    vars_place = place.child("vars")
    if raw_vars is not None and not isinstance(raw_vars, dict):
        ok = False
        problems.append(
            _at(
                vars_place,
                f"environments.{name}.vars: expected a mapping, got {describe(raw_vars)}",
            )
        )
    for var, value in (raw_vars or {}).items() if isinstance(raw_vars, dict) else ():
        if in_key(var):
            ok = False  # reported as a reference in a key
            continue
        if not isinstance(var, str) or not VAR_NAME.match(var):
            ok = False
            at = vars_place.child(var) if isinstance(var, str) else vars_place
            problems.append(_at(at, f"variable name {var!r} must match [A-Za-z_][A-Za-z0-9_-]*"))
            continue
        at = vars_place.child(var)
        variables[var] = Variable(var, value, at.origin(f"var.{var}"), at)
    if not ok:
        return None
    return Environment(name, place.origin(), texts["account_id"], texts["base_url"], variables)


def named(documents: Sequence[tuple[str, Document]]) -> set[str]:
    """Every well-formed environment name the set defines, its definition valid or not."""
    names: set[str] = set()
    for _file, document in documents:
        data = document.data
        block = data.get(ENVIRONMENTS) if isinstance(data, dict) else None
        if isinstance(block, dict):
            names.update(n for n in block if isinstance(n, str) and NAME.fullmatch(n))
    return names


def deployment_problems(
    item: dict[str, Any],
    place: Place,
    defined: dict[str, Environment],
    broken: Collection[str] = (),
) -> list[Problem]:
    """What is wrong with one deployment's ``environments`` map (nothing without one).

    ``broken``: names whose definition has a problem of its own; naming them is not another."""
    if ENVIRONMENTS not in item:
        return []
    here = place.child(ENVIRONMENTS)
    entries = item[ENVIRONMENTS]
    if not defined and not broken:
        return [
            _at(
                here,
                "this deployment names environments, but the set defines none "
                "(add a top-level 'environments' map)",
            )
        ]
    if not isinstance(entries, dict) or not entries:
        return [
            _at(
                here,
                "environments: expected a mapping of environment names to their ids, "
                f"got {describe(entries)}",
            )
        ]
    problems = [
        _at(
            place.child(key),
            f"{key}: with 'environments', each environment entry gives the ids; remove this one",
        )
        for key in IDS
        if key in item
    ]
    for name, entry in entries.items():
        at = here.child(name) if isinstance(name, str) else here
        if in_key(name):
            continue  # reported as a reference in a key
        if name not in defined and name not in broken:
            problems.append(_at(at, unknown_environment(str(name), defined)))
            continue
        missing = [
            key
            for key in IDS
            if not (isinstance(entry, dict) and isinstance(entry.get(key), str) and entry[key])
        ]
        if missing:
            problems.append(
                _at(
                    at,
                    f"environment entry {name!r} needs model_instance_id and deployment_id "
                    f"(missing or empty: {', '.join(missing)})",
                )
            )
    return problems


def unknown_environment(name: str, defined: dict[str, Environment]) -> str:
    names = sorted(defined)
    close = close_match(name, names)
    hint = f" (did you mean {close!r}?)" if close else ""
    return f"unknown environment {name!r}{hint}; defined: {', '.join(names) or 'none valid'}"


def select(
    requested: Sequence[str], defined: dict[str, Environment], option: str = "--env"
) -> tuple[str, ...]:
    """The environments a run covers, in the order asked (``all``: every one, sorted).
    ``option`` names where they were asked (``DRIFTCHECK_ENV`` when set there)."""
    names = sorted(defined)
    if not requested:
        if defined:
            raise SelectionError(
                f"the manifests define environments ({', '.join(names)}): choose with "
                "--env NAME (repeatable), --env all or DRIFTCHECK_ENV"
            )
        return ()
    if not defined:
        asked = f"{option}={' '.join(requested)}" if option != "--env" else f"--env {requested[0]}"
        raise SelectionError(f"{asked}: the manifests define no environments")
    chosen: list[str] = []
    for name in requested:
        if name == ALL:
            chosen.extend(names)
        elif name in defined:
            chosen.append(name)
        else:
            raise SelectionError(f"{option}: {unknown_environment(name, defined)}")
    return tuple(dict.fromkeys(chosen))


def _at(place: Place, message: str) -> Problem:
    origin = place.origin()
    return Problem(origin.file, origin.line, origin.column, message)
