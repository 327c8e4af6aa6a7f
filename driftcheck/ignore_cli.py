"""The command line's side of ignores: the options every command that reads ignores shares,
building the one :class:`~driftcheck.ignore.IgnorePolicy` from them, and
``driftcheck ignores`` (every ignore with its source, owner, until and status, offline).

Heavy modules are imported inside the functions, as in cli.py, so that ``--help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from driftcheck.ignore import IgnorePolicy, IgnoreRule
    from driftcheck.manifest import DesiredState

F = TypeVar("F", bound=Callable[..., Any])
TODAY_ENV = "DRIFTCHECK_TODAY"


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    from driftcheck.ignore import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def ignore_file_options(func: F) -> F:
    """``--ignore-file``, ``--require-ignore-reason`` and the hidden ``--today``."""
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
            envvar=TODAY_ENV,
            default=None,
            hidden=True,
            callback=_day,
            metavar="YYYY-MM-DD",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class IgnoreInputs:
    """What the command line says about ignores."""

    patterns: tuple[IgnoreRule, ...] = ()  # --ignore, parsed
    ignore_file: str | None = None
    require_reason: bool = False
    today: dt.date | None = None


def inputs_from(kwargs: dict[str, Any], patterns: tuple[IgnoreRule, ...] = ()) -> IgnoreInputs:
    """Take the options of :func:`ignore_file_options` out of a command's keyword arguments."""
    return IgnoreInputs(
        patterns=patterns,
        ignore_file=kwargs.pop("ignore_file"),
        require_reason=kwargs.pop("require_ignore_reason"),
        today=kwargs.pop("today"),
    )


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


def build_policy(
    inputs: IgnoreInputs, paths: Sequence[str], desired: DesiredState
) -> IgnorePolicy | None:
    """The run's policy; on any problem, print each (``file:line: message``) and return None.

    Loads the ``.driftignore`` files that ``check`` reads: ``validate`` calls this too, so an
    ignore file that would stop the gate also fails the offline check.
    """
    from driftcheck.ignore import IgnorePolicy, unaccountable
    from driftcheck.ignorefile import IgnoreFileError, default_ignore_files, parse_ignore_files

    if inputs.require_reason and inputs.patterns:
        raise click.UsageError(
            "--ignore cannot give a reason or an until date, and --require-ignore-reason "
            "asks for both: write the ignore into the manifest or .driftignore instead"
        )
    files = [inputs.ignore_file] if inputs.ignore_file else default_ignore_files(paths)
    try:
        rules = parse_ignore_files(files)
    except IgnoreFileError as exc:
        problems = list(exc.problems)
        rules = ()
    else:
        problems = []
    policy = IgnorePolicy(
        options=inputs.patterns,
        files=rules,
        today=inputs.today or dt.datetime.now(dt.timezone.utc).date(),
    )
    if inputs.require_reason:
        problems.extend(unaccountable(policy.rules(desired.deployments)))
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        count = len(problems)
        click.echo(
            f"driftcheck: {count} ignore problem{'s' if count != 1 else ''}; nothing was checked",
            err=True,
        )
        return None
    return policy


def render_ignores(desired: DesiredState, policy: IgnorePolicy, fmt: str) -> str:
    """``driftcheck ignores``: every rule, offline (so never ``unused``: that needs a run)."""
    import json

    from driftcheck.ignore import describe
    from driftcheck.reporters._ignores import ignore_json, ignore_table
    from driftcheck.reporters.text import printable

    reports = [describe(r, r.status_on(policy.today)) for r in policy.rules(desired.deployments)]
    if fmt == "json":
        document = {"today": policy.today.isoformat(), "ignores": [ignore_json(r) for r in reports]}
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    # patterns, owners and reasons are user text: no control character reaches the terminal
    return "".join(
        printable(line) + "\n" for line in ignore_table(reports, policy.today).split("\n")[:-1]
    )
