"""Loading manifests: file discovery, bounded reading, validation, duplicates."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from driftcheck import spec
from driftcheck.errors import Problem
from driftcheck.ignore import IgnoreRule, Source, rule_from_entry
from driftcheck.manifest import yaml
from driftcheck.manifest.desired import DesiredDeployment, DesiredState, ManifestError
from driftcheck.manifest.messages import describe, dotted, explain
from driftcheck.manifest.models import UNMANAGED_IGNORE, ManifestModel
from driftcheck.manifest.yaml import Document, ScalarMemo, YamlError

MANIFEST_SUFFIXES = (".yaml", ".yml")


# ---------------------------------------------------------------------------------------------
# Loading


def discover(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Expand directories to their ``*.yaml``/``*.yml`` files (sorted); report bad paths."""
    files: list[str] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
            if not found:
                problems.append(Problem(raw, 1, 1, "directory has no *.yaml or *.yml manifests"))
            files.extend(found)
        elif path.is_file():
            files.append(raw)
        elif path.exists():
            problems.append(Problem(raw, 1, 1, "not a regular file or directory"))
        else:
            problems.append(Problem(raw, 1, 1, "no such file or directory"))
    unique: list[str] = []
    seen: set[str] = set()
    for name in files:
        resolved = os.path.realpath(name)
        if resolved not in seen:
            seen.add(resolved)
            unique.append(name)
    return unique, problems


def load_manifests(paths: Iterable[str]) -> DesiredState:
    """Load and validate every manifest; raise :class:`ManifestError` with all problems."""
    files, problems = discover(paths)
    deployments: list[DesiredDeployment] = []
    unmanaged_ignore: list[str] = []
    memo = ScalarMemo()  # one load: spellings repeat across the files of a set
    for name in files:
        document = read_document(name, memo)
        if isinstance(document, Problem):
            problems.append(document)
            continue
        loaded, file_problems = _validate(name, document, unmanaged_ignore)
        problems.extend(file_problems)
        deployments.extend(loaded)
    problems.extend(_duplicates(deployments))
    if problems:
        raise ManifestError(problems)
    return DesiredState(tuple(deployments), tuple(files), tuple(unmanaged_ignore))


def read_document(name: str, memo: ScalarMemo | None = None) -> Document | Problem:
    """One manifest file as a YAML document with positions, read within the size bound."""
    limit = yaml.MAX_FILE_BYTES  # read at call time: tests lower it
    try:
        with open(name, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        return Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")
    if len(raw) > limit:
        # only the first limit+1 bytes were read: never decode or parse a truncated file
        return Problem(name, 1, 1, f"file is too large (over {limit} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Problem(name, 1, 1, f"not UTF-8 text (byte {exc.start})")
    try:
        return yaml.load(text, memo)
    except YamlError as exc:
        return Problem(name, exc.line, exc.column, exc.message)


def _validate(
    name: str, document: Document, unmanaged_ignore: list[str]
) -> tuple[list[DesiredDeployment], list[Problem]]:
    data = document.data

    def problem(path: tuple[str | int, ...], message: str) -> Problem:
        line, column = document.position(path)
        return Problem(name, line, column, message)

    if data is None:
        return [], [problem((), "empty manifest: expected 'version: 1' and 'deployments'")]
    if not isinstance(data, dict):
        return [], [problem((), "a manifest must be a mapping with 'version' and 'deployments'")]

    problems: list[Problem] = []
    try:
        ManifestModel.model_validate(data)
    except ValidationError as exc:
        explained: set[tuple[tuple[str | int, ...], str]] = set()
        for error in exc.errors():
            if error["loc"] and str(error["loc"][-1]).endswith("[key]"):
                continue  # non-string map keys: _map_keys reports them, at every depth
            if _inside_ignore(tuple(error["loc"])):
                continue  # each ignore item: _ignores reports it in plain words
            path, message = explain(error, data)
            if (path, message) not in explained:  # a union reports once per member
                explained.add((path, message))
                problems.append(problem(path, message))

    top_ignore = _ignores(
        data.get("ignore"), document, name, ("ignore",), Source.MANIFEST, problems
    )
    deployments: list[DesiredDeployment] = []
    items = data.get("deployments")
    if not isinstance(items, list):
        return [], problems
    # one pass over the positions, not one per deployment (that was quadratic in the file)
    lines_by_item: dict[int, dict[tuple[str | int, ...], int]] = {}
    for path, position in document.locations.items():
        if len(path) > 2 and path[0] == "deployments" and isinstance(path[1], int):
            lines_by_item.setdefault(path[1], {})[path[2:]] = position[0]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        base = ("deployments", index)
        own = _ignores(
            item.get("ignore"), document, name, (*base, "ignore"), Source.DEPLOYMENT, problems
        )
        for freeform in spec.FREEFORM_FIELDS:
            if isinstance(item.get(freeform), dict):
                _map_keys(item[freeform], (*base, freeform), problem, problems)
        mi, dep = item.get("model_instance_id"), item.get("deployment_id")
        if not (isinstance(mi, str) and mi and isinstance(dep, str) and dep):
            continue
        lines = lines_by_item.get(index, {})
        declared = {
            k: v
            for k, v in item.items()
            if k not in ("model_instance_id", "deployment_id", "ignore")
        }
        line, column = document.position(base)
        deployments.append(
            DesiredDeployment(
                model_instance_id=mi,
                deployment_id=dep,
                fields=declared,
                file=name,
                line=line,
                lines=lines,
                ignore=(*top_ignore, *own),
                column=column,
            )
        )
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))  # stable: same place keeps its order
        # still returned, so that a duplicate across files is reported with the rest
        return deployments, problems
    silenced = data.get(UNMANAGED_IGNORE) or []
    unmanaged_ignore.extend(p for p in silenced if isinstance(p, str))
    return deployments, problems


