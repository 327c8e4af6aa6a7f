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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NoReturn

from driftcheck.errors import DriftcheckError
from driftcheck.result import (
    DeploymentResult,
    Difference,
    DiffKind,
    RunResult,
    Status,
)

REPORT_VERSION = 1
MAX_BASELINE_BYTES = 256 * 1024 * 1024  # a report of 100,000 deployments is well below this
# Names of the fields the JSON report gains (additively) when a baseline is given.
STATE_FIELD = "state"
FIRST_SEEN_FIELD = "first_seen"
SECTION_FIELD = "baseline"


class BaselineError(DriftcheckError):
    """The baseline cannot be used; the run must stop (exit 1), never go on without it."""


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

    @classmethod
    def difference(
        cls, model_instance_id: str, deployment_id: str, path: str, kind: DiffKind | str
    ) -> EntryKey:
        value = kind.value if isinstance(kind, DiffKind) else kind
        return cls(EntryType.DIFFERENCE, model_instance_id, deployment_id, path, value)

    @classmethod
    def missing(cls, model_instance_id: str, deployment_id: str) -> EntryKey:
        return cls(EntryType.MISSING, model_instance_id, deployment_id)

    @classmethod
    def error(cls, model_instance_id: str, deployment_id: str, kind: Enum | str) -> EntryKey:
        value = kind.value if isinstance(kind, Enum) else kind
        return cls(EntryType.ERROR, model_instance_id, deployment_id, kind=str(value))

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
class Baseline:
    path: str
    started_at: str
    entries: Mapping[EntryKey, BaselineEntry] = field(default_factory=dict)


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

    def get(self, key: EntryKey) -> Mark | None:
        return self.marks.get(key)

    def difference(
        self, model_instance_id: str, deployment_id: str, path: str, kind: DiffKind | str
    ) -> Mark | None:
        return self.marks.get(EntryKey.difference(model_instance_id, deployment_id, path, kind))

    def of_difference(self, deployment: DeploymentResult, diff: Difference) -> Mark | None:
        return self.difference(
            deployment.model_instance_id, deployment.deployment_id, diff.path, diff.kind
        )

    def of_deployment(self, deployment: DeploymentResult) -> Mark | None:
        """The mark of a ``missing`` or ``error`` deployment (None for other statuses)."""
        key = _deployment_key(deployment)
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


# ---------------------------------------------------------------------------------------------
# Marking


def current_entries(result: RunResult) -> list[EntryKey]:
    """The entries of a run, in report order."""
    keys: list[EntryKey] = []
    for deployment in result.deployments:
        if deployment.status is Status.DRIFTED:
            keys.extend(
                EntryKey.difference(
                    deployment.model_instance_id, deployment.deployment_id, d.path, d.kind
                )
                for d in deployment.differences
            )
        else:
            key = _deployment_key(deployment)
            if key is not None:
                keys.append(key)
    keys.extend(EntryKey.unmanaged(mi, dep) for mi, dep in _unmanaged(result) or ())
    return keys


def mark(result: RunResult, baseline: Baseline, now: str) -> Marks:
    """Mark this run's entries against ``baseline``; ``now`` is the first_seen of new ones
    (this run's start, as the report writes it)."""
    marks: dict[EntryKey, Mark] = {}
    for key in current_entries(result):
        previous = baseline.entries.get(key)
        if previous is None:
            marks[key] = Mark(State.NEW, now)
        else:
            marks[key] = Mark(State.PERSISTING, previous.first_seen)

    statuses = {(d.model_instance_id, d.deployment_id): d.status for d in result.deployments}
    listed = _unmanaged(result) is not None
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


def has_new(marks: Marks, types: Iterable[EntryType] | None = None) -> bool:
    """Whether anything (of ``types``, default every type) is new since the baseline."""
    wanted = set(EntryType) if types is None else set(types)
    return any(m.is_new and k.type in wanted for k, m in marks.marks.items())


def _deployment_key(deployment: DeploymentResult) -> EntryKey | None:
    mi, dep = deployment.model_instance_id, deployment.deployment_id
    if deployment.status is Status.MISSING:
        return EntryKey.missing(mi, dep)
    if deployment.status is Status.ERROR:
        kind = deployment.error.kind.value if deployment.error is not None else "unknown"
        return EntryKey.error(mi, dep, kind)
    return None


