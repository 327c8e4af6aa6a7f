"""history.py: names, reading, baseline choice, trend and pruning, on a real folder."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from driftcheck.history import (
    TREND_RUNS,
    HistoryError,
    base_name,
    open_history,
    prune,
    report_order,
    store,
    trend,
)
from driftcheck.result import RunResult

STARTED = dt.datetime(2026, 11, 27, 4, 0, 0, tzinfo=dt.timezone.utc)


def report(started_at: str, drifted: int = 0, **extra: object) -> str:
    data = {
        "report_version": 1,
        "started_at": started_at,
        "summary": {
            "total": 5,
            "in_sync": 5 - drifted,
            "drifted": drifted,
            "missing": 0,
            "error": 0,
        },
        "deployments": [],
        **extra,
    }
    return json.dumps(data)


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_names_sort_in_time_order() -> None:
    assert base_name(STARTED) == "2026-11-27T04-00-00Z"
    names = [
        "2026-11-27T04-00-00Z-10.json",
        "2026-11-27T04-00-00Z.json",
        "2026-11-27T04-00-00Z-2.json",
    ]
    assert sorted(names, key=lambda n: report_order(n) or ("", 0)) == [
        "2026-11-27T04-00-00Z.json",
        "2026-11-27T04-00-00Z-2.json",
        "2026-11-27T04-00-00Z-10.json",
    ]
    for other in ("latest.json", "2026-11-27T04:00:00Z.json", "2026-11-27T04-00-00Z-0.json"):
        assert report_order(other) is None


def test_store_never_overwrites(tmp_path: Path) -> None:
    history = open_history(str(tmp_path / "new" / "dir"))  # created when absent
    first = store(history, "one", STARTED)
    second = store(history, "two", STARTED)
    third = store(history, "three", STARTED)
    assert [os.path.basename(p) for p in (first, second, third)] == [
        "2026-11-27T04-00-00Z.json",
        "2026-11-27T04-00-00Z-2.json",
        "2026-11-27T04-00-00Z-3.json",
    ]
    assert Path(first).read_text() == "one" and Path(third).read_text() == "three"
    mask = os.umask(0o022)
    os.umask(mask)
    assert os.stat(first).st_mode & 0o777 == 0o666 & ~mask
    assert sorted(os.listdir(history.directory)) == sorted(
        os.path.basename(p) for p in (first, second, third)
    )


def test_newest_readable_report_is_the_baseline(tmp_path: Path) -> None:
    write(tmp_path, "2026-11-25T04-00-00Z.json", report("2026-11-25T04:00:00Z", 1))
    write(tmp_path, "2026-11-26T04-00-00Z.json", report("2026-11-26T04:00:00Z", 2))
    write(tmp_path, "2026-11-26T04-00-00Z-2.json", "[1, 2")  # newest, but broken
    write(tmp_path, "2026-11-24T04-00-00Z.json", json.dumps({"snapshot_version": 1}))
    write(tmp_path, "README.txt", "not ours")
    history = open_history(str(tmp_path))
    assert history.baseline is not None
    assert history.baseline.started_at == "2026-11-26T04:00:00Z"
    assert [r.point.drifted for r in history.reports] == [1, 2]
    assert len(history.warnings) == 2
    assert "2026-11-26T04-00-00Z-2.json" in history.warnings[0]
    assert "not valid JSON" in history.warnings[0]


def test_a_report_the_baseline_reader_refuses_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, "2026-11-25T04-00-00Z.json", report("2026-11-25T04:00:00Z", 1))
    bad = report("2026-11-26T04:00:00Z", 1, deployments=[{"status": "weird"}])
    write(tmp_path, "2026-11-26T04-00-00Z.json", bad)
    history = open_history(str(tmp_path))
    assert history.baseline is not None and history.baseline.started_at == "2026-11-25T04:00:00Z"
    assert [r.point.started_at for r in history.reports] == ["2026-11-25T04:00:00Z"]
    assert "2026-11-26T04-00-00Z.json" in history.warnings[0]


def test_not_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(HistoryError, match="is not a directory"):
        open_history(str(target))


def test_trend_ends_with_this_run_and_is_bounded(tmp_path: Path) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for day in range(TREND_RUNS + 5):
        moment = start + dt.timedelta(days=day)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        write(tmp_path, base_name(moment) + ".json", report(stamp, day % 4))
    history = open_history(str(tmp_path))
    result = RunResult((), STARTED, STARTED)
    points = trend(history, result)
    assert len(points) == TREND_RUNS
    assert points[-1].started_at == "2026-11-27T04:00:00Z"
    assert points[0].started_at == "2026-01-07T00:00:00Z"  # the 6 oldest fall off
    assert [p.started_at for p in points] == sorted(p.started_at for p in points)


def test_prune_keeps_the_newest_and_every_unreadable_file(tmp_path: Path) -> None:
    for day in range(1, 6):
        write(tmp_path, f"2026-11-0{day}T04-00-00Z.json", report(f"2026-11-0{day}T04:00:00Z"))
    write(tmp_path, "2026-11-01T04-00-00Z-2.json", "garbage")
    history = open_history(str(tmp_path))
    stored = store(history, report("2026-11-27T04:00:00Z"), STARTED)
    deleted, warnings = prune(history, stored, keep=3)
    assert warnings == []
    assert sorted(os.path.basename(p) for p in deleted) == [
        "2026-11-01T04-00-00Z.json",
        "2026-11-02T04-00-00Z.json",
        "2026-11-03T04-00-00Z.json",
    ]
    assert sorted(os.listdir(tmp_path)) == [
        "2026-11-01T04-00-00Z-2.json",
        "2026-11-04T04-00-00Z.json",
        "2026-11-05T04-00-00Z.json",
        "2026-11-27T04-00-00Z.json",
    ]


def test_prune_keep_one_keeps_only_this_run(tmp_path: Path) -> None:
    write(tmp_path, "2026-11-01T04-00-00Z.json", report("2026-11-01T04:00:00Z"))
    history = open_history(str(tmp_path))
    stored = store(history, report("2026-11-27T04:00:00Z"), STARTED)
    prune(history, stored, keep=1)
    assert os.listdir(tmp_path) == [os.path.basename(stored)]
