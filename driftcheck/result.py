"""Frozen result records: what a run found, before anything is printed.

Reporters only display a :class:`RunResult`; the exit code is decided here, in one place.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any


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

    @property
    def key(self) -> str:
        return f"{self.model_instance_id}/{self.deployment_id}"

    @property
    def label(self) -> str:
        """``name (mi/dep)`` when a name is known, else ``mi/dep``."""
        return f"{self.name} ({self.key})" if self.name else self.key


@dataclass(frozen=True)
class Summary:
    total: int
    in_sync: int
    drifted: int
    missing: int
    error: int


@dataclass(frozen=True)
class RunResult:
    deployments: tuple[DeploymentResult, ...]
    started_at: dt.datetime
    finished_at: dt.datetime
    source: str = ""

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
        )

    @property
    def exit_code(self) -> int:
        return exit_code_for(d.status for d in self.deployments)


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
