"""JSON report v1: the machine-readable record of a run (see DESIGN.md)."""

from __future__ import annotations

import json
from typing import Any

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
        "deployments": [_deployment(deployment) for deployment in result.deployments],
    }
    if result.looked_for_unmanaged:
        # additive to report v1: present only when --unmanaged asked for the live set
        coverage = result.coverage
        report["summary"]["unmanaged"] = summary.unmanaged
        report["summary"]["coverage"] = None if coverage is None else coverage.percent
        report["summary"]["live_total"] = None if coverage is None else coverage.live
        report["unmanaged"] = [_unmanaged(entry) for entry in result.unmanaged or ()]
        report["listing_error"] = _error(result.listing_error)
    return json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"


def _deployment(deployment: DeploymentResult) -> dict[str, Any]:
    return {
        "model_instance_id": deployment.model_instance_id,
        "deployment_id": deployment.deployment_id,
        "name": deployment.name,
        "manifest": {"file": deployment.location.file, "line": deployment.location.line},
        "status": deployment.status.value,
        "differences": [_difference(diff) for diff in deployment.differences],
        "error": _error(deployment.error),
    }


def _unmanaged(entry: UnmanagedDeployment) -> dict[str, Any]:
    return {
        "model_instance_id": entry.model_instance_id,
        "deployment_id": entry.deployment_id,
        "name": entry.name,
        "status": "unmanaged",
        "created_at": entry.created_at,
        "created_by": entry.created_by,
    }


def _difference(diff: Difference) -> dict[str, Any]:
    return {
        "path": diff.path,
        "kind": diff.kind.value,
        "desired": jsonable(diff.desired),
        "live": jsonable(diff.live),
        "line": diff.line,
    }


def _error(error: ErrorInfo | None) -> dict[str, Any] | None:
    if error is None:
        return None
    return {
        "kind": error.kind.value,
        "message": error.message,
        "http_status": error.http_status,
        "attempts": error.attempts,
    }
