"""The nightly audit's steps around a check: the history before it (the baseline, the trend)
and, after every report was written, the history file and the notifications.

``app.run_check`` calls :func:`open_for` before the run and :func:`finish` after its reports;
the work itself is in ``history.py`` and ``notify.py``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import click

from driftcheck import history as history_files
from driftcheck import notify
from driftcheck.history import History
from driftcheck.notify import NotifyOn, RetryPolicy, Target
from driftcheck.result import RunResult


@dataclass(frozen=True)
class NightlyOptions:
    history: str | None = None
    keep: int = history_files.DEFAULT_KEEP
    notify: tuple[Target, ...] = ()  # each holds a secret URL
    notify_on: NotifyOn = "change"
    report_url: str | None = None


def open_for(options: NightlyOptions) -> History | None:
    """The history folder, read before any request (HistoryError: exit 1)."""
    if options.history is None:
        return None
    found = history_files.open_history(options.history)
    for message in found.warnings:
        warn(message)
    return found


def with_trend(result: RunResult, found: History | None) -> RunResult:
    if found is None:
        return result
    return dataclasses.replace(result, trend=history_files.trend(found, result))


def finish(
    result: RunResult, found: History | None, options: NightlyOptions, policy: RetryPolicy
) -> bool:
    """Store the report in the history, prune, then notify; False when any of it failed
    (the run then exits 1). Notifications go out even when the history could not be written:
    the alert matters more than the record."""
    ok = True
    if found is not None:
        ok = _store(result, found, options.keep)
    if options.notify:
        ok = _notify(result, options, policy) and ok
    return ok


def warn(message: str) -> None:
    click.echo(f"driftcheck: warning: {message}", err=True)


def _store(result: RunResult, found: History, keep: int) -> bool:
    from driftcheck.reporters import get_renderer

    try:
        stored = history_files.store(found, get_renderer("json")(result), result.started_at)
    except history_files.HistoryError as exc:
        click.echo(f"driftcheck: error: {exc.message}", err=True)
        return False
    _deleted, warnings = history_files.prune(found, stored, keep)
    for message in warnings:
        warn(message)
    return True


def _notify(result: RunResult, options: NightlyOptions, policy: RetryPolicy) -> bool:
    change = notify.change_of(result)
    if not notify.should_notify(change, options.notify_on):
        # without a baseline there is nothing to have changed against: say what was seen
        why = "nothing changed since the baseline"
        if change.first_run:
            why = "no findings (no baseline)"
        click.echo(f"driftcheck: {why}; no notification", err=True)
        return True
    delivered = True
    agent = f"driftcheck/{result.version}" if result.version else "driftcheck"
    for target in options.notify:
        body = notify.BODIES[target.kind](result, change, options.report_url)
        problem = notify.send(target, body, policy, user_agent=agent)
        if problem is None:
            click.echo(f"driftcheck: {target.label} sent", err=True)
        else:
            # the label names the kind, never the URL
            click.echo(f"driftcheck: error: {target.label} failed: {problem}", err=True)
            delivered = False
    return delivered
