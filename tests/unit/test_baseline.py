"""``--baseline``: new / persisting / resolved across consecutive runs, and refusing bad files.

Each run's report is the real JSON report plus the fields :mod:`driftcheck.baseline` defines
for it (``report_with_marks`` below does what the JSON reporter does once it is wired), so the
tests exercise the same file format a nightly audit feeds back in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from driftcheck import baseline as bl
from driftcheck.baseline import Baseline, BaselineError, load_baseline, mark
from driftcheck.reporters import json as json_reporter
from driftcheck.result import (
    BaselineEntry,
    DeploymentResult,
    Difference,
    DiffKind,
    EntryKey,
    EntryType,
    ErrorInfo,
    ErrorKind,
    Mark,
    Marks,
    RunResult,
    SourceLocation,
    State,
    Status,
    format_timestamp,
)

DAY1 = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)
DAY2 = DAY1 + dt.timedelta(days=1)
DAY3 = DAY2 + dt.timedelta(days=1)
DAY4 = DAY3 + dt.timedelta(days=1)
T1, T2, T3, T4 = (format_timestamp(day) for day in (DAY1, DAY2, DAY3, DAY4))
WHERE = SourceLocation("manifests/prod.yaml", 3)


@dataclasses.dataclass(frozen=True)
class Listed:
    model_instance_id: str | None
    deployment_id: str
    name: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    environment: str | None = None

    @property
    def key(self) -> str:
        return f"{self.model_instance_id or '?'}/{self.deployment_id}"

    @property
    def label(self) -> str:
        return self.key


@dataclasses.dataclass(frozen=True)
class ResultWithUnmanaged(RunResult):
    """A run that listed the live deployments (``--unmanaged``)."""

    unmanaged: tuple[Any, ...] | None = None


def workers(desired: int = 4, live: int = 2) -> Difference:
    return Difference("vendor_configuration.max_workers", DiffKind.CHANGED, desired, live, 9)


def memory() -> Difference:
    return Difference("vendor_configuration.memory", DiffKind.CHANGED, "64Gi", "32Gi", 10)


def drifted(dep: str, *diffs: Difference) -> DeploymentResult:
    return DeploymentResult("mi_1", dep, f"name-{dep}", WHERE, Status.DRIFTED, differences=diffs)


def in_sync(dep: str) -> DeploymentResult:
    return DeploymentResult("mi_1", dep, f"name-{dep}", WHERE, Status.IN_SYNC)


def missing(dep: str) -> DeploymentResult:
    return DeploymentResult("mi_1", dep, f"name-{dep}", WHERE, Status.MISSING)


def error(dep: str, kind: ErrorKind = ErrorKind.HTTP) -> DeploymentResult:
    info = ErrorInfo(kind, "HTTP 503 after 3 retries", 503)
    return DeploymentResult("mi_1", dep, f"name-{dep}", WHERE, Status.ERROR, error=info)


def run(day: dt.datetime, *deployments: DeploymentResult) -> RunResult:
    return RunResult(deployments, day, day + dt.timedelta(seconds=2))


def report_with_marks(result: RunResult, marks: Marks | None) -> dict[str, Any]:
    """The JSON report the real reporter writes for a run marked against a baseline."""
    report: dict[str, Any] = json.loads(json_reporter.render(replace(result, marks=marks)))
    return report


def save(tmp_path: Path, name: str, report: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return str(path)


def audit(
    tmp_path: Path, name: str, result: RunResult, previous: str | None
) -> tuple[Marks | None, str]:
    """One nightly run: mark against the previous report, write this run's report."""
    marks = None
    if previous is not None:
        marks = mark(
            result.deployments,
            result.unmanaged,
            load_baseline(previous),
            format_timestamp(result.started_at),
        )
    return marks, save(tmp_path, name, report_with_marks(result, marks))


# ---------------------------------------------------------------------------------------------
# Three consecutive runs


