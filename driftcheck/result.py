"""Frozen result records: what a run found, before anything is printed.

Reporters only display a :class:`RunResult`; the exit code is decided here, in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal


class Status(str, Enum):
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    ERROR = "error"


class DiffKind(str, Enum):
    CHANGED = "changed"
    MISSING_LIVE = "missing_live"  # declared, absent live
    EXTRA_LIVE = "extra_live"  # live has it, the manifest leaves it out (--strict)


class Origin(str, Enum):
    """With ``--changed-since``: whether a finding comes from the change under review."""

    THIS_CHANGE = "this_change"  # the change moves desired away from what live has
    PRE_EXISTING = "pre_existing"  # live already differed from the desired state at REF


class ErrorKind(str, Enum):
    AUTH = "auth"
    NOT_PERMITTED = "not_permitted"
    NETWORK = "network"
    TIMEOUT = "timeout"
    HTTP = "http"
    INVALID_RESPONSE = "invalid_response"
    SNAPSHOT = "snapshot"


FailOn = Literal["any", "new"]

EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


@dataclass(frozen=True)
class SourceLocation:
    file: str
    line: int


class Masked(Mapping[str, bool]):
    """Stands in for a sensitive value (see sensitive.py): JSON writes it as
    ``{"sensitive": true}``, text as ``(sensitive)``; a reporter cannot show what it never got."""

    def __getitem__(self, key: str) -> bool:
        if key != "sensitive":
            raise KeyError(key)
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(("sensitive",))

    def __len__(self) -> int:
        return 1

    def __str__(self) -> str:
        return "(sensitive)"

    __repr__ = __str__


MASKED = Masked()


@dataclass(frozen=True)
class Difference:
    """One reported difference. ``desired``/``live`` are raw values, before normalization
    (:data:`MASKED` when ``sensitive``, once the run is masked).

    ``path`` is the dotted display spelling; ``segments`` the same path as keys and list
    indices, which stays unambiguous when a key contains a dot (filled from ``path`` when a
    record is built without it). ``note`` says why it is reported although an ignore named it.
    """

    path: str
    kind: DiffKind
    desired: Any
    live: Any
    line: int
    origin: Origin | None = None  # only with --changed-since
    segments: tuple[str | int, ...] = ()
    note: str | None = None
    # with environments: the file of ``line`` (an override, the base, or a `vars` entry)
    file: str | None = None
    sensitive: bool = False

    def __post_init__(self) -> None:
        if not self.segments:
            object.__setattr__(self, "segments", tuple(self.path.split(".")))


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
    checks: int | None = None  # only with --wait: how many times it was fetched
    origin: Origin | None = None  # only with --changed-since, for a missing deployment
    environment: str | None = None  # with environments: which one this deployment was in

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
    environment: str | None = None  # with environments: whose account listed it

    @property
    def key(self) -> str:
        return f"{self.model_instance_id or '?'}/{self.deployment_id}"

    @property
    def label(self) -> str:
        label = f"{self.name} ({self.key})" if self.name else self.key
        return label if self.environment is None else f"{label} in {self.environment}"


@dataclass(frozen=True)
class RemovedDeployment:
    """Declared at the ``--changed-since`` REF, no longer declared: what live still has."""

    model_instance_id: str
    deployment_id: str
    name: str | None
    live_status: str | None  # the API's status; None when it could not be read
    found: bool = True  # False: the API answered 404
    error: ErrorInfo | None = None
    environment: str | None = None  # with environments: where it was declared at REF

    @property
    def key(self) -> str:
        return f"{self.model_instance_id}/{self.deployment_id}"

    @property
    def label(self) -> str:
        label = f"{self.name} ({self.key})" if self.name else self.key
        return label if self.environment is None else f"{label} in {self.environment}"


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


# ---------------------------------------------------------------------------------------------
# Marks (--baseline): every finding of this run marked new or persisting, and what went.
# They live here, below both baseline.py (which computes them) and the reporters.


class EntryType(str, Enum):
    DIFFERENCE = "difference"
    MISSING = "missing"
    ERROR = "error"
    UNMANAGED = "unmanaged"


class State(str, Enum):
    NEW = "new"
    PERSISTING = "persisting"


@dataclass(frozen=True)
class EntryKey:
    """The identity of one finding across runs. Kinds are kept as their string values:
    a ``str`` enum member does not hash like its value, and baselines hold plain strings."""

    type: EntryType
    model_instance_id: str | None  # None only for an unmanaged deployment listed without one
    deployment_id: str
    path: str | None = None
    kind: str | None = None  # the difference kind, or the error kind
    # with environments: the same ids in staging and prod are two deployments' findings
    environment: str | None = None

    @classmethod
    def difference(
        cls,
        model_instance_id: str,
        deployment_id: str,
        path: str,
        kind: DiffKind | str,
        environment: str | None = None,
    ) -> EntryKey:
        value = kind.value if isinstance(kind, DiffKind) else kind
        return cls(EntryType.DIFFERENCE, model_instance_id, deployment_id, path, value, environment)

    @classmethod
    def missing(
        cls, model_instance_id: str, deployment_id: str, environment: str | None = None
    ) -> EntryKey:
        return cls(EntryType.MISSING, model_instance_id, deployment_id, environment=environment)

    @classmethod
    def error(
        cls,
        model_instance_id: str,
        deployment_id: str,
        kind: Enum | str,
        environment: str | None = None,
    ) -> EntryKey:
        value = kind.value if isinstance(kind, Enum) else kind
        return cls(
            EntryType.ERROR,
            model_instance_id,
            deployment_id,
            kind=str(value),
            environment=environment,
        )

    @classmethod
    def unmanaged(cls, model_instance_id: str | None, deployment_id: str) -> EntryKey:
        return cls(EntryType.UNMANAGED, model_instance_id, deployment_id)

    @property
    def deployment(self) -> tuple[str | None, str]:
        return (self.model_instance_id, self.deployment_id)


@dataclass(frozen=True)
class BaselineEntry:
    """One finding of the baseline run, with what a report needs to show it as resolved."""

    key: EntryKey
    first_seen: str
    name: str | None = None
    desired: Any = None
    live: Any = None
    message: str | None = None  # an error's message


@dataclass(frozen=True)
class Mark:
    state: State
    first_seen: str

    @property
    def is_new(self) -> bool:
        return self.state is State.NEW


@dataclass(frozen=True)
class Unverified:
    """A baseline entry this run could neither confirm nor rule out, and why."""

    entry: BaselineEntry
    reason: str


@dataclass(frozen=True)
class Marks:
    """Every entry of the current run with its mark, and the baseline entries now gone."""

    baseline_path: str
    baseline_started_at: str
    marks: Mapping[EntryKey, Mark]
    resolved: tuple[BaselineEntry, ...]
    unverified: tuple[Unverified, ...] = ()

    def difference(
        self,
        model_instance_id: str,
        deployment_id: str,
        path: str,
        kind: DiffKind | str,
        environment: str | None = None,
    ) -> Mark | None:
        key = EntryKey.difference(model_instance_id, deployment_id, path, kind, environment)
        return self.marks.get(key)

    def of_difference(self, deployment: DeploymentResult, diff: Difference) -> Mark | None:
        return self.difference(
            deployment.model_instance_id,
            deployment.deployment_id,
            diff.path,
            diff.kind,
            deployment.environment,
        )

    def of_deployment(self, deployment: DeploymentResult) -> Mark | None:
        """The mark of a ``missing`` or ``error`` deployment (None for other statuses)."""
        key = deployment_entry_key(deployment)
        return self.marks.get(key) if key is not None else None

    def unmanaged(self, model_instance_id: str | None, deployment_id: str) -> Mark | None:
        return self.marks.get(EntryKey.unmanaged(model_instance_id, deployment_id))

    @property
    def any_new(self) -> bool:
        return any(mark.is_new for mark in self.marks.values())

    @property
    def counts(self) -> dict[str, int]:
        new = sum(1 for mark in self.marks.values() if mark.is_new)
        return {
            "new": new,
            "persisting": len(self.marks) - new,
            "resolved": len(self.resolved),
            "unverified": len(self.unverified),
        }


def deployment_entry_key(deployment: DeploymentResult) -> EntryKey | None:
    mi, dep = deployment.model_instance_id, deployment.deployment_id
    if deployment.status is Status.MISSING:
        return EntryKey.missing(mi, dep, deployment.environment)
    if deployment.status is Status.ERROR:
        kind = deployment.error.kind.value if deployment.error is not None else "unknown"
        return EntryKey.error(mi, dep, kind, deployment.environment)
    return None
