"""JSON report v1: the machine-readable record of a run (see DESIGN.md)."""

from __future__ import annotations

import json
from typing import Any

from driftcheck.reporters._words import jsonable
from driftcheck.result import (
    BaselineEntry,
    DeploymentResult,
    Difference,
    EntryType,
    ErrorInfo,
    Mark,
    Marks,
    RunResult,
    UnmanagedDeployment,
    format_timestamp,
)

REPORT_VERSION = 1
# Names of the fields the JSON report gains (additively) when a baseline is given; baseline.py
# reads a previous report back through the same names.
STATE_FIELD = "state"
FIRST_SEEN_FIELD = "first_seen"
SECTION_FIELD = "baseline"


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    summary = result.summary
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "driftcheck_version": result.version,
        "started_at": format_timestamp(result.started_at),
        "finished_at": format_timestamp(result.finished_at),
        "exit_code": result.exit_code,
        "summary": {
            "total": summary.total,
            "in_sync": summary.in_sync,
            "drifted": summary.drifted,
            "missing": summary.missing,
            "error": summary.error,
        },
        "deployments": [_deployment(deployment, result.marks) for deployment in result.deployments],
    }
    if result.looked_for_unmanaged:
        # additive to report v1: present only when --unmanaged asked for the live set
        coverage = result.coverage
        report["summary"]["unmanaged"] = summary.unmanaged
        report["summary"]["coverage"] = None if coverage is None else coverage.percent
        report["summary"]["live_total"] = None if coverage is None else coverage.live
        report["unmanaged"] = [_unmanaged(entry, result.marks) for entry in result.unmanaged or ()]
        report["listing_error"] = _error(result.listing_error)
    if result.ignores:
        # additive to report v1: only when the run had at least one ignore
        from driftcheck.reporters._ignores import ignore_json

        report["ignores"] = [ignore_json(entry) for entry in result.ignores]
    if result.marks is not None:
        # additive to report v1: only with --baseline
        report["resolved"] = [entry_json(entry) for entry in result.marks.resolved]
        report["baseline"] = report_section(result.marks)
    report.update(_gate_fields(result))
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def _deployment(deployment: DeploymentResult, marks: Marks | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "model_instance_id": deployment.model_instance_id,
        "deployment_id": deployment.deployment_id,
        "name": deployment.name,
        "manifest": {"file": deployment.location.file, "line": deployment.location.line},
        "status": deployment.status.value,
        "differences": [
            {
                **_difference(diff),
                **mark_fields(marks.of_difference(deployment, diff) if marks else None),
            }
            for diff in deployment.differences
        ],
        "error": _error(deployment.error),
    }
    if deployment.environment is not None:
        data["environment"] = deployment.environment  # additive: only with environments
    data.update(mark_fields(marks.of_deployment(deployment) if marks else None))
    # additive to report v1: only with --changed-since / --wait
    if deployment.origin is not None:
        data["origin"] = deployment.origin.value
    if deployment.checks is not None:
        data["checks"] = deployment.checks
    return data


def _gate_fields(result: RunResult) -> dict[str, Any]:
    """Top-level keys of --wait (``waited_s``) and --changed-since (``changed_since``,
    ``removed``); absent otherwise, so reports without them stay byte-identical."""
    fields: dict[str, Any] = {}
    if result.waited_s is not None:
        fields["waited_s"] = result.waited_s
    scope = result.changed_since
    if scope is not None:
        fields["changed_since"] = {
            "ref": scope.ref,
            "unchanged": scope.unchanged,
            "all": scope.checked_all,
        }
    if result.removed is not None:
        fields["removed"] = [
            {
                "model_instance_id": entry.model_instance_id,
                "deployment_id": entry.deployment_id,
                "name": entry.name,
                "live_status": entry.live_status,
                "found": entry.found,
                "error": _error(entry.error),
            }
            | ({"environment": entry.environment} if entry.environment else {})
            for entry in result.removed
        ]
    return fields


def _unmanaged(entry: UnmanagedDeployment, marks: Marks | None) -> dict[str, Any]:
    mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
    return (
        {
            "model_instance_id": entry.model_instance_id,
            "deployment_id": entry.deployment_id,
            "name": entry.name,
            "status": "unmanaged",
            "created_at": entry.created_at,
            "created_by": entry.created_by,
        }
        | ({"environment": entry.environment} if entry.environment else {})
        | mark_fields(mark)
    )


def _difference(diff: Difference) -> dict[str, Any]:
    data = {
        "path": diff.path,
        "segments": list(diff.segments),
        "kind": diff.kind.value,
        "desired": jsonable(diff.desired),
        "live": jsonable(diff.live),
        "line": diff.line,
    } | ({"origin": diff.origin.value} if diff.origin is not None else {})
    if diff.note is not None:
        data["note"] = diff.note  # e.g. the ignore that would have silenced it has expired
    if diff.file is not None:
        data["file"] = diff.file  # additive: with environments, the file of `line`
    return data


def _error(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "kind": error.kind.value,
        "message": error.message,
        "http_status": error.http_status,
    }


# ---------------------------------------------------------------------------------------------
# --baseline: the fields the report gains (baseline.py reads them back)


def mark_fields(mark_: Mark | None) -> dict[str, Any]:
    """Fields added to a difference, a missing/error deployment or an unmanaged entry."""
    if mark_ is None:
        return {}
    return {STATE_FIELD: mark_.state.value, FIRST_SEEN_FIELD: mark_.first_seen}


def report_section(marks: Marks) -> dict[str, Any]:
    """The report's top-level ``baseline`` object (the resolved entries are listed beside it,
    in the report's top-level ``resolved``)."""
    return {
        "file": marks.baseline_path,
        "started_at": marks.baseline_started_at,
        "counts": marks.counts,
        "unverified": [
            {**entry_json(item.entry), "reason": item.reason} for item in marks.unverified
        ],
    }


def entry_json(entry: BaselineEntry) -> dict[str, Any]:
    key = entry.key
    data: dict[str, Any] = {
        "type": key.type.value,
        "model_instance_id": key.model_instance_id,
        "deployment_id": key.deployment_id,
        "name": entry.name,
    }
    if key.type is EntryType.DIFFERENCE:
        data.update(path=key.path, kind=key.kind, desired=entry.desired, live=entry.live)
    elif key.type is EntryType.ERROR:
        data.update(kind=key.kind, message=entry.message)
    if key.environment is not None:  # additive: only for a set with environments
        data["environment"] = key.environment
    data[FIRST_SEEN_FIELD] = entry.first_seen
    return data
