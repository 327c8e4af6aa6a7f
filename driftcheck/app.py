"""The application: ``run_check`` / ``run_snapshot`` / ``run_validate`` take plain option
objects (built by ``cli.py``) and return the exit code.

Everything that can be wrong locally (manifests, ignore files, the baseline, the key) is found
before the first request. Errors are raised as :class:`~driftcheck.errors.DriftcheckError`; the
command line prints them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import click

from driftcheck import __version__
from driftcheck.errors import DriftcheckError
from driftcheck.live.api import ApiSource
from driftcheck.live.records import Failed, Fetched, ListScope, LiveSource, Outcome, Progress
from driftcheck.live.settings import HttpSettings
from driftcheck.live.snapshot import SnapshotSource
from driftcheck.manifest import DesiredState, load_manifests
from driftcheck.normalize import IgnorePattern
from driftcheck.output import ReportTarget, append_step_summary, write_text
from driftcheck.result import EXIT_ERROR, FailOn, RunResult, format_timestamp

DEFAULT_PATH = "manifests"
FetchMode = Literal["auto", "get", "list"]


@dataclass(frozen=True)
class ApiKey:
    """Where the key comes from: the value of ``SGP_API_KEY`` (read at the edge) or a file."""

    from_env: str = field(repr=False)
    file: str | None = None


@dataclass(frozen=True)
class CheckOptions:
    paths: tuple[str, ...]
    format: str
    reports: tuple[ReportTarget, ...]
    ignore: tuple[IgnorePattern, ...]
    strict: bool
    live_from: str | None
    http: HttpSettings  # everything but the key, which run_check reads from ``api_key``
    api_key: ApiKey
    color: bool
    verbose: bool
    fetch: FetchMode = "auto"
    unmanaged: ListScope | None = None
    baseline: str | None = None
    fail_on: FailOn = "any"
    ignore_file: str | None = None
    progress: Progress | None = None
    step_summary: str | None = None  # $GITHUB_STEP_SUMMARY


@dataclass(frozen=True)
class SnapshotOptions:
    paths: tuple[str, ...]
    output: str  # "-" for stdout
    record_all: bool
    scope: ListScope | None
    as_manifest: bool
    http: HttpSettings
    api_key: ApiKey
    progress: Progress | None = None


def load_desired(paths: Sequence[str]) -> DesiredState:
    """Every manifest under ``paths`` (default ``manifests/``); ManifestError lists problems."""
    return load_manifests(paths or (DEFAULT_PATH,))


def read_api_key(key: ApiKey) -> str:
    api_key = key.from_env
    if key.file:
        try:
            with open(key.file, encoding="utf-8") as handle:
                api_key = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise DriftcheckError(f"cannot read --api-key-file {key.file}: {reason}") from None
        if not api_key:
            raise DriftcheckError(f"--api-key-file {key.file} is empty")
    return api_key.strip()


def api_source(http: HttpSettings, key: ApiKey) -> ApiSource:
    return ApiSource(replace(http, api_key=read_api_key(key)))


@contextlib.contextmanager
def importing_in_background(module: str) -> Iterator[None]:
    """deepdiff takes ~150 ms to import and is needed as soon as one deployment drifted:
    import it while the requests wait on the network instead of after them."""
    warm_up = threading.Thread(target=importlib.import_module, args=(module,))
    warm_up.start()
    try:
        yield
    finally:
        warm_up.join()  # never leave an import running behind the caller


def fail(message: str) -> int:
    click.echo(f"driftcheck: error: {message}", err=True)
    return EXIT_ERROR


# ---------------------------------------------------------------------------------------------
# check


def run_check(options: CheckOptions) -> int:
    from driftcheck import engine
    from driftcheck.baseline import load_baseline
    from driftcheck.ignorefile import default_ignore_files, parse_ignore_files

    desired = load_desired(options.paths)
    # Everything that can be wrong locally is found before the first request: the baseline
    # may even be the file that --report json= is about to overwrite.
    ignore_files = (
        [options.ignore_file]
        if options.ignore_file
        else default_ignore_files(options.paths or (DEFAULT_PATH,))
    )
    rules = parse_ignore_files(ignore_files)
    baseline = load_baseline(options.baseline) if options.baseline else None
    source: LiveSource
    if options.live_from:
        source = SnapshotSource(options.live_from)
    else:
        source = api_source(options.http, options.api_key)
    with importing_in_background("deepdiff"):
        result = engine.check(
            desired,
            source,
            strict=options.strict,
            ignore=options.ignore,
            progress=options.progress,
            fetch_mode=options.fetch,
            unmanaged=options.unmanaged,
            rules=rules,
            baseline=baseline,
            fail_on=options.fail_on,
            version=__version__,
        )
    return emit(result, options)


def emit(result: RunResult, options: CheckOptions) -> int:
    """Write every requested report; the exit code comes from the result alone."""
    from driftcheck.reporters import get_renderer

    color = options.color and options.format == "text"
    click.echo(get_renderer(options.format)(result, color=color, verbose=options.verbose), nl=False)
    code = result.exit_code
    for target in options.reports:
        text = get_renderer(target.format)(result, color=False, verbose=options.verbose)
        try:
            write_text(target.path, text)
        except OSError as exc:
            fail(f"cannot write {target.format} report to {target.path}: {exc.strerror or exc}")
            code = EXIT_ERROR
    github = options.format == "github" or any(t.format == "github" for t in options.reports)
    if github and options.step_summary:
        try:
            append_step_summary(options.step_summary, result)
        except OSError as exc:
            fail(f"cannot append the job summary to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
            code = EXIT_ERROR
    return code


# ---------------------------------------------------------------------------------------------
# validate


def run_validate(paths: tuple[str, ...]) -> int:
    desired = load_desired(paths)
    count = len(desired.deployments)
    files = len(desired.files)
    click.echo(
        f"ok: {count} deployment{'s' if count != 1 else ''} in "
        f"{files} manifest{'s' if files != 1 else ''}"
    )
    return 0


# ---------------------------------------------------------------------------------------------
# snapshot


def run_snapshot(options: SnapshotOptions) -> int:
    from driftcheck.live.snapshot import snapshot_document

    scope = options.scope
    if options.record_all and not options.paths and not os.path.exists(DEFAULT_PATH):
        desired = DesiredState(())
    else:
        desired = load_desired(options.paths)
    source = api_source(options.http, options.api_key)
    keys = [d.key for d in desired.deployments]
    captured = format_timestamp(dt.datetime.now(dt.timezone.utc))
    collected = source.collect(keys, mode="get", scope=scope, progress=options.progress)
    outcomes: list[Outcome] = list(collected.outcomes)
    complete = False
    listing = collected.listing
    if listing is not None and scope is not None:
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
    if options.as_manifest:
        from driftcheck.bootstrap import manifest_from_outcomes

        text = manifest_from_outcomes(
            keys, outcomes, source=source.description, captured_at=captured
        )
    else:
        document = snapshot_document(source.description, keys, outcomes, captured)
        if complete:
            document["all"] = True  # additive: --live-from can then look for unmanaged ones
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    output = options.output
    if output == "-":
        click.echo(text, nl=False)
    else:
        try:
            write_text(output, text)
        except OSError as exc:
            return fail(f"cannot write {output}: {exc.strerror or exc}")
    failures = [(k, o) for k, o in zip(keys, outcomes, strict=True) if isinstance(o, Failed)]
    for (mi, dep), outcome in failures:
        fail(f"{mi}/{dep} not recorded: {outcome.error.message}")
    recorded = len(keys) - len(failures)
    click.echo(f"driftcheck: recorded {recorded} of {len(keys)} deployments in {output}", err=True)
    listing_failed = listing is not None and listing.error is not None
    return EXIT_ERROR if failures or listing_failed else 0
