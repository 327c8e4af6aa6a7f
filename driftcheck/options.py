"""Options shared by the commands, and turning option values into plain objects.

Everything here raises click's usage errors (exit 1 through the CLI): a bad option is found
before any manifest is read or any request is made.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from driftcheck.reporters import FORMATS

if TYPE_CHECKING:
    from driftcheck.app import ApiKey
    from driftcheck.ignore import IgnoreRule
    from driftcheck.ignorefile import IgnoreInputs
    from driftcheck.live.records import ListScope
    from driftcheck.live.settings import HttpSettings
    from driftcheck.output import ReportTarget
    from driftcheck.paths import PathPattern

F = TypeVar("F", bound=Callable[..., int])


class FiniteFloat(click.FloatRange):
    """A float range that also refuses ``nan`` and ``inf``: every comparison with nan is
    false, so a plain range lets it through, and neither is a number of seconds."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def http_options(func: F) -> F:
    options = [
        click.option(
            "--base-url",
            envvar="SGP_CLIENT_BASE_URL",
            default="https://api.egp.scale.com",
            show_default=True,
            help="API base URL (env SGP_CLIENT_BASE_URL).",
        ),
        click.option(
            "--account-id",
            envvar="SGP_ACCOUNT_ID",
            default=None,
            help="Sent as x-selected-account-id (env SGP_ACCOUNT_ID).",
        ),
        click.option(
            "--api-key-file",
            type=click.Path(dir_okay=False),
            default=None,
            help="Read the API key from this file instead of SGP_API_KEY.",
        ),
        click.option(
            "--timeout",
            type=FiniteFloat(min=0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds per request attempt, connect to last body byte.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0, max=20),
            default=3,
            show_default=True,
            help="Retries on connection errors, timeouts, 408, 409, 429 and 5xx.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(min=1, max=512),
            default=16,
            show_default=True,
            help="Requests in flight at once.",
        ),
        click.option(
            "--backoff",
            type=FiniteFloat(min=0),
            default=0.5,
            show_default=True,
            help="First retry delay in seconds (doubles, with jitter, up to 8 s).",
        ),
        click.option(
            "--ca-bundle",
            type=click.Path(exists=True, dir_okay=False),
            default=None,
            help="CA certificates for a private TLS endpoint.",
        ),
        click.option(
            "--page-size",
            type=click.IntRange(min=1, max=10_000),
            default=10_000,
            hidden=True,
            help="Items per list page (the API allows at most 10,000).",
        ),
        click.option(
            "--allow-insecure-http",
            is_flag=True,
            help="Allow plain http:// to a host other than loopback (sends the key unencrypted).",
        ),
        click.option(
            "--max-rps",
            type=click.IntRange(min=1),
            default=None,
            help="At most N requests start in any one-second window (all workers).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def http_settings(kwargs: dict[str, Any], api_key_env: str) -> tuple[HttpSettings, ApiKey]:
    """The HTTP settings (all but the key) and where the key comes from: ``api_key_env`` is
    the value of ``SGP_API_KEY``, read by the command line."""
    from driftcheck.app import ApiKey
    from driftcheck.live.settings import HttpSettings

    key = ApiKey(api_key_env, kwargs.pop("api_key_file"))
    settings = HttpSettings(
        base_url=kwargs.pop("base_url"),
        account_id=kwargs.pop("account_id") or None,
        timeout=kwargs.pop("timeout"),
        retries=kwargs.pop("retries"),
        concurrency=kwargs.pop("concurrency"),
        backoff=kwargs.pop("backoff"),
        ca_bundle=kwargs.pop("ca_bundle"),
        allow_insecure_http=kwargs.pop("allow_insecure_http"),
        page_size=kwargs.pop("page_size"),
        max_rps=kwargs.pop("max_rps"),
    )
    return settings, key


def parse_ignores(patterns: Sequence[str]) -> tuple[IgnoreRule, ...]:
    """``--ignore`` patterns as rules of the ignore policy (no file, no line)."""
    from driftcheck.ignore import IgnoreRule, Source
    from driftcheck.paths import PatternError, parse_pattern

    parsed = []
    for text in patterns:
        try:
            parsed.append(IgnoreRule(parse_pattern(text), Source.OPTION))
        except PatternError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint="'--ignore'") from None
    return tuple(parsed)


def parse_sensitive(patterns: Sequence[str]) -> tuple[PathPattern, ...]:
    """``--sensitive`` patterns (the ignore pattern syntax)."""
    from driftcheck.paths import PatternError, parse_pattern

    parsed = []
    for text in patterns:
        try:
            parsed.append(parse_pattern(text))
        except PatternError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint="'--sensitive'") from None
    return tuple(parsed)