def _map_keys(
    value: Any,
    path: tuple[str | int, ...],
    problem: Any,
    problems: list[Problem],
) -> None:
    """Report every non-string key inside a free-form map, nested maps and lists included:
    the API speaks JSON, so a key such as ``1`` or ``yes`` (read as true) could never match."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _map_keys(item, (*path, index), problem, problems)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _map_keys(item, (*path, key), problem, problems)
                continue
            where = (*path, key if isinstance(key, int) else str(key))
            problems.append(
                problem(
                    where,
                    f"{dotted(path)}: map keys must be strings, got {describe(key)} "
                    "(put the key in quotes)",
                )
            )


def _ignores(
    value: Any,
    document: Document,
    name: str,
    path: tuple[str | int, ...],
    source: Source,
    problems: list[Problem],
) -> tuple[IgnoreRule, ...]:
    if not isinstance(value, list):
        return ()
    rules: list[IgnoreRule] = []
    for index, item in enumerate(value):
        line, column = document.position((*path, index))
        if not isinstance(item, (str, dict)):
            message = f"{dotted((*path, index))}: expected an ignore pattern (a string) or a "
            problems.append(Problem(name, line, column, f"{message}mapping, got {describe(item)}"))
            continue
        rule, found = rule_from_entry(item, source, name, line)
        if rule is not None:
            rules.append(rule)
        for where, text in found:
            problems.append(Problem(name, *document.position((*path, index, *where)), text))
    return tuple(rules)


def _inside_ignore(loc: tuple[str | int, ...]) -> bool:
    """An error about one item of a top-level or deployment ``ignore`` list."""
    start = 1 if loc[:1] == ("ignore",) else 3 if loc[2:3] == ("ignore",) else 0
    return start > 0 and len(loc) > start


def _duplicates(deployments: list[DesiredDeployment]) -> list[Problem]:
    first: dict[tuple[str, str], DesiredDeployment] = {}
    problems = []
    for deployment in deployments:
        earlier = first.setdefault(deployment.key, deployment)
        if earlier is not deployment:
            problems.append(
                Problem(
                    deployment.file,
                    deployment.line,
                    deployment.column,
                    f"duplicate deployment {deployment.model_instance_id}/"
                    f"{deployment.deployment_id}: already declared at "
                    f"{earlier.file}:{earlier.line}:{earlier.column}",
                )
            )
    return problems
