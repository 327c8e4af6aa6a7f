"""Per-deployment finding records: statuses, differences, errors, and the deployments a run
found beyond the declared ones. Below ``marks.py`` and ``result.py``, which build on them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
