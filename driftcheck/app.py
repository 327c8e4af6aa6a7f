"""The application: ``run_check`` / ``run_validate`` / ``run_ignores`` take plain option
objects (built by ``cli.py``) and return the exit code.

Everything that can be wrong locally (manifests, ignore files, the baseline, the key) is found
before the first request. Errors are raised as :class:`~driftcheck.errors.DriftcheckError`; the
command line prints them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import click

from driftcheck import __version__
from driftcheck.errors import DriftcheckError
from driftcheck.ignorefile import IgnoreInputs, ignore_files, load_policy
from driftcheck.live.api import ApiSource
from driftcheck.live.records import ListScope, LiveSource, Progress
from driftcheck.live.settings import HttpSettings
from driftcheck.live.snapshot import SnapshotSource
from driftcheck.manifest import LoadedSet, Selection, load_set
from driftcheck.nightly import NightlyOptions
from driftcheck.output import (
    ReportTarget,
    append_step_summary,
    clashing_input,
    unwritable,
    write_atomically,
    write_stdout,
)
from driftcheck.paths import PathPattern
from driftcheck.result import EXIT_ERROR, FailOn, RunResult
from driftcheck.sensitive import SensitivePolicy, mask_run

if TYPE_CHECKING:
    from driftcheck.gate import GateRequest
    from driftcheck.wait import Clock

DEFAULT_PATH = "manifests"
MIN_KEY_LENGTH = 8
MAX_KEY_FILE_CHARS = 64 * 1024
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
    ignore: IgnoreInputs
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
    progress: Progress | None = None
    step_summary: str | None = None  # $GITHUB_STEP_SUMMARY
    sensitive: tuple[PathPattern, ...] = ()  # --sensitive
    show_sensitive: bool = False  # the text report on a terminal only (checked by cli.py)
    nightly: NightlyOptions = field(default_factory=NightlyOptions)  # --history, --notify
    gate: GateRequest | None = None  # --wait, --changed-since, --all
    selection: Selection = field(default_factory=Selection)  # --env, --var, ${env:} values
    clock: Clock | None = None  # --wait's time for this run; None: the system clock


def load_desired(paths: Sequence[str], selection: Selection | None = None) -> LoadedSet:
    """Every manifest under ``paths`` (default ``manifests/``) for the selected environments;
    ManifestError lists problems, SelectionError says what --env/--var do not fit. Without a
    selection (``ignores``): every environment, with this process's environment."""
    if selection is None:
        selection = Selection(process_env=dict(os.environ), every_by_default=True)
    return load_set(paths or (DEFAULT_PATH,), selection)


def read_api_key(key: ApiKey) -> str:
    api_key = key.from_env
    if key.file:
        try:
            with open(key.file, encoding="utf-8") as handle:
                api_key = handle.read(MAX_KEY_FILE_CHARS + 1).strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise DriftcheckError(f"cannot read --api-key-file {key.file}: {reason}") from None
        if not api_key:
            raise DriftcheckError(f"--api-key-file {key.file} is empty")
        if len(api_key) > MAX_KEY_FILE_CHARS:  # a wrong path (/dev/zero, a log) must not hang
            raise DriftcheckError(f"--api-key-file {key.file} is too large for a key")
    api_key = api_key.strip()
    # The key is redacted from everything written; a very short key would match inside
    # unrelated text and mangle every message. Empty is left to the "no API key" check.
    if 0 < len(api_key) < MIN_KEY_LENGTH:
        where = f"--api-key-file {key.file}" if key.file else "SGP_API_KEY"
        raise DriftcheckError(
            f"the API key in {where} is shorter than {MIN_KEY_LENGTH} characters; "
            "it cannot be a real key"
        )
    return api_key


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
    from driftcheck import engine, nightly
    from driftcheck.baseline import load_baseline
    from driftcheck.envrun import (
        check_snapshot_environment,
        desired_of,
        http_for,
        source_for,
        state_at_ref,
    )
    from driftcheck.notify import RetryPolicy

    step_summary = _step_summary(options)
    loaded = load_desired(options.paths, options.selection)
    desired = desired_of(loaded)
    # Everything that can be wrong locally is found before the first request: the baseline
    # may even be the file that --report json= is about to overwrite (that one is allowed:
    # it has been read by then, and the new report is the next night's baseline).
    manifest_paths = options.paths or (DEFAULT_PATH,)
    policy = load_policy(options.ignore, manifest_paths, desired.deployments)
    inputs = [*desired.files, *ignore_files(options.ignore, manifest_paths)]
    inputs += [name for name in (options.live_from, options.api_key.file) if name]
    for target in options.reports:
        refuse_overwriting(f"--report {target.format}={target.path}", target.path, inputs)
    if step_summary:
        # appending the job summary to a manifest (or to a report file that is replaced
        # whole) would corrupt it; GitHub's own path never clashes
        clash = clashing_input(step_summary, [*inputs, *(t.path for t in options.reports)])
        if clash is not None:
            raise DriftcheckError(
                f"$GITHUB_STEP_SUMMARY names {clash}, which this run reads or writes as a "
                "report; the job summary would corrupt it"
            )
    baseline = load_baseline(options.baseline) if options.baseline else None
    history = nightly.open_for(options.nightly)
    if baseline is None and history is not None:
        baseline = history.baseline  # the newest earlier report in --history
    # the wait line goes where the progress line goes: a terminal's stderr, not CI logs
    gate = (
        options.gate.prepare(
            options.paths or (DEFAULT_PATH,),
            options.progress is not None,
            # the manifests at REF are read for the same environments
            lambda files: state_at_ref(files, options.selection),
            options.clock,
        )
        if options.gate is not None
        else None
    )
    source: LiveSource
    if options.live_from:
        source = SnapshotSource(options.live_from)
        check_snapshot_environment(loaded, options.live_from)
    else:
        source = source_for(
            loaded, lambda env: api_source(http_for(options.http, env), options.api_key)
        )
    sensitive = SensitivePolicy(options.sensitive, getattr(source, "sensitive_salt", None))
    if gate is not None:
        from driftcheck import gate as release_gate

        with importing_in_background("deepdiff"):
            result = release_gate.run(desired, source, policy, options, gate, baseline, sensitive)
    else:
        with importing_in_background("deepdiff"):
            result = engine.check(
                desired,
                source,
                strict=options.strict,
                policy=policy,
                progress=options.progress,
                fetch_mode=options.fetch,
                unmanaged=options.unmanaged,
                baseline=baseline,
                fail_on=options.fail_on,
                version=__version__,
                live_from=options.live_from,
                sensitive=sensitive,
                reveal=options.show_sensitive,
            )
    # the engine masked its result unless --show-sensitive; marks added after it (the gate's)
    # and the revealed text report's counterpart for every other output are masked here; the
    # history file and notifications read only the masked result
    revealed = result if options.show_sensitive else None
    result = nightly.with_trend(mask_run(result, desired.deployments, sensitive), history)
    code = emit(result, options, step_summary, revealed)
    http = options.http
    retry = RetryPolicy(timeout=http.timeout, retries=http.retries, backoff=http.backoff)
    if not nightly.finish(result, history, options.nightly, retry):
        code = EXIT_ERROR  # a lost alert turns the job red, after every report was written
    return code