def _unmanaged(result: RunResult) -> list[tuple[str | None, str]] | None:
    """The run's unmanaged deployments; None when it did not list the live set.

    Read defensively: ``RunResult.unmanaged`` belongs to the ``--unmanaged`` feature, and a
    result without it simply did not look.
    """
    found = getattr(result, "unmanaged", None)
    if found is None:
        return None
    return [(entry.model_instance_id, entry.deployment_id) for entry in found]


def _unverified_reason(
    key: EntryKey, statuses: Mapping[tuple[str, str], Status], listed: bool
) -> str | None:
    """Why an entry absent from this run is not known to be resolved (None: it is)."""
    if key.type is EntryType.UNMANAGED:
        return None if listed else "this run did not list the live deployments"
    status = statuses.get((key.model_instance_id or "", key.deployment_id))
    if status is None:
        return "no manifest declares this deployment any more"
    # An error entry is about the check itself: any other outcome now replaces it.
    if status is Status.ERROR and key.type is not EntryType.ERROR:
        return "the deployment could not be checked in this run"
    return None


# ---------------------------------------------------------------------------------------------
# JSON: the fields the report gains, and reading them back


def mark_fields(mark_: Mark | None) -> dict[str, Any]:
    """Fields added to a difference, a missing/error deployment or an unmanaged entry."""
    if mark_ is None:
        return {}
    return {STATE_FIELD: mark_.state.value, FIRST_SEEN_FIELD: mark_.first_seen}


def report_section(marks: Marks) -> dict[str, Any]:
    """The report's top-level ``baseline`` object (the resolved entries are listed beside it,
    in the report's top-level ``resolved``)."""
    return {
        "file": marks.baseline_path,
        "started_at": marks.baseline_started_at,
        "counts": marks.counts,
        "unverified": [
            {**entry_json(item.entry), "reason": item.reason} for item in marks.unverified
        ],
    }


def entry_json(entry: BaselineEntry) -> dict[str, Any]:
    key = entry.key
    data: dict[str, Any] = {
        "type": key.type.value,
        "model_instance_id": key.model_instance_id,
        "deployment_id": key.deployment_id,
        "name": entry.name,
    }
    if key.type is EntryType.DIFFERENCE:
        data.update(path=key.path, kind=key.kind, desired=entry.desired, live=entry.live)
    elif key.type is EntryType.ERROR:
        data.update(kind=key.kind, message=entry.message)
    data[FIRST_SEEN_FIELD] = entry.first_seen
    return data


def load_baseline(path: str) -> Baseline:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BASELINE_BYTES + 1)
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise BaselineError(f"baseline {path} is larger than {MAX_BASELINE_BYTES} bytes")
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
                    EntryKey.difference(mi, dep, self.text(diff, "path", place), kind),
                    self.first_seen(diff, place, started_at),
                    name,
                    desired=diff.get("desired"),
                    live=diff.get("live"),
                )
            )
        first_seen = self.first_seen(item, where, started_at)
        if status == Status.MISSING.value:
            found.append(BaselineEntry(EntryKey.missing(mi, dep), first_seen, name))
        elif status == Status.ERROR.value:
            error = item.get("error")
            if not isinstance(error, dict):
                self.fail(_join(where, "error"), "an error deployment needs an error object")
            place = _join(where, "error")
            kind = self.text(error, "kind", place)
            message = self.text(error, "message", place, nullable=True)
            found.append(
                BaselineEntry(EntryKey.error(mi, dep, kind), first_seen, name, message=message)
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
        if entry_type is EntryType.DIFFERENCE:
            kind = item.get("kind")
            if kind not in {k.value for k in DiffKind}:
                self.fail(_join(where, "kind"), f"unknown difference kind {kind!r}")
            key = EntryKey.difference(mi, dep, self.text(item, "path", where), kind)
            return BaselineEntry(
                key, first_seen, name, desired=item.get("desired"), live=item.get("live")
            )
        if entry_type is EntryType.ERROR:
            key = EntryKey.error(mi, dep, self.text(item, "kind", where))
            message = self.text(item, "message", where, nullable=True)
            return BaselineEntry(key, first_seen, name, message=message)
        if entry_type is EntryType.MISSING:
            return BaselineEntry(EntryKey.missing(mi, dep), first_seen, name)
        return BaselineEntry(EntryKey.unmanaged(mi, dep), first_seen, name)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
