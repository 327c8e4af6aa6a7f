"""Marks (--baseline): every finding of this run marked new or persisting, and what went.

They live here, below both baseline.py (which computes them) and the reporters, and above the
finding records they point at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from driftcheck.findings import DeploymentResult, Difference, DiffKind, Status


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