def refuse_overwriting(what: str, path: str, inputs: Sequence[str]) -> None:
    """An output that would overwrite one of the run's own input files is a usage error."""
    clash = clashing_input(path, inputs)
    if clash is not None:
        raise DriftcheckError(
            f"{what} would overwrite {clash}, which this run reads; choose another path"
        )


def _step_summary(options: CheckOptions) -> str | None:
    """The job summary file when a github report is asked for; an unwritable one is found
    before any request, not after every deployment was checked."""
    github = options.format == "github" or any(t.format == "github" for t in options.reports)
    if not github or not options.step_summary:
        return None
    problem = unwritable(options.step_summary)
    if problem is not None:
        raise DriftcheckError(
            f"cannot append the job summary to $GITHUB_STEP_SUMMARY: {problem}; nothing was checked"
        )
    return options.step_summary


def emit(
    result: RunResult,
    options: CheckOptions,
    step_summary: str | None,
    revealed: RunResult | None = None,
) -> int:
    """Write every requested report; the exit code comes from the result alone."""
    from driftcheck.reporters import get_renderer

    color = options.color and options.format == "text"
    shown = revealed if revealed is not None and options.format == "text" else result
    code = result.exit_code
    try:
        write_stdout(get_renderer(options.format)(shown, color=color, verbose=options.verbose))
    except DriftcheckError as exc:  # the report files below are still written
        for line in exc.lines():
            click.echo(line, err=True)
        code = EXIT_ERROR
    for target in options.reports:
        text = get_renderer(target.format)(result, color=False, verbose=options.verbose)
        try:
            write_atomically(target.path, text)
        except OSError as exc:
            fail(f"cannot write {target.format} report to {target.path}: {exc.strerror or exc}")
            code = EXIT_ERROR
    if step_summary:
        try:
            append_step_summary(step_summary, result)
        except OSError as exc:
            fail(f"cannot append the job summary to $GITHUB_STEP_SUMMARY: {exc.strerror or exc}")
            code = EXIT_ERROR
    return code


# ---------------------------------------------------------------------------------------------
# validate


def run_validate(
    paths: tuple[str, ...], ignores: IgnoreInputs, selection: Selection | None = None
) -> int:
    """Manifests and the ``.driftignore`` files ``check`` would read, offline; without --env,
    every environment of the set."""
    selection = replace(selection or Selection(), every_by_default=True)
    loaded = load_desired(paths, selection)
    load_policy(ignores, paths or (DEFAULT_PATH,), loaded.deployments)
    count = len(loaded.deployments)
    files = len(loaded.files)
    named = [state for state in loaded.states if state.name is not None]
    per_environment = (
        " (" + ", ".join(f"{s.name}: {len(s.desired.deployments)}" for s in named) + ")"
        if named
        else ""
    )
    write_stdout(
        f"ok: {count} deployment{'s' if count != 1 else ''} in "
        f"{files} manifest{'s' if files != 1 else ''}{per_environment}\n"
    )
    return 0


def run_ignores(paths: tuple[str, ...], ignores: IgnoreInputs, fmt: str) -> int:
    """``driftcheck ignores``: every ignore with its source, owner, until and status."""
    from driftcheck.reporters._ignores import render_ignores

    desired = load_desired(paths)
    policy = load_policy(ignores, paths or (DEFAULT_PATH,), desired.deployments)
    click.echo(render_ignores(policy, desired.deployments, fmt), nl=False)
    return 0