def test_new_then_persisting_then_resolved(tmp_path: Path) -> None:
    day1 = run(DAY1, drifted("dep_a", workers()), missing("dep_b"), error("dep_c"))
    _, report1 = audit(tmp_path, "day1.json", day1, None)

    day2 = run(DAY2, drifted("dep_a", workers(), memory()), missing("dep_b"), in_sync("dep_c"))
    marks2, report2 = audit(tmp_path, "day2.json", day2, report1)
    assert marks2 is not None
    a2 = day2.deployments[0]
    assert marks2.of_difference(a2, workers()) == Mark(State.PERSISTING, T1)
    assert marks2.of_difference(a2, memory()) == Mark(State.NEW, T2)
    assert marks2.difference("mi_1", "dep_a", "vendor_configuration.memory", "changed") == (
        Mark(State.NEW, T2)
    )
    assert marks2.of_deployment(day2.deployments[1]) == Mark(State.PERSISTING, T1)
    assert marks2.of_deployment(day2.deployments[2]) is None  # in sync: no entry
    assert [e.key for e in marks2.resolved] == [EntryKey.error("mi_1", "dep_c", "http")]
    assert marks2.resolved[0].message == "HTTP 503 after 3 retries"
    assert marks2.resolved[0].first_seen == T1
    assert marks2.counts == {"new": 1, "persisting": 2, "resolved": 1, "unverified": 0}
    assert marks2.any_new

    # Day 3: max_workers fixed; memory persists with the first_seen day 2 recorded.
    day3 = run(DAY3, drifted("dep_a", memory()), missing("dep_b"), in_sync("dep_c"))
    marks3, report3 = audit(tmp_path, "day3.json", day3, report2)
    assert marks3 is not None
    a3 = day3.deployments[0]
    assert marks3.of_difference(a3, memory()) == Mark(State.PERSISTING, T2)
    assert marks3.of_deployment(day3.deployments[1]) == Mark(State.PERSISTING, T1)
    assert [e.key for e in marks3.resolved] == [
        EntryKey.difference("mi_1", "dep_a", "vendor_configuration.max_workers", "changed")
    ]
    resolved = marks3.resolved[0]
    assert (resolved.desired, resolved.live, resolved.first_seen) == (4, 2, T1)
    assert resolved.name == "name-dep_a"
    assert not marks3.any_new
    assert marks3.counts == {"new": 0, "persisting": 2, "resolved": 1, "unverified": 0}

    # The report carries the marks for the next night, and the resolved list for people.
    written = json.loads(Path(report3).read_text(encoding="utf-8"))
    diff = written["deployments"][0]["differences"][0]
    assert (diff["state"], diff["first_seen"]) == ("persisting", T2)
    assert (written["deployments"][1]["state"], written["deployments"][1]["first_seen"]) == (
        "persisting",
        T1,
    )
    assert "state" not in written["deployments"][2]
    section = written["baseline"]
    assert section["file"] == report2
    assert section["started_at"] == T2
    assert written["resolved"] == [
        {
            "type": "difference",
            "model_instance_id": "mi_1",
            "deployment_id": "dep_a",
            "name": "name-dep_a",
            "path": "vendor_configuration.max_workers",
            "kind": "changed",
            "desired": 4,
            "live": 2,
            "first_seen": T1,
        }
    ]


def test_same_path_with_another_kind_is_a_new_entry(tmp_path: Path) -> None:
    changed = Difference("deployment_metadata.team", DiffKind.CHANGED, "a", "b", 4)
    gone = Difference("deployment_metadata.team", DiffKind.MISSING_LIVE, "a", None, 4)
    _, report1 = audit(tmp_path, "1.json", run(DAY1, drifted("dep_a", changed)), None)
    marks, _ = audit(tmp_path, "2.json", run(DAY2, drifted("dep_a", gone)), report1)
    assert marks is not None
    assert [m.state for m in marks.marks.values()] == [State.NEW]
    assert [e.key.kind for e in marks.resolved] == ["changed"]


def test_error_kind_is_part_of_the_identity(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, error("dep_a", ErrorKind.TIMEOUT)), None)
    marks, _ = audit(tmp_path, "2.json", run(DAY2, error("dep_a", ErrorKind.HTTP)), report1)
    assert marks is not None
    assert marks.of_deployment(error("dep_a", ErrorKind.HTTP)) == Mark(State.NEW, T2)
    assert [e.key.kind for e in marks.resolved] == ["timeout"]


def test_a_plain_report_without_marks_is_a_baseline(tmp_path: Path) -> None:
    # first_seen falls back to the baseline run's start.
    path = save(tmp_path, "plain.json", json.loads(json_reporter.render(run(DAY1, missing("x")))))
    loaded = load_baseline(path)
    assert loaded.started_at == T1
    assert loaded.entries == {
        EntryKey.missing("mi_1", "x"): BaselineEntry(EntryKey.missing("mi_1", "x"), T1, "name-x")
    }


# ---------------------------------------------------------------------------------------------
# Unverified: not checked is not resolved


