"""The options of ``check`` and ``snapshot`` (click only), and the check's option groups turned
into plain objects: ``--history``/``--notify`` into NightlyOptions, ``--wait``/``--changed-since``
into a GateRequest. Shared groups (HTTP, ignore files, environments) live in ``options.py`` and
``envoptions.py``; ``cli.py`` keeps the commands themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from driftcheck.options import ignore_file_options, sensitive_option
from driftcheck.reporters import FORMATS

if TYPE_CHECKING:  # imported when a command runs, not for --version or --help
    from driftcheck.gate import GateRequest
    from driftcheck.nightly import NightlyOptions
    from driftcheck.notify import NotifyOn
    from driftcheck.wait import Clock

F = TypeVar("F", bound=Callable[..., int])


def check_options(func: F) -> F:
    """Every option of ``check`` between PATH and the environment/HTTP groups, in --help order."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="Report format written to stdout.",
        ),
        click.option(
            "--report",
            "reports",
            multiple=True,
            metavar="FORMAT=PATH",
            help="Also write a report to a file (repeatable), e.g. --report junit=drift.xml.",
        ),
        click.option(
            "--ignore",
            "ignores",
            multiple=True,
            metavar="PATTERN",
            help="Never report this dotted path (repeatable; * matches one segment).",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Also report what live has and the manifest leaves out (extra_live).",
        ),
        click.option(
            "--live-from",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="SNAPSHOT",
            help="Compare against a recorded snapshot instead of the API.",
        ),
        click.option(
            "--no-color", is_flag=True, help="No colour even on a terminal (also NO_COLOR)."
        ),
        click.option("-v", "--verbose", is_flag=True, help="Also list in-sync deployments."),
        click.option(
            "--unmanaged",
            is_flag=True,
            help="Also list live deployments and report those no manifest declares (exit 2).",
        ),
        click.option(
            "--model-instance-id",
            "model_instance_ids",
            multiple=True,
            metavar="ID",
            help="Scope --unmanaged to these model instances (repeatable).",
        ),
        click.option(
            "--fetch",
            type=click.Choice(["auto", "get", "list"]),
            default="auto",
            show_default=True,
            help="get: one request per deployment; list: from list pages (a GET for any they "
            "lack); auto: list from 100 deployments on, when that takes fewer requests.",
        ),
        click.option(
            "--baseline",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="REPORT.json",
            help="A previous JSON report: mark findings new / persisting and list resolved ones.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice(["any", "new"]),
            default="any",
            show_default=True,
            help="new: drift exits 2 only when something is new since --baseline (errors still 1).",
        ),
        ignore_file_options,
        sensitive_option,
        click.option(
            "--show-sensitive",
            is_flag=True,
            help="Show sensitive values in the text report (only on a terminal; never in files).",
        ),
        click.option(
            "--history",
            type=click.Path(file_okay=False),
            default=None,
            metavar="DIR",
            help="Keep each run's JSON report in DIR; the newest earlier one is the baseline "
            "(unless --baseline is given).",
        ),
        click.option(
            "--keep",
            type=click.IntRange(min=1),
            default=None,
            metavar="N",
            help="With --history: keep the newest N reports (default 90).",
        ),
        click.option(
            "--notify",
            "notify",
            multiple=True,
            metavar="KIND=URL",
            help="POST a summary after the run: slack=URL or webhook=URL (repeatable; URL may be "
            "env:VARIABLE). The URL is treated as a secret.",
        ),
        click.option(
            "--notify-on",
            type=click.Choice(["change", "always"]),
            default="change",
            show_default=True,
            help="change: only when findings are new or resolved since the baseline.",
        ),
        click.option(
            "--report-url",
            default=None,
            metavar="URL",
            help="Link to the published report, included in notifications.",
        ),
        click.option(
            "--wait",
            metavar="DURATION",
            default=None,
            help="Release gate: re-check drifted, missing and errored deployments (backoff 2-30 s) "
            "until in sync, failed, or DURATION (e.g. 90s, 10m) has passed.",
        ),
        click.option(
            "--changed-since",
            metavar="REF",
            default=None,
            help="Reviewer check: only deployments whose declaration changed since git REF; mark "
            "each difference this_change or pre_existing; list removed deployments.",
        ),
        click.option(
            "--all",
            "check_all",
            is_flag=True,
            help="With --changed-since: check every deployment, still marking origins.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def snapshot_options(func: F) -> F:
    """The options of ``snapshot`` between PATH and the environment/HTTP groups."""
    options = [
        click.option(
            "-o",
            "--output",
            required=True,
            type=click.Path(dir_okay=False),
            help="Where to write the snapshot (- for stdout).",
        ),
        click.option(
            "--all",
            "record_all",
            is_flag=True,
            help="Record every live deployment of the account (list endpoint), not only "
            "declared ones.",
        ),
        click.option(
            "--model-instance-id",
            "model_instance_ids",
            multiple=True,
            metavar="ID",
            help="With --all: only these model instances (repeatable).",
        ),
        click.option(
            "--allow-partial",
            is_flag=True,
            help="Write the file even when some deployments could not be recorded (by default the "
            "previous file is kept).",
        ),
        click.option(
            "--as-manifest",
            is_flag=True,
            help="Write a manifest v1 that checks in sync against the recorded state instead.",
        ),
        sensitive_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def nightly_options(
    history: str | None,
    keep: int | None,
    notify: tuple[str, ...],
    notify_on: NotifyOn,
    report_url: str | None,
) -> NightlyOptions:
    """--history, --keep, --notify, --notify-on, --report-url; usage errors never repeat a
    notification URL."""
    from driftcheck.history import DEFAULT_KEEP
    from driftcheck.nightly import NightlyOptions
    from driftcheck.notify import NotifyOptionError, parse_target

    if keep is not None and history is None:
        raise click.UsageError("--keep prunes the --history folder; add --history DIR")
    try:
        targets = tuple(parse_target(value, os.environ) for value in notify)
    except NotifyOptionError as exc:
        raise click.BadParameter(str(exc), param_hint="'--notify'") from None
    if report_url is not None and not report_url.startswith(("https://", "http://")):
        raise click.BadParameter("expected an http(s):// URL", param_hint="'--report-url'")
    return NightlyOptions(
        history=history,
        keep=DEFAULT_KEEP if keep is None else keep,
        notify=targets,
        notify_on=notify_on,
        report_url=report_url,
    )


def injected_clock(obj: object) -> Clock | None:
    """A clock given as click's ``obj`` (``cli.main(obj=clock)``): how tests run ``--wait``
    without sleeping. Time is passed in, never read from a module global."""
    from driftcheck.wait import Clock

    return obj if isinstance(obj, Clock) else None


def gate_request(
    wait: str | None,
    changed_since: str | None,
    check_all: bool,
    live_from: str | None,
    unmanaged: bool,
) -> GateRequest | None:
    """--wait / --changed-since / --all, checked for sense (a bad one is a usage error)."""
    from driftcheck.gate import GateRequest, GateUsageError

    try:
        return GateRequest.parse(wait, changed_since, check_all, live_from, unmanaged)
    except GateUsageError as exc:
        raise click.UsageError(str(exc)) from None
