"""A manifest set as a run sees it: every file, every environment it selects, all problems.

A set without ``environments`` loads exactly as before (one desired state). A set with them
loads once per selected environment; a problem shared by several environments is reported
once. Nothing is checked unless the whole set is valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftcheck.errors import Problem
from driftcheck.manifest.desired import DesiredDeployment, DesiredState, ManifestError
from driftcheck.manifest.effective import Effective, build
from driftcheck.manifest.environments import (
    ENVIRONMENTS,
    Environment,
    SelectionError,
    definitions,
    deployment_problems,
    named,
    select,
)
from driftcheck.manifest.interpolate import Interpolator, Origin, Place, Variable, in_key
from driftcheck.manifest.load import discover, duplicates, read_document, validate
from driftcheck.manifest.messages import close_match
from driftcheck.manifest.models import UNMANAGED_IGNORE
from driftcheck.manifest.yaml import Document, ScalarMemo


@dataclass(frozen=True)
class Selection:
    """What the command line asks of a set: environments, ``--var`` values, and the process
    environment for ``${env:NAME}`` (read once, at the edge)."""

    environments: tuple[str, ...] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    process_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    # validate: no --env means every environment (a run needs to be told which)
    every_by_default: bool = False
    # where the environments were asked, for messages: --env, or DRIFTCHECK_ENV
    option: str = "--env"
    # --sensitive: a wrongly typed value at such a path is not quoted in a validation error
    sensitive: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnvironmentState:
    environment: Environment | None
    desired: DesiredState

    @property
    def name(self) -> str | None:
        return None if self.environment is None else self.environment.name


@dataclass(frozen=True)
class LoadedSet:
    states: tuple[EnvironmentState, ...]
    files: tuple[str, ...]
    environments: Mapping[str, Environment] = field(default_factory=dict)

    @property
    def deployments(self) -> tuple[DesiredDeployment, ...]:
        return tuple(d for state in self.states for d in state.desired.deployments)


def load_manifests(
    paths: Iterable[str], process_env: Mapping[str, str] | None = None
) -> DesiredState:
    """A set without environments (as before); raise :class:`ManifestError` with all problems."""
    env = os.environ if process_env is None else process_env
    loaded = load_set(paths, Selection(process_env=env))
    return loaded.states[0].desired


def load_set(paths: Iterable[str], selection: Selection) -> LoadedSet:
    """Load and validate every manifest for every selected environment.

    Raises :class:`ManifestError` (every problem) or :class:`SelectionError` (``--env`` or
    ``--var`` that do not fit the set)."""
    files, entries, problems = _read(paths)
    documents = [(name, doc) for name, doc in entries if isinstance(doc, Document)]
    defined, found = definitions(documents)
    problems.extend(found)
    broken = named(documents) - set(defined)
    for name, document in documents:
        problems.extend(_shape_problems(name, document, defined, broken))
    try:
        if selection.every_by_default and not selection.environments:
            names: tuple[str | None, ...] = tuple(sorted(defined))
        else:
            names = select(selection.environments, defined, selection.option)
    except SelectionError:
        unreadable = [doc for _, doc in entries if isinstance(doc, Problem)]
        if problems or unreadable:  # a broken set first: it may be why the names are wrong
            raise ManifestError([*problems, *unreadable]) from None
        raise
    if not names:
        names = (None,)
    states: list[EnvironmentState] = []
    used: set[str] = set()
    for env_name in names:
        environment = defined.get(env_name) if env_name is not None else None
        state, env_problems, env_used = _load_environment(entries, environment, selection)
        states.append(state)
        used |= env_used
        problems.extend(env_problems)
    if problems:
        raise ManifestError(list(dict.fromkeys(problems)))
    _check_unused_vars(selection, defined, used)
    return LoadedSet(tuple(states), tuple(files), defined)


def effective_set(paths: Iterable[str], selection: Selection) -> tuple[str | None, list[Effective]]:
    """The one selected environment's files as plain manifests with origins (``render``);
    the set is validated first, so every problem is reported as by ``load_set``."""
    loaded = load_set(paths, selection)
    if len(loaded.states) > 1:
        names = ", ".join(str(state.name) for state in loaded.states)
        raise SelectionError(
            f"render prints one environment: choose one with --env NAME (selected: {names})"
        )
    environment = loaded.states[0].environment
    _, entries, _ = _read(paths)
    resolver = _resolver(environment, selection)
    effective = [
        build(name, document, environment, resolver)
        for name, document in entries
        if isinstance(document, Document)
    ]
    return loaded.states[0].name, effective


def _read(
    paths: Iterable[str],
) -> tuple[list[str], list[tuple[str, Document | Problem]], list[Problem]]:
    """Every file of the set, read (or the problem reading it), in order; bad paths."""
    files, problems = discover(paths)
    memo = ScalarMemo()  # one load: spellings repeat across the files of a set
    return files, [(name, read_document(name, memo)) for name in files], problems


def _resolver(environment: Environment | None, selection: Selection) -> Interpolator:
    variables = dict(environment.variables) if environment is not None else {}
    for var, value in selection.variables.items():
        variables[var] = Variable(var, value, Origin("--var", 0, 0, f"--var {var}"))
    return Interpolator(variables, selection.process_env, environment.name if environment else None)


def _shape_problems(
    name: str, document: Document, defined: dict[str, Environment], broken: set[str]
) -> list[Problem]:
    """Problems that do not depend on the environment: references in keys, and each
    deployment's ``environments`` map."""
    problems = [
        Problem(
            name,
            line,
            column,
            f"a reference is not allowed in a key ({path[-1]!r}): "
            "keys are literal; write $${ for a literal ${",
        )
        for path, (line, column) in document.key_refs.items()
        if in_key(path[-1])
    ]
    data = document.data
    items = data.get("deployments") if isinstance(data, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else ()):
        if isinstance(item, dict):
            place = Place(name, document, ("deployments", index))
            problems.extend(deployment_problems(item, place, defined, broken))
    return problems