def test_drift_behind_a_transient_error_is_not_resolved_and_not_new_later(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, drifted("dep_a", workers())), None)
    marks2, report2 = audit(tmp_path, "2.json", run(DAY2, error("dep_a")), report1)
    assert marks2 is not None
    assert marks2.resolved == ()
    assert [(u.entry.key.path, u.reason) for u in marks2.unverified] == [
        ("vendor_configuration.max_workers", "the deployment could not be checked in this run")
    ]
    assert marks2.of_deployment(error("dep_a")) == Mark(State.NEW, T2)

    # Night 3 sees the drift again: it persists since night 1, and the error is resolved.
    marks3, _ = audit(tmp_path, "3.json", run(DAY3, drifted("dep_a", workers())), report2)
    assert marks3 is not None
    assert marks3.of_difference(drifted("dep_a"), workers()) == Mark(State.PERSISTING, T1)
    assert [e.key.type for e in marks3.resolved] == [EntryType.ERROR]
    assert not marks3.any_new


def test_missing_behind_an_error_is_unverified(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, missing("dep_a")), None)
    marks, _ = audit(tmp_path, "2.json", run(DAY2, error("dep_a")), report1)
    assert marks is not None
    assert [u.entry.key.type for u in marks.unverified] == [EntryType.MISSING]


def test_undeclared_deployment_is_unverified(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, drifted("dep_a", workers())), None)
    marks, _ = audit(tmp_path, "2.json", run(DAY2, in_sync("dep_b")), report1)
    assert marks is not None
    assert marks.resolved == ()
    assert [u.reason for u in marks.unverified] == ["no manifest declares this deployment any more"]


def test_now_missing_resolves_its_old_differences(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, drifted("dep_a", workers())), None)
    marks, _ = audit(tmp_path, "2.json", run(DAY2, missing("dep_a")), report1)
    assert marks is not None
    assert [e.key.type for e in marks.resolved] == [EntryType.DIFFERENCE]
    assert marks.of_deployment(missing("dep_a")) == Mark(State.NEW, T2)


# ---------------------------------------------------------------------------------------------
# Unmanaged deployments


def test_unmanaged_entries_across_runs(tmp_path: Path) -> None:
    def listed(*found: Listed) -> ResultWithUnmanaged:
        return ResultWithUnmanaged((in_sync("dep_a"),), DAY1, DAY1, unmanaged=found)

    day1 = dataclasses.replace(listed(Listed("mi_9", "x"), Listed(None, "y")), started_at=DAY1)
    _, report1 = audit(tmp_path, "1.json", day1, None)
    day2 = dataclasses.replace(listed(Listed("mi_9", "x"), Listed("mi_9", "z")), started_at=DAY2)
    marks2, report2 = audit(tmp_path, "2.json", day2, report1)
    assert marks2 is not None
    assert marks2.unmanaged("mi_9", "x") == Mark(State.PERSISTING, T1)
    assert marks2.unmanaged("mi_9", "z") == Mark(State.NEW, T2)
    assert [e.key for e in marks2.resolved] == [EntryKey.unmanaged(None, "y")]
    assert marks2.any_new
    assert not any(m.is_new for k, m in marks2.marks.items() if k.type is not EntryType.UNMANAGED)

    # A run that did not list the live set cannot say they are gone.
    marks3, _ = audit(tmp_path, "3.json", run(DAY3, in_sync("dep_a")), report2)
    assert marks3 is not None
    assert marks3.resolved == ()
    assert {u.entry.key.deployment_id for u in marks3.unverified} == {"x", "z"}
    assert {u.reason for u in marks3.unverified} == {"this run did not list the live deployments"}


# ---------------------------------------------------------------------------------------------
# --fail-on new


def fail_on_new(result: RunResult, marks: Marks) -> int:
    """The exit code with --fail-on new, from the one place that decides it."""
    return replace(result, marks=marks, fail_on="new").exit_code


def test_fail_on_new_exit_codes(tmp_path: Path) -> None:
    _, report1 = audit(tmp_path, "1.json", run(DAY1, drifted("dep_a", workers())), None)
    base = load_baseline(report1)

    same = run(DAY2, drifted("dep_a", workers()))
    assert same.exit_code == 2
    assert fail_on_new(same, mark(same.deployments, same.unmanaged, base, T2)) == 0

    more = run(DAY2, drifted("dep_a", workers()), missing("dep_b"))
    assert fail_on_new(more, mark(more.deployments, more.unmanaged, base, T2)) == 2

    fixed = run(DAY2, in_sync("dep_a"))
    assert fail_on_new(fixed, mark(fixed.deployments, fixed.unmanaged, base, T2)) == 0

    # Errors still exit 1, also when they are not new.
    _, report_err = audit(tmp_path, "err.json", run(DAY1, error("dep_a")), None)
    still = run(DAY2, error("dep_a"))
    assert (
        fail_on_new(still, mark(still.deployments, still.unmanaged, load_baseline(report_err), T2))
        == 1
    )


