"""``check --baseline PREVIOUS.json``: what is new since the last run, what persists, what went.

A nightly audit that repeats the same known drift every night stops being read. Comparing a
run with the previous JSON report marks every finding (*entry*) of this run ``new`` or
``persisting`` (with the ``first_seen`` time carried over), and lists the baseline's entries
that are gone as ``resolved``.

Entry identity:

=============  ==============================================
difference     (model_instance_id, deployment_id, path, kind)
missing        (model_instance_id, deployment_id)
error          (model_instance_id, deployment_id, error kind)
unmanaged      (model_instance_id, deployment_id)
=============  ==============================================

"Gone" must mean "checked and not found": an entry of a deployment that this run could not
check (it is now an ``error``, or no manifest declares it any more), or an unmanaged entry when
this run did not list the live deployments, is *unverified*, not resolved. Unverified entries
are written into the new report and read back from it, so one transient failure neither
claims a fix nor makes old drift look new the night after.

Everything here is pure: reading the file is the only side effect, and it never degrades to
an empty baseline. A file that is not a driftcheck JSON report v1 is a :class:`BaselineError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from driftcheck.errors import DriftcheckError
from driftcheck.files import TooLarge, read_bounded
from driftcheck.reporters.json import (
    FIRST_SEEN_FIELD,
    REPORT_VERSION,
    SECTION_FIELD,
)
from driftcheck.result import (
    BaselineEntry,
    DeploymentResult,
    DiffKind,
    EntryKey,
    EntryType,
    Mark,
    Marks,
    State,
    Status,
    UnmanagedDeployment,
    Unverified,
    deployment_entry_key,
)

MAX_BASELINE_BYTES = 256 * 1024 * 1024  # a report of 100,000 deployments is well below this


class BaselineError(DriftcheckError):
    """The baseline cannot be used; the run must stop (exit 1), never go on without it."""


@dataclass(frozen=True)
class Baseline:
    path: str
    started_at: str
    entries: Mapping[EntryKey, BaselineEntry] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Marking


def current_entries(
    deployments: Sequence[DeploymentResult], unmanaged: Sequence[UnmanagedDeployment] | None
) -> list[EntryKey]:
    """The entries of a run, in report order (``unmanaged`` is None when it did not look)."""
    keys: list[EntryKey] = []
    for deployment in deployments:
        if deployment.status is Status.DRIFTED:
            keys.extend(
                EntryKey.difference(
                    deployment.model_instance_id,
                    deployment.deployment_id,
                    d.path,
                    d.kind,
                    deployment.environment,
                )
                for d in deployment.differences
            )
        else:
            key = deployment_entry_key(deployment)
            if key is not None:
                keys.append(key)
    keys.extend(EntryKey.unmanaged(u.model_instance_id, u.deployment_id) for u in unmanaged or ())
    return keys


def mark(
    deployments: Sequence[DeploymentResult],
    unmanaged: Sequence[UnmanagedDeployment] | None,
    baseline: Baseline,
    now: str,
) -> Marks:
    """Mark a run's entries against ``baseline``; ``now`` is the first_seen of new ones
    (this run's start, as the report writes it). The engine calls this before it builds the
    run's result, so the result is complete when it is made."""
    marks: dict[EntryKey, Mark] = {}
    for key in current_entries(deployments, unmanaged):
        previous = baseline.entries.get(key)
        if previous is None:
            marks[key] = Mark(State.NEW, now)
        else:
            marks[key] = Mark(State.PERSISTING, previous.first_seen)

    statuses = {
        (d.environment, d.model_instance_id, d.deployment_id): d.status for d in deployments
    }
    listed = unmanaged is not None
    resolved: list[BaselineEntry] = []
    unverified: list[Unverified] = []
    for key, entry in baseline.entries.items():
        if key in marks:
            continue
        reason = _unverified_reason(key, statuses, listed)
        if reason is None:
            resolved.append(entry)
        else:
            unverified.append(Unverified(entry, reason))
    return Marks(
        baseline_path=baseline.path,
        baseline_started_at=baseline.started_at,
        marks=marks,
        resolved=tuple(resolved),
        unverified=tuple(unverified),
    )


def _unverified_reason(
    key: EntryKey, statuses: Mapping[tuple[str | None, str, str], Status], listed: bool
) -> str | None:
    """Why an entry absent from this run is not known to be resolved (None: it is)."""
    if key.type is EntryType.UNMANAGED:
        return None if listed else "this run did not list the live deployments"
    status = statuses.get((key.environment, key.model_instance_id or "", key.deployment_id))
    if status is None:
        return "no manifest declares this deployment any more"
    # An error entry is about the check itself: any other outcome now replaces it.
    if status is Status.ERROR and key.type is not EntryType.ERROR:
        return "the deployment could not be checked in this run"
    return None


# ---------------------------------------------------------------------------------------------
# Reading a report back


def load_baseline(path: str) -> Baseline:
    try:
        raw = read_bounded(path, MAX_BASELINE_BYTES)
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except TooLarge:
        raise BaselineError(f"baseline {path} is larger than {MAX_BASELINE_BYTES} bytes") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BaselineError(
            f"baseline {path} is not valid JSON ({exc}); pass a report written by "
            "'driftcheck check --format json' or '--report json=PATH'"
        ) from None
    return parse_baseline(data, path)


def parse_baseline(data: Any, path: str) -> Baseline:
    reader = _Reader(path)
    if not isinstance(data, dict):
        reader.fail("", "expected a JSON object (a driftcheck JSON report)")
    version = data.get("report_version")
    if version is None:
        hint = (
            " (this looks like a snapshot: pass it to --live-from instead)"
            if "snapshot_version" in data
            else ""
        )
        reader.fail("", f"not a driftcheck JSON report: no report_version{hint}")
    if isinstance(version, bool) or version != REPORT_VERSION:
        reader.fail(
            "",
            f"report_version {version!r} is not supported (this driftcheck reads "
            f"report_version {REPORT_VERSION}); use a report written by this version",
        )
    started_at = reader.text(data, "started_at", "")
    entries: dict[EntryKey, BaselineEntry] = {}

    def add(entry: BaselineEntry) -> None:
        entries.setdefault(entry.key, entry)  # a hand-edited duplicate: the first one counts

    for index, item in enumerate(reader.items(data, "deployments", "", required=True)):
        for entry in reader.deployment(item, f"deployments[{index}]", started_at):
            add(entry)
    for index, item in enumerate(reader.items(data, "unmanaged", "")):
        add(reader.unmanaged(item, f"unmanaged[{index}]", started_at))
    section = data.get(SECTION_FIELD)
    if section is not None:
        if not isinstance(section, dict):
            reader.fail(SECTION_FIELD, "expected an object")
        for index, item in enumerate(reader.items(section, "unverified", SECTION_FIELD)):
            add(reader.entry(item, f"{SECTION_FIELD}.unverified[{index}]", started_at))
    return Baseline(path, started_at, entries)


class _Reader:
    """Checks a report's shape as it reads it; every complaint names the offending place."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> NoReturn:
        place = f" at {where}" if where else ""
        raise BaselineError(f"baseline {self.path} is not a usable report{place}: {message}")

    def text(self, data: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
        value = data.get(key)
        if isinstance(value, str) and (value or nullable):
            return value
        if value is None and nullable:
            return None
        self.fail(_join(where, key), "expected a non-empty string")

    def items(
        self, data: dict[str, Any], key: str, where: str, *, required: bool = False
    ) -> list[dict[str, Any]]:
        value = data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.fail(_join(where, key), "expected a list")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(f"{_join(where, key)}[{index}]", "expected an object")
        return value

    def first_seen(self, data: dict[str, Any], where: str, default: str) -> str:
        if data.get(FIRST_SEEN_FIELD) is None:
            return default
        value: str = self.text(data, FIRST_SEEN_FIELD, where)
        return value

    def deployment(self, item: dict[str, Any], where: str, started_at: str) -> list[BaselineEntry]:
        mi = self.text(item, "model_instance_id", where)
        dep = self.text(item, "deployment_id", where)
        name = self.text(item, "name", where, nullable=True)
        env = _environment(item)
        status = item.get("status")
        if status not in {s.value for s in Status}:
            self.fail(_join(where, "status"), f"unknown status {status!r}")
        found: list[BaselineEntry] = []
        for index, diff in enumerate(self.items(item, "differences", where)):
            place = f"{where}.differences[{index}]"
            kind = diff.get("kind")
            if kind not in {k.value for k in DiffKind}:
                self.fail(_join(place, "kind"), f"unknown difference kind {kind!r}")
            found.append(
                BaselineEntry(
                    EntryKey.difference(mi, dep, self.text(diff, "path", place), kind, env),
                    self.first_seen(diff, place, started_at),
                    name,
                    desired=diff.get("desired"),
                    live=diff.get("live"),
                )
            )
        first_seen = self.first_seen(item, where, started_at)
        if status == Status.MISSING.value:
            found.append(BaselineEntry(EntryKey.missing(mi, dep, env), first_seen, name))
        elif status == Status.ERROR.value:
            error = item.get("error")
            if not isinstance(error, dict):
                self.fail(_join(where, "error"), "an error deployment needs an error object")
            place = _join(where, "error")
            kind = self.text(error, "kind", place)
            message = self.text(error, "message", place, nullable=True)
            found.append(
                BaselineEntry(EntryKey.error(mi, dep, kind, env), first_seen, name, message=message)
            )
        return found

    def unmanaged(self, item: dict[str, Any], where: str, started_at: str) -> BaselineEntry:
        mi = self.text(item, "model_instance_id", where, nullable=True)
        dep = self.text(item, "deployment_id", where)
        name = self.text(item, "name", where, nullable=True)
        first_seen = self.first_seen(item, where, started_at)
        return BaselineEntry(EntryKey.unmanaged(mi, dep), first_seen, name)

    def entry(self, item: dict[str, Any], where: str, started_at: str) -> BaselineEntry:
        """An entry as :func:`entry_json` wrote it (carried-over unverified entries)."""
        type_ = item.get("type")
        if type_ not in {t.value for t in EntryType}:
            self.fail(_join(where, "type"), f"unknown entry type {type_!r}")
        entry_type = EntryType(type_)
        nullable_mi = entry_type is EntryType.UNMANAGED
        mi = self.text(item, "model_instance_id", where, nullable=nullable_mi)
        dep = self.text(item, "deployment_id", where)
        name = self.text(item, "name", where, nullable=True)
        first_seen = self.first_seen(item, where, started_at)
        env = _environment(item)
        if entry_type is EntryType.DIFFERENCE:
            kind = item.get("kind")
            if kind not in {k.value for k in DiffKind}:
                self.fail(_join(where, "kind"), f"unknown difference kind {kind!r}")
            key = EntryKey.difference(mi, dep, self.text(item, "path", where), kind, env)
            return BaselineEntry(
                key, first_seen, name, desired=item.get("desired"), live=item.get("live")
            )
        if entry_type is EntryType.ERROR:
            key = EntryKey.error(mi, dep, self.text(item, "kind", where), env)
            message = self.text(item, "message", where, nullable=True)
            return BaselineEntry(key, first_seen, name, message=message)
        if entry_type is EntryType.MISSING:
            return BaselineEntry(EntryKey.missing(mi, dep, env), first_seen, name)
        return BaselineEntry(EntryKey.unmanaged(mi, dep), first_seen, name)


def _environment(item: dict[str, Any]) -> str | None:
    """The entry's environment (reports of a set with environments), else None."""
    value = item.get("environment")
    return value if isinstance(value, str) else None


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
