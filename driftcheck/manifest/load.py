"""Loading manifests: file discovery, bounded reading, validation, duplicates."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from driftcheck import spec
from driftcheck.errors import Problem
from driftcheck.files import TooLarge, read_bounded
from driftcheck.ignore import IgnoreRule, Source, rule_from_entry
from driftcheck.manifest import yaml
from driftcheck.manifest.desired import DesiredDeployment
from driftcheck.manifest.effective import Effective
from driftcheck.manifest.interpolate import Origin
from driftcheck.manifest.messages import describe, dotted, explain, value_at
from driftcheck.manifest.models import UNMANAGED_IGNORE, ManifestModel
from driftcheck.manifest.yaml import Document, ScalarMemo, YamlError
from driftcheck.paths import PathPattern, PatternError, parse_pattern
from driftcheck.sensitive import SensitiveRule

MANIFEST_SUFFIXES = (".yaml", ".yml")


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


def read_document(name: str, memo: ScalarMemo | None = None) -> Document | Problem:
    """One manifest file as a YAML document with positions, read within the size bound."""
    limit = yaml.MAX_FILE_BYTES  # read at call time: tests lower it
    try:
        raw = read_bounded(name, limit)
    except OSError as exc:
        return Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")
    except TooLarge:
        return Problem(name, 1, 1, f"file is too large (over {limit} bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Problem(name, 1, 1, f"not UTF-8 text (byte {exc.start})")
    try:
        return yaml.load(text, memo)
    except YamlError as exc:
        return Problem(name, exc.line, exc.column, exc.message)


def validate(
    name: str,
    document: Document,
    unmanaged_ignore: list[str],
    effective: Effective | None = None,
    *,
    sensitive: tuple[str, ...] = (),
) -> tuple[list[DesiredDeployment], list[Problem]]:
    """The deployments of one manifest (``effective``: of one file in one environment, whose
    values may come from other files) and every problem found in it."""
    data = document.data
    origins = effective.origins if effective is not None else None

    def problem(path: tuple[str | int, ...], message: str) -> Problem:
        line, column = document.position(path)
        if effective is not None and len(path) > 1 and path[0] == "deployments":
            # a message names the deployment by its index in the file, not in the environment
            index = path[1]
            if isinstance(index, int) and index < len(effective.indices):
                original = f"deployments[{effective.indices[index]}]"
                message = message.replace(f"deployments[{index}]", original)
        if effective is not None and any(
            path[:end] in effective.sensitive for end in range(len(path), 0, -1)
        ):
            # a value from ${env:NAME} (or inside one) never appears in a message, not even a
            # wrong one
            message = message.replace(repr(value_at(data, path)), "(sensitive)")
        elif declared_sensitive(data, path, sensitive):
            # a value at a manifest `sensitive:` path is as secret when it has the wrong type
            value = value_at(data, path)
            message = message.replace(describe(value), "a sensitive value")
            if isinstance(value, str) and value:
                message = message.replace(repr(value), "(sensitive)")
        return Problem(_file_of(path, origins, name), line, column, message)

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
            if effective is not None and tuple(error["loc"][:3]) in effective.reported:
                continue  # an environment entry without ids: reported at the entry
            path, message = explain(error, data)
            if (path, message) not in explained:  # a union reports once per member
                explained.add((path, message))
                problems.append(problem(path, message))

    top_ignore = _ignores(
        data.get("ignore"), document, name, ("ignore",), Source.MANIFEST, problems
    )
    top_sensitive = _sensitive(data.get("sensitive"), ("sensitive",), problem, problems)
    deployments: list[DesiredDeployment] = []
    items = data.get("deployments")
    if not isinstance(items, list):
        return [], _settled(problems, effective)
    # one pass over the positions, not one per deployment (that was quadratic in the file)
    lines_by_item: dict[int, dict[tuple[str | int, ...], int]] = {}
    for path, position in document.locations.items():
        if len(path) > 2 and path[0] == "deployments" and isinstance(path[1], int):
            lines_by_item.setdefault(path[1], {})[path[2:]] = position[0]
    files_by_item: dict[int, dict[tuple[str | int, ...], str]] = {}
    sensitive_by_item: dict[int, list[tuple[str | int, ...]]] = {}
    if effective is not None:
        for path, origin in effective.origins.items():
            if origin.file != name and len(path) > 2 and path[0] == "deployments":
                files_by_item.setdefault(int(path[1]), {})[path[2:]] = origin.file
        for path in effective.sensitive:
            if len(path) > 2 and path[0] == "deployments":
                sensitive_by_item.setdefault(int(path[1]), []).append(path[2:])
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        base = ("deployments", index)
        own = _ignores(
            item.get("ignore"), document, name, (*base, "ignore"), Source.DEPLOYMENT, problems
        )
        own_sensitive = _sensitive(item.get("sensitive"), (*base, "sensitive"), problem, problems)
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
            if k not in ("model_instance_id", "deployment_id", "ignore", "sensitive")
        }
        line, column = document.position(base)
        deployment = DesiredDeployment(
            model_instance_id=mi,
            deployment_id=dep,
            fields=declared,
            file=name,
            line=line,
            lines=lines,
            ignore=(*top_ignore, *own),
            column=column,
            sensitive=(*top_sensitive, *own_sensitive),
        )
        if effective is not None:
            deployment = replace(
                deployment,
                environment=effective.environment,
                files=files_by_item.get(index, {}),
                sensitive_paths=frozenset(sensitive_by_item.get(index, ())),
            )
        deployments.append(deployment)
    if problems:
        # still returned, so that a duplicate across files is reported with the rest
        return deployments, _settled(problems, effective)
    silenced = data.get(UNMANAGED_IGNORE) or []
    unmanaged_ignore.extend(p for p in silenced if isinstance(p, str))
    return deployments, problems


def _file_of(
    path: tuple[str | int, ...], origins: dict[tuple[str | int, ...], Origin] | None, name: str
) -> str:
    if origins is None:
        return name
    for end in range(len(path), -1, -1):
        found = origins.get(path[:end])
        if found is not None:
            return found.file
    return name


def _settled(problems: list[Problem], effective: Effective | None) -> list[Problem]:
    if effective is None:
        problems.sort(key=lambda p: (p.line, p.column))  # stable: same place keeps its order
        return problems
    # a value that could not be interpolated is reported once, as such: not also as a value
    # of the wrong type on the same line
    kept = [
        _unquoted(p, effective) for p in problems if (p.file, p.line) not in effective.unresolved
    ]
    kept.sort(key=lambda p: (p.file != effective.file, p.file, p.line, p.column))
    return kept


def _unquoted(problem: Problem, effective: Effective) -> Problem:
    """The problem with every ${env:NAME} value of the file that it quotes masked: messages
    about an ignore pattern, say, are made where the value's path is not at hand."""
    message = problem.message
    for path in effective.sensitive:
        value = value_at(effective.data, path)
        if isinstance(value, str) and repr(value) in message:
            message = message.replace(repr(value), "(sensitive)")
    return problem if message == problem.message else replace(problem, message=message)


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


