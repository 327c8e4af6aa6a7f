"""Command line: parse options into plain objects, call the engine, return the exit code.

Heavy modules (httpx, deepdiff, pydantic models) are imported inside the commands so that
``driftcheck --version`` and ``--help`` start fast.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import click

from driftcheck import __version__
from driftcheck.reporters import FORMATS
from driftcheck.result import EXIT_ERROR
from driftcheck.schemas import KINDS as SCHEMA_KINDS
from driftcheck.schemas import SchemaKind

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_PATH = "manifests"


class DriftcheckGroup(click.Group):
    """A click group whose usage errors exit 1, not click's 2 (2 means drift to a CI gate)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name or "driftcheck",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except click.exceptions.Exit as exc:  # --help, --version
            code = exc.exit_code
        except click.ClickException as exc:
            exc.show()
            code = EXIT_ERROR
        except click.exceptions.Abort:
            click.echo("driftcheck: aborted", err=True)
            code = EXIT_ERROR
        except KeyboardInterrupt:
            click.echo("driftcheck: interrupted", err=True)
            code = EXIT_ERROR
        except BrokenPipeError:
            code = EXIT_ERROR
        except Exception as exc:  # the last line of defence: never a traceback for a user
            click.echo(
                f"driftcheck: internal error ({type(exc).__name__}: {exc}); "
                "please report this with the command you ran",
                err=True,
            )
            code = EXIT_ERROR
        if not isinstance(code, int):
            code = 0
        if standalone_mode:
            sys.exit(code)
        return code


def fail(message: str) -> int:
    click.echo(f"driftcheck: error: {message}", err=True)
    return EXIT_ERROR


@click.group(cls=DriftcheckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", prog_name="driftcheck", message="%(prog)s %(version)s"
)
def cli() -> None:
    """Declarative drift checking for Scale GP model deployments.

    Exit codes: 0 in sync, 2 drift (drifted or missing), 1 anything else (errors, invalid
    manifests, usage errors).
    """


def main() -> None:
    cli.main()


# ---------------------------------------------------------------------------------------------
# Shared options


@dataclass(frozen=True)
class HttpOptions:
    base_url: str
    account_id: str | None
    api_key_file: str | None
    timeout: float
    retries: int
    concurrency: int
    backoff: float
    ca_bundle: str | None
    page_size: int
    allow_insecure_http: bool


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
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            help="Seconds per request.",
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
            type=click.FloatRange(min=0),
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
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_http_options(kwargs: dict[str, Any]) -> HttpOptions:
    return HttpOptions(**{name: kwargs.pop(name) for name in HttpOptions.__dataclass_fields__})


def build_http_settings(options: HttpOptions) -> Any:
    from driftcheck.fetch import HttpSettings, SourceError

    api_key = os.environ.get("SGP_API_KEY", "")
    if options.api_key_file:
        try:
            with open(options.api_key_file, encoding="utf-8") as handle:
                api_key = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise SourceError(
                f"cannot read --api-key-file {options.api_key_file}: {reason}"
            ) from None
        if not api_key:
            raise SourceError(f"--api-key-file {options.api_key_file} is empty")
    return HttpSettings(
        base_url=options.base_url,
        api_key=api_key.strip(),
        account_id=options.account_id or None,
        timeout=options.timeout,
        retries=options.retries,
        concurrency=options.concurrency,
        backoff=options.backoff,
        ca_bundle=options.ca_bundle,
        allow_insecure_http=options.allow_insecure_http,
        page_size=options.page_size,
    )


def load_desired(paths: Sequence[str]) -> Any:
    """Load manifests; on problems print them all (file:line:col: message) and return None."""
    from driftcheck.manifest import ManifestError, load_manifests

    try:
        return load_manifests(paths or (DEFAULT_PATH,))
    except ManifestError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        count = len(exc.problems)
        click.echo(
            f"driftcheck: {count} manifest problem{'s' if count != 1 else ''}; nothing was checked",
            err=True,
        )
        return None


def parse_ignores(patterns: Sequence[str]) -> Any:
    from driftcheck.normalize import PatternError, parse_pattern

    parsed = []
    for text in patterns:
        try:
            parsed.append(parse_pattern(text))
        except PatternError as exc:
            raise click.BadParameter(f"{text!r}: {exc}", param_hint="'--ignore'") from None
    return tuple(parsed)


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: str


