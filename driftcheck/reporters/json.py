"""JSON report v1: the machine-readable record of a run (see DESIGN.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftcheck.baseline import Mark, Marks

from driftcheck.reporters.text import jsonable
from driftcheck.result import (
    DeploymentResult,
    Difference,
    ErrorInfo,
    RunResult,
    UnmanagedDeployment,
    format_timestamp,
)

REPORT_VERSION = 1


def render(result: RunResult, *, color: bool = False, verbose: bool = False) -> str:
    # Read at call time: the package's __init__ is already loaded, and tests can pin it.
    import driftcheck

    summary = result.summary
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "driftcheck_version": driftcheck.__version__,
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
        from driftcheck.baseline import entry_json, report_section

        report["resolved"] = [entry_json(entry) for entry in result.marks.resolved]
        report["baseline"] = report_section(result.marks)
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def _deployment(deployment: DeploymentResult, marks: Marks | None) -> dict[str, Any]:
    data = {
        "model_instance_id": deployment.model_instance_id,
        "deployment_id": deployment.deployment_id,
        "name": deployment.name,
        "manifest": {"file": deployment.location.file, "line": deployment.location.line},
        "status": deployment.status.value,
        "differences": [
            {**_difference(diff), **_mark(marks.of_difference(deployment, diff) if marks else None)}
            for diff in deployment.differences
        ],
        "error": _error(deployment.error),
    }
    data.update(_mark(marks.of_deployment(deployment) if marks else None))
    return data


def _mark(mark: Mark | None) -> dict[str, Any]:
    """``state`` (new / persisting) and ``first_seen``, with --baseline."""
    if not mark:
        return {}
    from driftcheck.baseline import mark_fields

    return mark_fields(mark)


def _unmanaged(entry: UnmanagedDeployment, marks: Marks | None) -> dict[str, Any]:
    mark = marks.unmanaged(entry.model_instance_id, entry.deployment_id) if marks else None
    return {
        "model_instance_id": entry.model_instance_id,
        "deployment_id": entry.deployment_id,
        "name": entry.name,
        "status": "unmanaged",
        "created_at": entry.created_at,
        "created_by": entry.created_by,
    } | _mark(mark)


def _difference(diff: Difference) -> dict[str, Any]:
    data = {
        "path": diff.path,
        "segments": list(diff.segments),
        "kind": diff.kind.value,
        "desired": jsonable(diff.desired),
        "live": jsonable(diff.live),
        "line": diff.line,
    }
    if diff.note is not None:
        data["note"] = diff.note  # e.g. the ignore that would have silenced it has expired
    return data


def _error(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "kind": error.kind.value,
        "message": error.message,
        "http_status": error.http_status,
    }
