"""Frozen result records: what a run found, before anything is printed.

Reporters only display a :class:`RunResult`; the exit code is decided here, in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

# The finding and mark records live in findings.py and marks.py; importing them from here
# keeps working, since a run's result is where readers look for them.
from driftcheck.findings import (
    MASKED,
    DeploymentResult,
    Difference,
    DiffKind,
    ErrorInfo,
    ErrorKind,
    Masked,
    Origin,
    RemovedDeployment,
    SourceLocation,
    Status,
    UnmanagedDeployment,
)
from driftcheck.marks import (
    BaselineEntry,
    EntryKey,
    EntryType,
    Mark,
    Marks,
    State,
    Unverified,
    deployment_entry_key,
)

__all__ = [
    "EXIT_DRIFT",
    "EXIT_ERROR",
    "EXIT_IN_SYNC",
    "MASKED",
    "BaselineEntry",
    "ChangeScope",
    "Coverage",
    "DeploymentResult",
    "DiffKind",
    "Difference",
    "EntryKey",
    "EntryType",
    "ErrorInfo",
    "ErrorKind",
    "FailOn",
    "IgnoreReport",
    "IgnoreStatus",
    "Mark",
    "Marks",
    "Masked",
    "Origin",
    "RemovedDeployment",
    "RunResult",
    "SourceLocation",
    "State",
    "Status",
    "Summary",
    "TrendPoint",
    "UnmanagedDeployment",
    "Unverified",
    "deployment_entry_key",
    "exit_code_for",
    "format_timestamp",
]

FailOn = Literal["any", "new"]

EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


@dataclass(frozen=True)
class ChangeScope:
    """What ``--changed-since REF`` selected."""

    ref: str
    unchanged: int  # declared deployments whose declaration did not change (not checked)
    checked_all: bool = False  # --all: the unchanged ones were checked too


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


class IgnoreStatus(str, Enum):
    ACTIVE = "active"
    EXPIRING = "expiring"  # until is at most 14 days away
    EXPIRED = "expired"  # until is over: silences nothing
    UNUSED = "unused"  # silenced nothing although all it could apply to was compared


@dataclass(frozen=True)
class IgnoreReport:
    """One ignore rule after a run: where it was written and what it did."""

    pattern: str
    file: str | None  # None: --ignore
    line: int | None
    reason: str | None
    owner: str | None
    until: dt.date | None
    status: IgnoreStatus
    silenced: int
    scope: str = ""  # which deployments it may apply to, in words

    @property
    def where(self) -> str:
        return "--ignore" if self.file is None else f"{self.file}:{self.line}"


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
    fail_on: FailOn = "any"  # "new": drift exits 2 only when something is new since the baseline
    live_from: str | None = None  # the snapshot read instead of the API (--live-from)
    version: str = ""  # the driftcheck version that made the run, for the reports to name
    ignores: tuple[IgnoreReport, ...] = ()  # every ignore rule of the run, with its status
    waited_s: float | None = None  # only with --wait
    # only with --changed-since
    changed_since: ChangeScope | None = None
    removed: tuple[RemovedDeployment, ...] | None = None
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


def exit_code_for(statuses: Iterable[Status]) -> int:
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