def parse_report_targets(values: Sequence[str]) -> tuple[ReportTarget, ...]:
    targets = []
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
        problem = _unwritable(path)
        if problem:
            raise click.BadParameter(f"{value!r}: {problem}", param_hint="'--report'")
        targets.append(ReportTarget(fmt, path))
    return tuple(targets)


def _unwritable(path: str) -> str | None:
    if os.path.isdir(path):
        return f"{path} is a directory"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"directory {parent} does not exist"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    return None if os.access(parent, os.W_OK) else f"directory {parent} is not writable"


def use_color(no_color: bool, stream: IO[str]) -> bool:
    if no_color or "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressLine:
    """``checked 120/2000`` on stderr, redrawn in place; only when stderr is a terminal."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        step = max(1, total // 100)
        if done == total or done - self.last >= step:
            self.last = done
            self.stream.write(f"\rdriftcheck: checked {done}/{total}")
            if done == total:
                self.stream.write("\r\x1b[K")
            self.stream.flush()


def progress_for(stream: IO[str]) -> ProgressLine | None:
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty() and not os.environ.get("CI"):
        return ProgressLine(stream)
    return None


# ---------------------------------------------------------------------------------------------
# check


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...]
    format: str
    reports: tuple[ReportTarget, ...]
    ignore: tuple[Any, ...]
    strict: bool
    live_from: str | None
    http: HttpOptions
    color: bool
    verbose: bool
    fetch: str = "auto"
    unmanaged: Any = None  # a fetch.ListScope when --unmanaged
    baseline: str | None = None
    fail_on: str = "any"
    ignore_file: str | None = None
    progress: Any = field(default=None)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format written to stdout.",
)
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT=PATH",
    help="Also write a report to a file (repeatable), e.g. --report junit=drift.xml.",
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="PATTERN",
    help="Never report this dotted path (repeatable; * matches one segment).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also report what live has and the manifest leaves out (extra_live).",
)
@click.option(
    "--live-from",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="SNAPSHOT",
    help="Compare against a recorded snapshot instead of the API.",
)
@click.option("--no-color", is_flag=True, help="No colour even on a terminal (also NO_COLOR).")
@click.option("-v", "--verbose", is_flag=True, help="Also list in-sync deployments.")
@click.option(
    "--unmanaged",
    is_flag=True,
    help="Also list live deployments and report those no manifest declares (exit 2).",
)
@click.option(
    "--model-instance-id",
    "model_instance_ids",
    multiple=True,
    metavar="ID",
    help="Scope --unmanaged to these model instances (repeatable).",
)
@click.option(
    "--fetch",
    type=click.Choice(["auto", "get", "list"]),
    default="auto",
    show_default=True,
    help="get: one request per deployment; list: from list pages (a GET for any they lack); "
    "auto: list from 100 deployments on, when that takes fewer requests.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="REPORT.json",
    help="A previous JSON report: mark findings new / persisting and list resolved ones.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["any", "new"]),
    default="any",
    show_default=True,
    help="new: drift exits 2 only when something is new since --baseline (errors still 1).",
)
@click.option(
    "--ignore-file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PATH",
    help="gitignore-style 'mi/dep path.pattern' lines (default: .driftignore beside the "
    "manifests, when present).",
)
@http_options
def check(
    paths: tuple[str, ...],
    fmt: str,
    reports: tuple[str, ...],
    ignores: tuple[str, ...],
    strict: bool,
    live_from: str | None,
    no_color: bool,
    verbose: bool,
    unmanaged: bool,
    model_instance_ids: tuple[str, ...],
    fetch: str,
    baseline: str | None,
    fail_on: str,
    ignore_file: str | None,
    **kwargs: Any,
) -> int:
    """Compare declared deployments with live ones (PATH defaults to manifests/).

    Exit 0 when every deployment is in sync, 2 when any drifted or is missing, 1 on any error.
    """
    options = CheckOptions(
        paths=paths,
        format=fmt,
        reports=parse_report_targets(reports),
        ignore=parse_ignores(ignores),
        strict=strict,
        live_from=live_from,
        http=make_http_options(kwargs),
        color=use_color(no_color, sys.stdout),
        verbose=verbose,
        fetch=fetch,
        unmanaged=list_scope(unmanaged, model_instance_ids),
        baseline=baseline,
        fail_on=fail_on,
        ignore_file=ignore_file,
        progress=progress_for(sys.stderr),
    )
    return run_check(options)


def list_scope(unmanaged: bool, model_instance_ids: tuple[str, ...]) -> Any:
    from driftcheck.fetch import ListScope

    if not unmanaged:
        if model_instance_ids:
            raise click.UsageError("--model-instance-id scopes --unmanaged; add --unmanaged")
        return None
    if any(not mi for mi in model_instance_ids):
        raise click.BadParameter("must not be empty", param_hint="'--model-instance-id'")
    return ListScope(tuple(dict.fromkeys(model_instance_ids)) or None)


def run_check(options: CheckOptions) -> int:
    from driftcheck import engine
    from driftcheck.baseline import BaselineError, load_baseline, mark
    from driftcheck.fetch import ApiSource, SnapshotSource, SourceError
    from driftcheck.ignorefile import (
        IgnoreFileError,
        default_ignore_files,
        parse_ignore_files,
    )
    from driftcheck.result import format_timestamp

    desired = load_desired(options.paths)
    if desired is None:
        return EXIT_ERROR
    # Everything that can be wrong locally is found before the first request: the baseline
    # may even be the file that --report json= is about to overwrite.
    ignore_files = (
        [options.ignore_file]
        if options.ignore_file
        else default_ignore_files(options.paths or (DEFAULT_PATH,))
    )
    try:
        rules = parse_ignore_files(ignore_files)
    except IgnoreFileError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        return fail("invalid ignore file; nothing was checked")
    baseline = None
    if options.baseline:
        try:
            baseline = load_baseline(options.baseline)
        except BaselineError as exc:
            return fail(exc.message)
    try:
        source: Any
        if options.live_from:
            source = SnapshotSource(options.live_from)
        else:
            source = ApiSource(build_http_settings(options.http))
    except SourceError as exc:
        return fail(str(exc))
    result = engine.check(
        desired,
        source,
        strict=options.strict,
        ignore=options.ignore,
        progress=options.progress,
        fetch_mode=options.fetch,
        unmanaged=options.unmanaged,
        rules=rules,
    )
    if baseline is not None:
        marks = mark(result, baseline, format_timestamp(result.started_at))
        result = dataclasses.replace(result, marks=marks, fail_on=options.fail_on)
    return emit(result, options)


def emit(result: Any, options: CheckOptions) -> int:
    """Write every requested report; the exit code comes from the result alone."""
    from driftcheck.reporters import get_renderer

    color = options.color and options.format == "text"
    click.echo(get_renderer(options.format)(result, color=color, verbose=options.verbose), nl=False)
    code: int = result.exit_code
    for target in options.reports:
        text = get_renderer(target.format)(result, color=False, verbose=options.verbose)
        try:
            with open(target.path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            fail(f"cannot write {target.format} report to {target.path}: {exc.strerror or exc}")
            code = EXIT_ERROR
    if options.format == "github" or any(t.format == "github" for t in options.reports):
        from driftcheck.reporters.github import append_step_summary

        try:
            append_step_summary(result, os.environ)
        except OSError as exc:
            fail(f"cannot append the job summary to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
            code = EXIT_ERROR
    return code


# ---------------------------------------------------------------------------------------------
# validate, schema


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
def validate(paths: tuple[str, ...]) -> int:
    """Check manifests offline: every problem with file:line:column. Exit 0 or 1."""
    desired = load_desired(paths)
    if desired is None:
        return EXIT_ERROR
    count = len(desired.deployments)
    files = len(desired.files)
    click.echo(
        f"ok: {count} deployment{'s' if count != 1 else ''} in "
        f"{files} manifest{'s' if files != 1 else ''}"
    )
    return 0


@cli.command()
@click.option(
    "--kind",
    type=click.Choice(SCHEMA_KINDS),
    default="manifest",
    show_default=True,
    help="manifest (for editors), report (JSON report v1) or snapshot (snapshot v1).",
)
def schema(kind: SchemaKind) -> int:
    """Print a JSON Schema (draft 2020-12): the manifest's, the JSON report's or the snapshot's."""
    from driftcheck.schemas import schema_text

    click.echo(schema_text(kind), nl=False)
    return 0


