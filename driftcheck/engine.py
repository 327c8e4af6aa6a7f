"""The check itself: desired state + live source -> :class:`RunResult`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from driftcheck.diff import compare
from driftcheck.fetch import Fetched, NotFound, Outcome, Progress
from driftcheck.manifest import DesiredDeployment, DesiredState
from driftcheck.normalize import IgnorePattern
from driftcheck.result import (
    DeploymentResult,
    Difference,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)
from driftcheck.spec import InvalidResponse, parse_live


class LiveSource:
    """What the engine needs from a source (``ApiSource``, ``SnapshotSource``)."""

    description: str

    def fetch_all(
        self, keys: list[tuple[str, str]], progress: Progress | None = None
    ) -> list[Outcome]:  # pragma: no cover - interface
        raise NotImplementedError


def check(
    desired: DesiredState,
    source: LiveSource,
    *,
    strict: bool = False,
    ignore: Iterable[IgnorePattern] = (),
    progress: Progress | None = None,
) -> RunResult:
    started = dt.datetime.now(dt.timezone.utc)
    keys = [d.key for d in desired.deployments]
    outcomes = source.fetch_all(keys, progress)
    patterns = tuple(ignore)
    results = tuple(
        judge(deployment, outcome, strict=strict, ignore=patterns)
        for deployment, outcome in zip(desired.deployments, outcomes, strict=True)
    )
    return RunResult(
        deployments=results,
        started_at=started,
        finished_at=dt.datetime.now(dt.timezone.utc),
        source=source.description,
    )


def judge(
    deployment: DesiredDeployment,
    outcome: Outcome,
    *,
    strict: bool = False,
    ignore: tuple[IgnorePattern, ...] = (),
) -> DeploymentResult:
    """Exactly one status for one declared deployment."""
    if isinstance(outcome, NotFound):
        return _result(deployment, Status.MISSING)
    if not isinstance(outcome, Fetched):
        return _result(deployment, Status.ERROR, error=outcome.error)
    try:
        live = parse_live(outcome.body, deployment.model_instance_id, deployment.deployment_id)
    except InvalidResponse as exc:
        error = ErrorInfo(
            ErrorKind.INVALID_RESPONSE,
            f"response is not the requested deployment: {exc}",
            http_status=outcome.http_status,
            attempts=outcome.attempts or None,
        )
        return _result(deployment, Status.ERROR, error=error)
    differences = compare(deployment, live, strict=strict, ignore=ignore)
    live_name = live.get("name")
    return _result(
        deployment,
        Status.DRIFTED if differences else Status.IN_SYNC,
        differences=differences,
        name=live_name if isinstance(live_name, str) else None,
    )


def _result(
    deployment: DesiredDeployment,
    status: Status,
    *,
    differences: tuple[Difference, ...] = (),
    error: ErrorInfo | None = None,
    name: str | None = None,
) -> DeploymentResult:
    """The declared name wins; the live one only labels a deployment that declares none."""
    return DeploymentResult(
        model_instance_id=deployment.model_instance_id,
        deployment_id=deployment.deployment_id,
        name=deployment.name or name,
        location=SourceLocation(deployment.file, deployment.line),
        status=status,
        differences=differences,
        error=error,
    )