def _sensitive(
    value: Any, path: tuple[str | int, ...], problem: Any, problems: list[Problem]
) -> tuple[PathPattern, ...]:
    """A ``sensitive:`` list: plain patterns (the model reports an item that is not a string)."""
    if not isinstance(value, list):
        return ()
    patterns: list[PathPattern] = []
    for index, text in enumerate(value):
        if not isinstance(text, str):
            continue
        try:
            patterns.append(parse_pattern(text))
        except PatternError as exc:
            problems.append(problem((*path, index), f"invalid sensitive pattern {text!r}: {exc}"))
    return tuple(patterns)


def declared_sensitive(data: Any, path: tuple[str | int, ...], extra: tuple[str, ...] = ()) -> bool:
    """Whether ``path`` (``deployments[i]...``) is covered by the manifest's own ``sensitive:``
    lists, ``extra`` (``--sensitive``) or the built-in key names."""
    if len(path) < 3 or path[0] != "deployments" or not isinstance(data, dict):
        return False
    item = value_at(data, path[:2])
    own = item.get("sensitive") if isinstance(item, dict) else None
    lists = (data.get("sensitive"), own, list(extra))
    patterns: list[PathPattern] = []
    for texts in lists:
        for text in texts if isinstance(texts, list) else ():
            try:
                patterns.append(parse_pattern(str(text)))
            except PatternError:
                continue  # reported by _sensitive
    rule = SensitiveRule(tuple(patterns))
    return rule.touches(path[2:], value_at(data, path))


def _inside_ignore(loc: tuple[str | int, ...]) -> bool:
    """An error about one item of a top-level or deployment ``ignore`` list."""
    start = 1 if loc[:1] == ("ignore",) else 3 if loc[2:3] == ("ignore",) else 0
    return start > 0 and len(loc) > start


def duplicates(deployments: list[DesiredDeployment]) -> list[Problem]:
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
