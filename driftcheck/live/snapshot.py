"""Snapshot v1 files: the live source behind ``--live-from``, and the document
``driftcheck snapshot`` writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftcheck.digests import parse_salt
from driftcheck.files import TooLarge, read_bounded
from driftcheck.live.bodies import JsonProblem, parse_json
from driftcheck.live.records import (
    Collected,
    Failed,
    Fetched,
    Key,
    Listing,
    ListScope,
    NotFound,
    Outcome,
    Progress,
    SourceError,
    auth_error,
)
from driftcheck.result import ErrorInfo, ErrorKind

SNAPSHOT_VERSION = 1
MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024  # bounded: --live-from /dev/zero must not hang


class SnapshotSource:
    """Answers from a snapshot v1 file recorded by ``driftcheck snapshot``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.description = f"snapshot {path}"
        self.entries, self.complete, self.sensitive_salt = _read_snapshot(path)

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        outcomes = [self._lookup(key) for key in keys]
        if progress is not None:
            progress(len(keys), len(keys))
        if scope is None:
            return Collected(outcomes)
        if not self.complete:
            error = ErrorInfo(
                ErrorKind.SNAPSHOT,
                f"snapshot {self.path} holds only declared deployments; record it with "
                "'driftcheck snapshot --all' to look for unmanaged ones",
            )
            return Collected(outcomes, Listing([], scope, error))
        wanted = scope.model_instance_ids
        items = [
            body
            for (mi, _dep), (status, body) in self.entries.items()
            if status == 200 and isinstance(body, dict) and (wanted is None or mi in wanted)
        ]
        return Collected(outcomes, Listing(items, scope))

    def _lookup(self, key: Key) -> Outcome:
        entry = self.entries.get(key)
        if entry is None:
            return Failed(
                ErrorInfo(
                    ErrorKind.SNAPSHOT,
                    f"not recorded in snapshot {self.path}; record it again with "
                    "'driftcheck snapshot'",
                )
            )
        status, body = entry
        if status == 200:
            return Fetched(body, 200, attempts=0)
        if status == 404:
            if isinstance(body, dict):
                return NotFound(body, attempts=0)
            # what the API fetch would have called an error (a wrong base URL, a proxy):
            # a snapshot recorded before that rule, or edited, must not read as "missing"
            return Failed(
                ErrorInfo(
                    ErrorKind.SNAPSHOT,
                    f"HTTP 404 without the API's JSON object body (recorded in snapshot "
                    f"{self.path}); was it recorded with the right --base-url?",
                    404,
                )
            )
        if status in (401, 403):
            error = auth_error(status, 0)
            return Failed(
                ErrorInfo(error.kind, error.message + " (recorded in the snapshot)", status)
            )
        return Failed(
            ErrorInfo(ErrorKind.HTTP, f"HTTP {status} (recorded in the snapshot)", status)
        )


def _read_snapshot(path: str) -> tuple[dict[Key, tuple[int, Any]], bool, bytes | None]:
    try:
        raw = read_bounded(path, MAX_SNAPSHOT_BYTES)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read snapshot: {exc.strerror or exc}") from None
    except TooLarge:
        raise SourceError(f"{path}: snapshot is larger than {MAX_SNAPSHOT_BYTES} bytes") from None
    try:
        # as strict as a live body: a NaN must not compare, or print, like a number
        data = parse_json(raw)
    except JsonProblem as exc:
        raise SourceError(f"{path}: not a JSON snapshot: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"{path}: a snapshot must be a JSON object")
    version = data.get("snapshot_version")
    if version != SNAPSHOT_VERSION or isinstance(version, bool):
        raise SourceError(
            f"{path}: unsupported snapshot_version {version!r} "
            f"(this driftcheck reads version {SNAPSHOT_VERSION})"
        )
    items = data.get("deployments")
    if not isinstance(items, list):
        raise SourceError(f"{path}: 'deployments' must be a list")
    try:  # sensitive values are recorded as HMACs keyed by this salt
        salt = parse_salt(data.get("sensitive_salt"))
    except ValueError as exc:
        raise SourceError(f"{path}: {exc}") from None
    entries: dict[Key, tuple[int, Any]] = {}
    for index, item in enumerate(items):
        where = f"{path}: deployments[{index}]"
        if not isinstance(item, dict):
            raise SourceError(f"{where}: expected an object")
        mi, dep, status = (
            item.get("model_instance_id"),
            item.get("deployment_id"),
            item.get("http_status"),
        )
        if not isinstance(mi, str) or not isinstance(dep, str):
            raise SourceError(f"{where}: model_instance_id and deployment_id must be strings")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise SourceError(f"{where}: http_status must be an HTTP status code")
        if (mi, dep) in entries:
            raise SourceError(f"{where}: {mi}/{dep} is recorded twice")
        entries[(mi, dep)] = (status, item.get("body"))
    # recorded with --all: every live deployment of the account is in it
    return entries, data.get("all") is True, salt


def snapshot_document(
    source: str, keys: Sequence[Key], outcomes: Sequence[Outcome], captured_at: str
) -> dict[str, Any]:
    """Snapshot v1 of what was fetched; failures are left out (they read back as errors)."""
    deployments = []
    for (mi, dep), outcome in zip(keys, outcomes, strict=True):
        if isinstance(outcome, Fetched):
            status, body = outcome.http_status, outcome.body
        elif isinstance(outcome, NotFound):
            status, body = (
                404,
                outcome.body if outcome.body is not None else {"detail": "Not Found"},
            )
        else:
            continue
        deployments.append(
            {"model_instance_id": mi, "deployment_id": dep, "http_status": status, "body": body}
        )
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "captured_at": captured_at,
        "source": source,
        "deployments": deployments,
    }