def _load_environment(
    entries: list[tuple[str, Document | Problem]],
    environment: Environment | None,
    selection: Selection,
) -> tuple[EnvironmentState, list[Problem], set[str]]:
    resolver = _resolver(environment, selection)
    deployments: list[DesiredDeployment] = []
    problems: list[Problem] = []
    unmanaged_ignore: list[str] = []
    for name, document in entries:
        if isinstance(document, Problem):  # unreadable: reported in its place among the files
            problems.append(document)
            continue
        before = len(resolver.problems)
        if environment is None and _plain(document):
            loaded, found = validate(
                name, document, unmanaged_ignore, sensitive=selection.sensitive
            )
        else:
            effective = build(name, document, environment, resolver)
            loaded, found = validate(
                name,
                effective.document(),
                unmanaged_ignore,
                effective,
                sensitive=selection.sensitive,
            )
        deployments.extend(loaded)
        problems.extend([*resolver.problems[before:], *found])
    problems.extend(duplicates(deployments))
    desired = DesiredState(
        tuple(deployments),
        tuple(name for name, _ in entries),
        tuple(unmanaged_ignore),
        environment.name if environment else None,
    )
    return EnvironmentState(environment, desired), problems, resolver.used


def _plain(document: Document) -> bool:
    """Nothing to merge or interpolate: the document is checked as it was read."""
    if document.refs:
        return False
    data = document.data
    if not isinstance(data, dict) or ENVIRONMENTS in data:
        return not isinstance(data, dict)
    items = data.get("deployments")
    if isinstance(items, list):
        return not any(isinstance(item, dict) and ENVIRONMENTS in item for item in items)
    return True


def _check_unused_vars(
    selection: Selection, defined: dict[str, Environment], used: set[str]
) -> None:
    """A ``--var`` nothing reads is a typo that would silently change nothing."""
    known = used | {var for env in defined.values() for var in env.variables}
    for var in selection.variables:
        if var not in known:
            close = close_match(var, sorted(known))
            hint = f" (did you mean {close!r}?)" if close else ""
            raise SelectionError(f"--var {var}: no manifest uses var.{var}{hint}")


__all__ = [
    "UNMANAGED_IGNORE",
    "EnvironmentState",
    "LoadedSet",
    "Selection",
    "load_manifests",
    "load_set",
]
