"""Command line (click only): options -> plain option objects, usage errors, exit-code remap.

The work is done by ``app.py``. The environment is read here, once. Heavy modules (httpx,
deepdiff, pydantic models) are imported inside the commands so that ``driftcheck --version``
and ``--help`` start fast.
"""

from __future__ import annotations

import errno
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from driftcheck import __version__
from driftcheck.checkoptions import (
    check_options,
    gate_request,
    injected_clock,
    nightly_options,
    snapshot_options,
)
from driftcheck.envoptions import env_options, selection
from driftcheck.errors import EXIT_ERROR, DriftcheckError
from driftcheck.options import (
    check_show_sensitive,
    http_options,
    http_settings,
    ignore_file_options,
    ignore_inputs,
    list_scope,
    parse_report_targets,
    parse_sensitive,
)
from driftcheck.schemas import KINDS as SCHEMA_KINDS
from driftcheck.terminal import progress_for, use_color

if TYPE_CHECKING:  # result.py's records take ~7 ms to build: not for --version or --help
    from driftcheck.app import FetchMode
    from driftcheck.notify import NotifyOn
    from driftcheck.result import FailOn
    from driftcheck.schemas import SchemaKind


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
        except DriftcheckError as exc:  # the one place where driftcheck's own errors end
            for line in exc.lines():
                click.echo(line, err=True)
            code = exc.exit_code
        except click.exceptions.Abort:
            click.echo("driftcheck: aborted", err=True)
            code = EXIT_ERROR
        except KeyboardInterrupt:
            click.echo("driftcheck: interrupted", err=True)
            code = EXIT_ERROR
        except BrokenPipeError:
            code = EXIT_ERROR
        except OSError as exc:
            code = EXIT_ERROR
            if exc.errno in _WRITE_ERRNOS:
                # --help, --version, schema, completion: click printed, the disk was full
                from driftcheck.output import discard_stdout

                discard_stdout()
                click.echo(f"driftcheck: error: cannot write output: {exc.strerror}", err=True)
            else:
                _internal_error(exc)
        except Exception as exc:  # the last line of defence: never a traceback for a user
            _internal_error(exc)
            code = EXIT_ERROR
        if not isinstance(code, int):
            code = 0
        if standalone_mode:
            sys.exit(code)
        return code


# what writing to a full disk, a quota or a broken device raises (BrokenPipeError is apart)
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})


def _internal_error(exc: Exception) -> None:
    click.echo(
        f"driftcheck: internal error ({type(exc).__name__}: {exc}); "
        "please report this with the command you ran",
        err=True,
    )


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
    # A run builds one large tree of data (manifests, live bodies, results) that lives until
    # exit and holds almost no cyclic garbage. At CPython's default threshold (700 new objects)
    # the cycle collector walks that growing tree hundreds of times, about 12 % of the CPU of
    # a 1,000-deployment check; every 10,000 still reclaims the cycles asyncio leaves.
    gc.set_threshold(10_000, 10, 10)
    try:
        cli.main()
    finally:
        # The interpreter collects once more at exit, walking every object the run made just
        # before the process ends (~60 ms at 1,000 deployments): frozen objects are skipped.
        gc.freeze()


# ---------------------------------------------------------------------------------------------
# check


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@check_options
@env_options
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
    fetch: FetchMode,
    baseline: str | None,
    fail_on: FailOn,
    sensitive: tuple[str, ...],
    show_sensitive: bool,
    history: str | None,
    keep: int | None,
    notify: tuple[str, ...],
    notify_on: NotifyOn,
    report_url: str | None,
    wait: str | None,
    changed_since: str | None,
    check_all: bool,
    **kwargs: Any,
) -> int:
    """Compare declared deployments with live ones (PATH defaults to manifests/).

    Exit 0 when every deployment is in sync, 2 when any drifted or is missing, 1 on any error.
    """
    from driftcheck.app import CheckOptions, run_check

    chosen = selection(kwargs, os.environ, sensitive=sensitive)
    if show_sensitive:
        check_show_sensitive(fmt, reports, sys.stdout)
    http, key = http_settings(kwargs, os.environ.get("SGP_API_KEY", ""))
    options = CheckOptions(
        paths=paths,
        format=fmt,
        reports=parse_report_targets(reports),
        ignore=ignore_inputs(kwargs, ignores),
        strict=strict,
        live_from=live_from,
        http=http,
        api_key=key,
        color=use_color(no_color, sys.stdout, os.environ),
        verbose=verbose,
        fetch=fetch,
        unmanaged=list_scope(unmanaged, model_instance_ids, "--unmanaged"),
        baseline=baseline,
        fail_on=fail_on,
        progress=progress_for(sys.stderr, os.environ),
        step_summary=os.environ.get("GITHUB_STEP_SUMMARY") or None,
        sensitive=parse_sensitive(sensitive),
        show_sensitive=show_sensitive,
        nightly=nightly_options(history, keep, notify, notify_on, report_url),
        gate=gate_request(wait, changed_since, check_all, live_from, unmanaged),
        selection=chosen,
        clock=injected_clock(click.get_current_context().obj),
    )
    return run_check(options)