# ---------------------------------------------------------------------------------------------
# snapshot


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the snapshot (- for stdout).",
)
@click.option(
    "--all",
    "record_all",
    is_flag=True,
    help="Record every live deployment of the account (list endpoint), not only declared ones.",
)
@click.option(
    "--model-instance-id",
    "model_instance_ids",
    multiple=True,
    metavar="ID",
    help="With --all: only these model instances (repeatable).",
)
@click.option(
    "--as-manifest",
    is_flag=True,
    help="Write a manifest v1 that checks in sync against the recorded state instead.",
)
@http_options
def snapshot(
    paths: tuple[str, ...],
    output: str,
    record_all: bool,
    model_instance_ids: tuple[str, ...],
    as_manifest: bool,
    **kwargs: Any,
) -> int:
    """Record the live state of the declared deployments (snapshot v1, read by --live-from).

    With --all, every live deployment is recorded (PATH is then optional); with --as-manifest,
    a manifest is written instead, to adopt driftcheck on existing deployments.
    """
    import datetime as dt
    import json

    from driftcheck.fetch import ApiSource, Failed, Fetched, SourceError, snapshot_document
    from driftcheck.manifest import DesiredState
    from driftcheck.result import format_timestamp

    if model_instance_ids and not record_all:
        raise click.UsageError("--model-instance-id scopes --all; add --all")
    if output != "-":
        problem = _unwritable(output)
        if problem:
            raise click.BadParameter(problem, param_hint="'--output'")
    if record_all and not paths and not os.path.exists(DEFAULT_PATH):
        desired = DesiredState(())
    else:
        desired = load_desired(paths)
    if desired is None:
        return EXIT_ERROR
    try:
        source = ApiSource(build_http_settings(make_http_options(kwargs)))
    except SourceError as exc:
        return fail(str(exc))
    keys = [d.key for d in desired.deployments]
    captured = format_timestamp(dt.datetime.now(dt.timezone.utc))
    scope = list_scope(record_all, model_instance_ids)
    collected = source.collect(keys, mode="get", scope=scope, progress=progress_for(sys.stderr))
    outcomes = list(collected.outcomes)
    complete = False
    listing = collected.listing
    if listing is not None:
        if listing.error is not None:
            fail(f"could not list live deployments: {listing.error.message}")
        else:
            complete = scope.model_instance_ids is None
            declared = set(keys)
            for item in listing.items:
                key = (str(item.get("model_instance_id") or ""), item["id"])
                if key not in declared:
                    keys.append(key)
                    outcomes.append(Fetched(item))
    if as_manifest:
        from driftcheck.bootstrap import manifest_from_outcomes

        text = manifest_from_outcomes(
            keys, outcomes, source=source.description, captured_at=captured
        )
    else:
        document = snapshot_document(source.description, keys, outcomes, captured)
        if complete:
            document["all"] = True  # additive: --live-from can then look for unmanaged ones
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output == "-":
        click.echo(text, nl=False)
    else:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            return fail(f"cannot write {output}: {exc.strerror or exc}")
    failures = [(k, o) for k, o in zip(keys, outcomes, strict=True) if isinstance(o, Failed)]
    for (mi, dep), outcome in failures:
        fail(f"{mi}/{dep} not recorded: {outcome.error.message}")
    recorded = len(keys) - len(failures)
    click.echo(f"driftcheck: recorded {recorded} of {len(keys)} deployments in {output}", err=True)
    listing_failed = listing is not None and listing.error is not None
    return EXIT_ERROR if failures or listing_failed else 0


# ---------------------------------------------------------------------------------------------
# completion


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script, e.g. eval "$(driftcheck completion bash)"."""
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    if complete is None:  # pragma: no cover - click ships all three
        return fail(f"no completion for {shell}")
    click.echo(complete(cli, {}, "driftcheck", "_DRIFTCHECK_COMPLETE").source())
    return 0
