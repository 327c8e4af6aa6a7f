"""``check --history DIR``: every run's JSON report kept in one folder, the newest as baseline.

A nightly job keeps its reports in ``DIR`` (a CI cache or artifact): each run stores its JSON
report as ``DIR/<started_at>.json`` (``2026-11-27T04-00-00Z.json``, with ``-2``, ``-3``…
when that name is taken), takes the newest earlier report as its baseline, and prunes the
oldest beyond ``--keep``. The names sort in time order, so the folder is its own index.

Only files whose names follow that pattern belong to the history; anything else in ``DIR`` is
left alone. A history file that cannot be read as a report is skipped with a warning and
never deleted: it may be the only copy of something a person wants to look at, and a
driftcheck that deletes what it cannot read would destroy evidence on a bad day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from driftcheck.baseline import MAX_BASELINE_BYTES, Baseline, BaselineError, parse_baseline
from driftcheck.errors import DriftcheckError
from driftcheck.files import TooLarge, read_bounded
from driftcheck.output import write_temporary
from driftcheck.reporters.json import REPORT_VERSION
from driftcheck.result import RunResult, TrendPoint, format_timestamp

DEFAULT_KEEP = 90
TREND_RUNS = 90  # the HTML trend chart shows at most this many runs, this one included
_NAME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ)(?:-([1-9][0-9]{0,8}))?\.json$")
_COUNTS = ("drifted", "missing", "error")


class HistoryError(DriftcheckError):
    """The history folder cannot be used at all: the run stops before any request (exit 1)."""


@dataclass(frozen=True)
class StoredReport:
    """One readable report of the history."""

    path: str
    order: tuple[str, int]  # (timestamp as named, suffix): sorts in time order
    point: TrendPoint


@dataclass(frozen=True)
class History:
    directory: str
    reports: tuple[StoredReport, ...]  # readable reports only, oldest first
    baseline: Baseline | None  # the newest readable report, parsed
    warnings: tuple[str, ...] = ()


def report_order(name: str) -> tuple[str, int] | None:
    """Where a file name sorts in the history (None: not a history file)."""
    match = _NAME.match(name)
    if match is None:
        return None
    return (match.group(1), int(match.group(2) or 1))


def base_name(started_at: dt.datetime) -> str:
    """``2026-11-27T04-00-00Z``: the report's ``started_at`` with colons that some file
    systems (and artifact uploads) refuse turned into dashes."""
    return format_timestamp(started_at).replace(":", "-")


def open_history(directory: str) -> History:
    """Read every history report in ``directory`` (created when absent)."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise HistoryError(f"--history {directory} is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
        names = os.listdir(directory)
    except OSError as exc:
        raise HistoryError(f"cannot use --history {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise HistoryError(f"--history {directory} is not writable")
    found = sorted(
        ((order, name) for name in names if (order := report_order(name)) is not None),
        reverse=True,
    )
    reports: list[StoredReport] = []
    warnings: list[str] = []
    baseline: Baseline | None = None
    for order, name in found:
        path = os.path.join(directory, name)
        try:
            data = _read(path)
            point = _point(data)
            if baseline is None:
                baseline = parse_baseline(data, path)
        except BaselineError as exc:
            warnings.append(f"history: skipped {path}: {exc.message}")
            continue
        reports.append(StoredReport(path, order, point))
    reports.reverse()
    return History(directory, tuple(reports), baseline, tuple(warnings))


def trend(history: History, result: RunResult) -> tuple[TrendPoint, ...]:
    """The earlier runs and this one, oldest first, at most :data:`TREND_RUNS`."""
    summary = result.summary
    current = TrendPoint(
        format_timestamp(result.started_at), summary.drifted, summary.missing, summary.error
    )
    earlier = [report.point for report in history.reports][-(TREND_RUNS - 1) :]
    return (*earlier, current)


def store(history: History, text: str, started_at: dt.datetime) -> str:
    """Write this run's report under a name no other run holds; returns its path.

    The text goes to a temporary file first and is then hard-linked to its final name: a
    reader never sees half a report, and a link never replaces a file, so two runs that
    start in the same second both keep theirs (``-2``).
    """
    stem = base_name(started_at)
    temporary = None
    try:
        temporary = write_temporary(history.directory, text, prefix=".driftcheck-")
        for suffix in range(1, 10_000):
            name = f"{stem}.json" if suffix == 1 else f"{stem}-{suffix}.json"
            path = os.path.join(history.directory, name)
            try:
                _claim(temporary, path)
            except FileExistsError:
                continue
            return path
        raise HistoryError(f"--history {history.directory}: no free name for {stem}")
    except OSError as exc:
        raise HistoryError(
            f"cannot write the history report in {history.directory}: {exc.strerror or exc}"
        ) from None
    finally:
        if temporary is not None:  # linked or failed: the temporary name goes either way
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def prune(history: History, stored: str, keep: int) -> tuple[list[str], list[str]]:
    """Delete the oldest readable reports beyond ``keep`` (the one just stored counts).

    Returns (deleted paths, warnings). Unreadable files are not in ``history.reports``, so
    they are never candidates.
    """
    order = report_order(os.path.basename(stored))
    assert order is not None
    ranked = sorted([(r.order, r.path) for r in history.reports] + [(order, stored)])
    doomed = [path for _, path in ranked[: max(0, len(ranked) - keep)] if path != stored]
    deleted: list[str] = []
    warnings: list[str] = []
    for path in doomed:
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue  # another run pruned it first
        except OSError as exc:
            warnings.append(f"history: cannot prune {path}: {exc.strerror or exc}")
            continue
        deleted.append(path)
    return deleted, warnings


def _claim(temporary: str, path: str) -> None:
    """Give ``temporary`` the name ``path`` unless that name exists (FileExistsError)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        # no hard links here (some network and FAT file systems): reserve the name, then
        # move the finished report over the empty placeholder
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        os.replace(temporary, path)


def _read(path: str) -> Any:
    try:
        raw = read_bounded(path, MAX_BASELINE_BYTES)
    except OSError as exc:
        raise BaselineError(f"cannot read it: {exc.strerror or exc}") from None
    except TooLarge:
        raise BaselineError(f"larger than {MAX_BASELINE_BYTES} bytes") from None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BaselineError(f"not valid JSON ({exc})") from None


def _point(data: Any) -> TrendPoint:
    """The counts the trend chart needs, checked as strictly as the baseline reader."""
    if not isinstance(data, dict) or data.get("report_version") != REPORT_VERSION:
        raise BaselineError(f"not a driftcheck JSON report v{REPORT_VERSION}")
    started_at, summary = data.get("started_at"), data.get("summary")
    if not isinstance(started_at, str) or not isinstance(summary, dict):
        raise BaselineError("no started_at or summary")
    counts: list[int] = []
    for key in _COUNTS:
        value = summary.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BaselineError(f"summary.{key} is not a whole number")
        counts.append(value)
    drifted, missing, error = counts
    return TrendPoint(started_at, drifted, missing, error)