def sensitive_option(func: F) -> F:
    option = click.option(
        "--sensitive",
        "sensitive",
        multiple=True,
        metavar="PATTERN",
        help="Never show the values at this dotted path (repeatable; like --ignore, but the "
        "difference is still reported and counts).",
    )
    return option(func)


def check_show_sensitive(fmt: str, reports: Sequence[str], stdout: IO[str]) -> None:
    """--show-sensitive reaches a person at a terminal, never a log or a file."""
    isatty = getattr(stdout, "isatty", None)
    if fmt != "text" or reports or not (isatty and isatty()):
        raise click.UsageError(
            "--show-sensitive reveals values only in the text report on a terminal "
            "(no --format other than text, no --report, stdout not redirected)"
        )


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    from driftcheck.ignore import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def ignore_file_options(func: F) -> F:
    """``--ignore-file``, ``--require-ignore-reason`` and the hidden ``--today``: what every
    command that reads ignores (check, validate, ignores) shares."""
    options = [
        click.option(
            "--ignore-file",
            type=click.Path(dir_okay=False),
            default=None,
            metavar="PATH",
            help="gitignore-style 'mi/dep path.pattern' lines (default: .driftignore beside "
            "the manifests, when present).",
        ),
        click.option(
            "--require-ignore-reason",
            is_flag=True,
            help="Every ignore must give a reason and an until date (a validation error "
            "otherwise).",
        ),
        # For tests and rehearsals only: the UTC day ignore dates are judged against.
        click.option(
            "--today",
            envvar="DRIFTCHECK_TODAY",
            default=None,
            hidden=True,
            callback=_day,
            metavar="YYYY-MM-DD",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def ignore_inputs(kwargs: dict[str, Any], ignores: Sequence[str] = ()) -> IgnoreInputs:
    """Take the options of :func:`ignore_file_options` (and ``--ignore``) out of ``kwargs``."""
    from driftcheck.ignorefile import IgnoreInputs

    require = kwargs.pop("require_ignore_reason")
    if require and ignores:
        raise click.UsageError(
            "--ignore cannot give a reason or an until date, and --require-ignore-reason "
            "asks for both: write the ignore into the manifest or .driftignore instead"
        )
    return IgnoreInputs(
        patterns=parse_ignores(ignores),
        ignore_file=kwargs.pop("ignore_file"),
        require_reason=require,
        today=kwargs.pop("today"),
    )


def parse_report_targets(values: Sequence[str]) -> tuple[ReportTarget, ...]:
    from driftcheck.output import ReportTarget, is_stdout, same_file, unwritable

    targets: list[ReportTarget] = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(
                f"{value!r}: expected FORMAT=PATH, e.g. json=report.json", param_hint="'--report'"
            )
        if fmt not in FORMATS:
            raise click.BadParameter(
                f"{value!r}: unknown format {fmt!r} (choose from {', '.join(FORMATS)})",
                param_hint="'--report'",
            )
        if path == "-":
            raise click.BadParameter(
                f"{value!r}: standard output takes --format; give --report a file",
                param_hint="'--report'",
            )
        if is_stdout(path):
            raise click.BadParameter(
                f"{value!r}: that is where standard output goes, which --format writes; "
                "give --report another file",
                param_hint="'--report'",
            )
        problem = unwritable(path)
        if problem:
            raise click.BadParameter(f"{value!r}: {problem}", param_hint="'--report'")
        earlier = next((t for t in targets if same_file(t.path, path)), None)
        if earlier is not None:
            raise click.BadParameter(
                f"{value!r}: {earlier.format}={earlier.path} already writes that file",
                param_hint="'--report'",
            )
        targets.append(ReportTarget(fmt, path))
    return tuple(targets)


def list_scope(enabled: bool, model_instance_ids: tuple[str, ...], flag: str) -> ListScope | None:
    """The listing scope of ``--unmanaged`` / ``snapshot --all`` (``flag``), or None."""
    from driftcheck.live.records import ListScope

    if not enabled:
        if model_instance_ids:
            raise click.UsageError(f"--model-instance-id scopes {flag}; add {flag}")
        return None
    if any(not mi for mi in model_instance_ids):
        raise click.BadParameter("must not be empty", param_hint="'--model-instance-id'")
    return ListScope(tuple(dict.fromkeys(model_instance_ids)) or None)
