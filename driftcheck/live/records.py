"""What a live source answers: one outcome per deployment, and optionally a listing.

A failure to fetch never turns into anything else: the engine maps it to ``error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from driftcheck.errors import DriftcheckError
from driftcheck.result import ErrorInfo, ErrorKind

Key = tuple[str, str]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Fetched:
    body: Any
    http_status: int = 200
    attempts: int = 1


@dataclass(frozen=True)
class NotFound:
    body: Any = None
    attempts: int = 1


@dataclass(frozen=True)
class Failed:
    error: ErrorInfo


Outcome = Fetched | NotFound | Failed


@dataclass(frozen=True)
class ListScope:
    """Which live deployments to list: the whole account, or some model instances."""

    model_instance_ids: tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.model_instance_ids is None:
            return "account"
        return "model instances " + ", ".join(self.model_instance_ids)


@dataclass(frozen=True)
class Listing:
    items: list[dict[str, Any]]
    scope: ListScope
    error: ErrorInfo | None = None


@dataclass(frozen=True)
class Collected:
    outcomes: list[Outcome]
    listing: Listing | None = None


class SourceError(DriftcheckError):
    """The source cannot be used at all (bad settings, unreadable snapshot): exit 1."""


class LiveSource(Protocol):
    """What the engine needs from a source (``ApiSource``, ``SnapshotSource``)."""

    description: str

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected: ...


AUTH_HINT = {
    ErrorKind.AUTH: "the API key was rejected; check SGP_API_KEY or --api-key-file",
    ErrorKind.NOT_PERMITTED: (
        "the key may not read this deployment; check SGP_ACCOUNT_ID / --account-id "
        "and the key's permissions"
    ),
}


def auth_error(status: int, attempts: int) -> ErrorInfo:
    kind = ErrorKind.AUTH if status == 401 else ErrorKind.NOT_PERMITTED
    return ErrorInfo(
        kind, f"HTTP {status}: {AUTH_HINT[kind]}", http_status=status, attempts=attempts
    )