# ---------------------------------------------------------------------------------------------
# validate, schema


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@ignore_file_options
@env_options
def validate(paths: tuple[str, ...], **kwargs: Any) -> int:
    """Check manifests and the .driftignore files check reads, offline: every problem with
    file:line. Exit 0 or 1. Without --env, every environment of the set is validated."""
    from driftcheck.app import run_validate

    chosen = selection(kwargs, os.environ)
    return run_validate(paths, ignore_inputs(kwargs), chosen)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="PATTERN",
    help="Also list this --ignore pattern (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@ignore_file_options
def ignores(paths: tuple[str, ...], ignores: tuple[str, ...], fmt: str, **kwargs: Any) -> int:
    """List every ignore with its source, owner, until and status, offline (PATH defaults to
    manifests/). Whether an ignore is unused shows only after a check."""
    from driftcheck.app import run_ignores

    return run_ignores(paths, ignore_inputs(kwargs, ignores), fmt)


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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@env_options
def render(paths: tuple[str, ...], **kwargs: Any) -> int:
    """Print one environment's effective manifest (plain manifest v1), each value with a
    '# file:line' comment saying where it came from."""
    from driftcheck.app import DEFAULT_PATH
    from driftcheck.manifest.render import render_paths

    click.echo(render_paths(paths or (DEFAULT_PATH,), selection(kwargs, os.environ)), nl=False)
    return 0


# ---------------------------------------------------------------------------------------------
# snapshot


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@snapshot_options
@env_options
@http_options
def snapshot(
    paths: tuple[str, ...],
    output: str,
    record_all: bool,
    model_instance_ids: tuple[str, ...],
    allow_partial: bool,
    as_manifest: bool,
    sensitive: tuple[str, ...],
    **kwargs: Any,
) -> int:
    """Record the live state of the declared deployments (snapshot v1, read by --live-from).

    With --all, every live deployment is recorded (PATH is then optional); with --as-manifest,
    a manifest is written instead, to adopt driftcheck on existing deployments.
    """
    from driftcheck.output import unwritable
    from driftcheck.snapshotrun import SnapshotOptions, run_snapshot

    scope = list_scope(record_all, model_instance_ids, "--all")
    if output != "-":
        problem = unwritable(output)
        if problem:
            raise click.BadParameter(problem, param_hint="'--output'")
    chosen = selection(kwargs, os.environ, sensitive=sensitive)
    http, key = http_settings(kwargs, os.environ.get("SGP_API_KEY", ""))
    options = SnapshotOptions(
        paths=paths,
        output=output,
        record_all=record_all,
        scope=scope,
        as_manifest=as_manifest,
        http=http,
        api_key=key,
        progress=progress_for(sys.stderr, os.environ),
        allow_partial=allow_partial,
        sensitive=parse_sensitive(sensitive),
        selection=chosen,
    )
    return run_snapshot(options)


# ---------------------------------------------------------------------------------------------
# completion


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> int:
    """Print the shell completion script, e.g. eval "$(driftcheck completion bash)"."""
    from click.shell_completion import get_completion_class

    complete = get_completion_class(shell)
    if complete is None:  # pragma: no cover - click ships all three
        raise click.UsageError(f"no completion for {shell}")
    click.echo(complete(cli, {}, "driftcheck", "_DRIFTCHECK_COMPLETE").source())
    return 0