def test_empty_baseline_marks_everything_new() -> None:
    result = run(DAY2, drifted("dep_a", workers()), missing("dep_b"))
    marks = mark(result.deployments, result.unmanaged, Baseline("b.json", T1), T2)
    assert {m.state for m in marks.marks.values()} == {State.NEW}
    assert len(marks.marks) == 2
    assert bl.current_entries(result.deployments, result.unmanaged) == list(marks.marks)


def test_mark_fields() -> None:
    assert json_reporter.mark_fields(None) == {}
    assert json_reporter.mark_fields(Mark(State.NEW, T2)) == {"state": "new", "first_seen": T2}


# ---------------------------------------------------------------------------------------------
# Files that are not a usable baseline


def _report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(json_reporter.render(run(DAY1, error("dep_a"))))
    report.update(changes)
    return report


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is not valid JSON"),
        ('{"report_version": 1, ', "is not valid JSON"),
        ("[]", "expected a JSON object"),
        ("null", "expected a JSON object"),
        ('{"deployments": []}', "no report_version"),
        (
            json.dumps({"snapshot_version": 1, "deployments": []}),
            "this looks like a snapshot: pass it to --live-from",
        ),
        (json.dumps(_report(report_version=2)), "report_version 2 is not supported"),
        (json.dumps(_report(report_version="1")), "report_version '1' is not supported"),
        (json.dumps(_report(report_version=True)), "report_version True is not supported"),
        (json.dumps(_report(started_at=None)), "at started_at: expected a non-empty string"),
        (json.dumps(_report(deployments={"a": 1})), "at deployments: expected a list"),
        (json.dumps(_report(deployments=None)), "at deployments: expected a list"),
        (json.dumps(_report(deployments=[1])), "at deployments[0]: expected an object"),
        (json.dumps(_report(unmanaged=[{"deployment_id": 5}])), "unmanaged[0].deployment_id"),
        (json.dumps(_report(baseline=[])), "at baseline: expected an object"),
        (
            json.dumps(_report(baseline={"unverified": [{"type": "other"}]})),
            "baseline.unverified[0].type: unknown entry type 'other'",
        ),
    ],
)
def test_corrupt_or_foreign_file_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_baseline(str(path))
    assert message in caught.value.message
    assert str(path) in caught.value.message


def _deployment_with(**changes: Any) -> str:
    report = json.loads(json_reporter.render(run(DAY1, drifted("dep_a", workers()))))
    report["deployments"][0].update(changes)
    return json.dumps(report)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"status": "exploded"}, "deployments[0].status: unknown status 'exploded'"),
        ({"model_instance_id": ""}, "deployments[0].model_instance_id: expected a non-empty"),
        ({"deployment_id": 7}, "deployments[0].deployment_id"),
        ({"name": 7}, "deployments[0].name"),
        ({"differences": "x"}, "deployments[0].differences: expected a list"),
        (
            {"differences": [{"path": "a", "kind": "weird"}]},
            "deployments[0].differences[0].kind: unknown difference kind 'weird'",
        ),
        (
            {"differences": [{"path": None, "kind": "changed"}]},
            "deployments[0].differences[0].path",
        ),
        (
            {"differences": [{"path": "a", "kind": "changed", "first_seen": 5}]},
            "deployments[0].differences[0].first_seen",
        ),
        ({"status": "error", "error": None}, "an error deployment needs an error object"),
        ({"status": "error", "error": {"kind": 3}}, "deployments[0].error.kind"),
    ],
)
def test_malformed_deployment_is_an_error(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(_deployment_with(**changes), encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_baseline(str(path))
    assert message in caught.value.message


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(BaselineError) as caught:
        load_baseline(str(tmp_path / "nope.json"))
    assert "cannot read baseline" in caught.value.message
    with pytest.raises(BaselineError) as caught:
        load_baseline(str(tmp_path))
    assert "cannot read baseline" in caught.value.message
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(BaselineError) as caught:
        load_baseline(str(binary))
    assert "is not valid JSON" in caught.value.message


def test_oversized_or_deeply_nested_baseline_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bl, "MAX_BASELINE_BYTES", 100)
    big = tmp_path / "big.json"
    big.write_text('{"report_version": 1, "deployments": []}' + " " * 200)
    with pytest.raises(bl.BaselineError, match="larger than 100 bytes"):
        bl.load_baseline(str(big))
    monkeypatch.setattr(bl, "MAX_BASELINE_BYTES", 10**8)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(bl.BaselineError, match="not valid JSON"):
        bl.load_baseline(str(deep))
