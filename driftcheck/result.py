"""Frozen result records: what a run found, before anything is printed.

Reporters only display a :class:`RunResult`; the exit code is decided here, in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from driftcheck.baseline import Marks


class Status(str, Enum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    ERROR = "error"


class DiffKind(str, Enum):
    CHANGED = "changed"
    MISSING_LIVE = "missing_live"  # declared, absent live
    EXTRA_LIVE = "extra_live"  # live has it, the manifest leaves it out (--strict)


class ErrorKind(str, Enum):
    AUTH = "auth"
    NOT_PERMITTED = "not_permitted"
    NETWORK = "network"
    TIMEOUT = "timeout"
    HTTP = "http"
    INVALID_RESPONSE = "invalid_response"
    SNAPSHOT = "snapshot"


EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int


@dataclass(frozen=True)
class Difference:
    """One reported difference. ``desired``/``live`` are raw values, before normalization."""

    path: str
    kind: DiffKind
    desired: Any
    live: Any
    line: int


@dataclass(frozen=True)
class ErrorInfo:
    kind: ErrorKind
    message: str
    http_status: int | None = None
    attempts: int | None = None


@dataclass(frozen=True)
class DeploymentResult:
    model_instance_id: str
    deployment_id: str
    name: str | None
    location: SourceLocation
    status: Status
    differences: tuple[Difference, ...] = ()
    error: ErrorInfo | None = None
    declared_vendor: str | None = None  # lets a remediation preview name the vendor

    @property
    def key(self) -> str:
        return f"{self.model_instance_id}/{self.deployment_id}"

    @property
    def label(self) -> str:
        """``name (mi/dep)`` when a name is known, else ``mi/dep``."""
        return f"{self.name} ({self.key})" if self.name else self.key


@dataclass(frozen=True)
class UnmanagedDeployment:
    """A live deployment that no manifest declares (``--unmanaged``)."""

    model_instance_id: str | None
    deployment_id: str
    name: str | None
    created_at: str | None
    created_by: str | None

    @property
    def key(self) -> str:
        return f"{self.model_instance_id or '?'}/{self.deployment_id}"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.key})" if self.name else self.key


@dataclass(frozen=True)
class Coverage:
    """How much of the live set the manifests declare."""

    declared_live: int
    live: int

    @property
    def percent(self) -> float:
        if self.live == 0:
            return 100.0
        return round(100.0 * self.declared_live / self.live, 1)


@dataclass(frozen=True)
class Summary:
    total: int
    in_sync: int
    drifted: int
    missing: int
    error: int
    unmanaged: int | None = None  # None: not looked for (no --unmanaged)


@dataclass(frozen=True)
class TrendPoint:
    """One run's counts, for the HTML report's trend chart (``--history``)."""

    started_at: str
    drifted: int
    missing: int
    error: int


@dataclass(frozen=True)
class RunResult:
    deployments: tuple[DeploymentResult, ...]
    started_at: dt.datetime
    finished_at: dt.datetime
    source: str = ""
    # Only with --unmanaged: None means "not looked for", which is not "none found".
    unmanaged: tuple[UnmanagedDeployment, ...] | None = None
    coverage: Coverage | None = None
    listing_error: ErrorInfo | None = None
    # Only with --baseline: each finding marked new or persisting, and what was resolved.
    marks: Marks | None = None
    fail_on: str = "any"  # "new": drift exits 2 only when something is new since the baseline
    # Only with --history: earlier runs and this one, oldest first (the HTML trend chart).
    trend: tuple[TrendPoint, ...] = ()

    @property
    def looked_for_unmanaged(self) -> bool:
        return self.unmanaged is not None or self.listing_error is not None

    @property
    def summary(self) -> Summary:
        counts = {status: 0 for status in Status}
        for deployment in self.deployments:
            counts[deployment.status] += 1
        return Summary(
            total=len(self.deployments),
            in_sync=counts[Status.IN_SYNC],
            drifted=counts[Status.DRIFTED],
            missing=counts[Status.MISSING],
            error=counts[Status.ERROR],
            unmanaged=None if self.unmanaged is None else len(self.unmanaged),
        )

    @property
    def exit_code(self) -> int:
        code = exit_code_for(d.status for d in self.deployments)
        if self.listing_error is not None:
            return EXIT_ERROR
        if code == EXIT_IN_SYNC and self.unmanaged:
            code = EXIT_DRIFT
        # --fail-on new only ever forgives known drift; errors still exit 1
        if code == EXIT_DRIFT and self.fail_on == "new" and self.marks is not None:
            return EXIT_DRIFT if self.marks.any_new else EXIT_IN_SYNC
        return code


def exit_code_for(statuses: Any) -> int:
    """Errors win over drift, drift wins over in sync: a gate never passes on partial data."""
    seen = set(statuses)
    if Status.ERROR in seen:
        return EXIT_ERROR
    if Status.DRIFTED in seen or Status.MISSING in seen:
        return EXIT_DRIFT
    return EXIT_IN_SYNC


def format_timestamp(moment: dt.datetime) -> str:
    """UTC, second precision, ``Z`` suffix: ``2026-11-27T04:00:00Z``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
