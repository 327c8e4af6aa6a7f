"""SARIF 2.1.0, for code scanning: each finding is an alert at the manifest line behind it.

One result per difference, missing deployment, error and unmanaged deployment. Locations are
relative to the git repository that holds the manifest (found by looking for ``.git`` above
it, without running git), or to the working directory outside one, because code scanning
resolves them against the repository root.

``partialFingerprints`` hash what the finding is (rule, ids, difference path, environment),
never its line: an alert survives lines moving above it, and a resolved baseline entry (whose
line is unknown) gets the fingerprint it had while it was present.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from driftcheck.reporters._words import (
    difference_sides,
    error_message,
    missing_message,
    unmanaged_message,
)
from driftcheck.result import (
    DeploymentResult,
    Difference,
    DiffKind,
    Origin,
    RunResult,
    SourceLocation,
    Status,
    UnmanagedDeployment,
)

if TYPE_CHECKING:
    from driftcheck.result import BaselineEntry, Mark, Marks

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "driftcheckFinding/v1"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    level: str
    short: str
    full: str


RULES: tuple[Rule, ...] = (
    Rule(
        "drift/changed",
        "DriftChanged",
        "warning",
        "A declared field differs from live",
        "The manifest declares a value and the live deployment has another one.",
    ),
    Rule(
        "drift/missing-live",
        "DriftMissingLive",
        "warning",
        "A declared field is absent live",
        "The manifest declares a field that the live deployment does not have.",
    ),
    Rule(
        "drift/extra-live",
        "DriftExtraLive",
        "warning",
        "Live has a field the manifest leaves out",
        "With --strict: the live deployment has a field that the manifest does not declare.",
    ),
    Rule(
        "deployment/missing",
        "DeploymentMissing",
        "warning",
        "A declared deployment is not found on the API",
        "The API answered 404 for a declared deployment: it would have to be created.",
    ),
    Rule(
        "deployment/error",
        "DeploymentError",
        "error",
        "A deployment could not be checked",
        "The check of this deployment could not decide (auth, network, HTTP error, invalid "
        "response); the gate fails on it.",
    ),
    Rule(
        "deployment/unmanaged",
        "DeploymentUnmanaged",
        "note",
        "A live deployment no manifest declares",
        "With --unmanaged: a live deployment that no manifest declares.",
    ),
)
RULE_INDEX = {rule.id: index for index, rule in enumerate(RULES)}
DIFF_RULES = {
    DiffKind.CHANGED.value: "drift/changed",
    DiffKind.MISSING_LIVE.value: "drift/missing-live",
    DiffKind.EXTRA_LIVE.value: "drift/extra-live",
}
BASELINE_STATES = {True: "new", False: "unchanged"}


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    import driftcheck

    places = _Places()
    fallback = result.deployments[0].location if result.deployments else None
    results: list[dict[str, Any]] = []
    marks = result.marks
    for deployment in result.deployments:
        results.extend(_deployment_results(result, deployment, marks, places))
    for entry in result.unmanaged or ():
        mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
        results.append(_unmanaged(entry, mark, places, fallback))
    if result.listing_error is not None:
        results.append(
            _result(
                "deployment/error",
                result.listing_error.message,
                ("listing",),
                places.location(fallback),
                None,
            )
        )
    if marks is not None:
        declared = {(d.model_instance_id, d.deployment_id): d for d in result.deployments}
        results.extend(_resolved(entry, declared, places, fallback) for entry in marks.resolved)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "driftcheck",
                        "version": driftcheck.__version__,
                        "rules": [_rule(rule) for rule in RULES],
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "exitCode": result.exit_code},
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "defaultConfiguration": {"level": rule.level},
    }


def _deployment_results(
    result: RunResult, deployment: DeploymentResult, marks: Marks | None, places: _Places
) -> list[dict[str, Any]]:
    ids = _ids(deployment)
    found = []
    for diff in deployment.differences:
        mark = marks.of_difference(deployment, diff) if marks else None
        # with environments the winning value may sit in another file (a `vars` entry)
        location = SourceLocation(diff.file or deployment.location.file, diff.line)
        found.append(
            _result(
                DIFF_RULES[diff.kind.value],
                f"{deployment.label}: {_difference_text(diff)}",
                (*ids, diff.path),
                places.location(location),
                _state(mark, marks),
                diff.origin,
            )
        )
    if deployment.status in (Status.MISSING, Status.ERROR):
        mark = marks.of_deployment(deployment) if marks else None
        if deployment.status is Status.MISSING:
            rule, text = "deployment/missing", f"{deployment.label}: {missing_message(result)}"
        else:
            kind = deployment.error.kind.value if deployment.error else "unknown"
            rule, text = "deployment/error", f"{deployment.label}: {error_message(deployment)}"
            ids = (*ids, kind)
        where = places.location(deployment.location)
        found.append(_result(rule, text, ids, where, _state(mark, marks), deployment.origin))
    return found


def _unmanaged(
    entry: UnmanagedDeployment,
    mark: Mark | None,
    places: _Places,
    fallback: SourceLocation | None,
) -> dict[str, Any]:
    text = f"{entry.label}: {unmanaged_message(entry)}"
    ids = (entry.model_instance_id or "", entry.deployment_id)
    location = None if fallback is None else SourceLocation(fallback.file, 1)
    baseline = None if mark is None else BASELINE_STATES[mark.is_new]
    return _result("deployment/unmanaged", text, ids, places.location(location), baseline)


def _resolved(
    entry: BaselineEntry,
    declared: dict[tuple[str, str], DeploymentResult],
    places: _Places,
    fallback: SourceLocation | None,
) -> dict[str, Any]:
    """A finding of the baseline that is gone: ``absent``, at its deployment when declared."""
    key = entry.key
    deployment = declared.get((key.model_instance_id or "", key.deployment_id))
    where = deployment.location if deployment is not None else fallback
    ids: tuple[str, ...] = (key.model_instance_id or "", key.deployment_id)
    if deployment is not None:
        ids = _ids(deployment)
    label = entry.name or f"{key.model_instance_id or '?'}/{key.deployment_id}"
    if key.type.value == "difference":
        rule = DIFF_RULES.get(key.kind or "", "drift/changed")
        ids = (*ids, key.path or "")
        text = f"{label}: {key.path} no longer differs"
    elif key.type.value == "missing":
        rule, text = "deployment/missing", f"{label}: found on the API again"
    elif key.type.value == "error":
        rule, text = "deployment/error", f"{label}: checked without the earlier error"
        ids = (*ids, key.kind or "unknown")
    else:
        rule, text = "deployment/unmanaged", f"{label}: no longer unmanaged"
    return _result(
        rule, f"resolved since the baseline: {text}", ids, places.location(where), "absent"
    )


def _ids(deployment: DeploymentResult) -> tuple[str, ...]:
    ids = (deployment.model_instance_id, deployment.deployment_id)
    environment = deployment.environment  # with environments: staging and prod stay apart
    return (*ids, environment) if environment is not None else ids


def _difference_text(diff: Difference) -> str:
    desired, live = difference_sides(diff)
    if diff.kind is DiffKind.MISSING_LIVE:
        return f"{diff.path} is declared as {desired} and absent live"
    if diff.kind is DiffKind.EXTRA_LIVE:
        return f"{diff.path} is {live} live and not declared"
    return f"{diff.path} is declared as {desired}, live has {live}"


def _state(mark: Mark | None, marks: Marks | None) -> str | None:
    if marks is None:
        return None
    return "new" if mark is None or mark.is_new else "unchanged"


def _result(
    rule: str,
    text: str,
    ids: tuple[str, ...],
    location: dict[str, Any] | None,
    baseline_state: str | None,
    origin: Origin | None = None,
) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps([rule, *ids]).encode("utf-8")).hexdigest()
    found: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": RULE_INDEX[rule],
        "level": RULES[RULE_INDEX[rule]].level,
        "message": {"text": text},
    }
    if location is not None:
        found["locations"] = [location]
    found["partialFingerprints"] = {FINGERPRINT: digest}
    if baseline_state is not None:
        found["baselineState"] = baseline_state
    if origin is not None:  # --changed-since: this_change / pre_existing
        found["properties"] = {"origin": origin.value}
    return found


class _Places:
    """Manifest paths as URIs relative to their repository root (cached per directory)."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}

    def location(self, where: SourceLocation | None) -> dict[str, Any] | None:
        if where is None:
            return None
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": self.uri(where.file)},
                "region": {"startLine": max(1, where.line)},
            }
        }

    def uri(self, file: str) -> str:
        path = os.path.abspath(file)
        relative = os.path.relpath(path, self.root(os.path.dirname(path)))
        return quote(relative.replace(os.sep, "/"), safe="/")

    def root(self, directory: str) -> str:
        if directory not in self.roots:
            self.roots[directory] = _repository_root(directory) or os.getcwd()
        return self.roots[directory]


def _repository_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` that holds ``.git`` (a directory, or
    a file in a worktree or submodule)."""
    current = directory
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
