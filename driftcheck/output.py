"""Where reports go: ``--report FORMAT=PATH`` targets, report files, stdout, the job summary.

A file a user had is never destroyed by a failed run: every file is written to a temporary file
in the same directory and renamed over the target only when it is complete.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

import click

from driftcheck.errors import DriftcheckError
from driftcheck.result import RunResult


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: str


def unwritable(path: str) -> str | None:
    """Why ``path`` cannot be written, found before any request is made (None: it can)."""
    if not path:
        return "the path is empty"
    if os.path.isdir(path):
        return f"{path} is a directory"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"directory {parent} does not exist"
    if os.path.exists(path):
        return None if os.access(path, os.W_OK) else f"{path} is not writable"
    return None if os.access(parent, os.W_OK) else f"directory {parent} is not writable"


def same_file(a: str, b: str) -> bool:
    """Whether two spellings name one file (``./r.json`` and ``r.json``, a symlink, a hard
    link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet: different files
        return False


_STDOUT_NAMES = frozenset({"/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})


def is_stdout(path: str) -> bool:
    """Whether ``path`` is standard output (``/dev/stdout``), or the file or pipe the shell
    sent stdout to: a report there would interleave with ``--format``'s output, or be
    replaced under it. A shared device such as ``/dev/null`` is no clash."""
    if os.path.abspath(path) in _STDOUT_NAMES:
        return True
    try:
        out = os.fstat(sys.stdout.fileno())
        target = os.stat(path)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False  # no such file yet, or stdout is not a real file (tests capture it)
    shared = stat.S_ISREG(target.st_mode) or stat.S_ISFIFO(target.st_mode)
    return shared and (out.st_dev, out.st_ino) == (target.st_dev, target.st_ino)


def clashing_input(path: str, inputs: Iterable[str]) -> str | None:
    """The first of ``inputs`` (manifests, ignore files, a snapshot) that ``path`` would
    overwrite, or None."""
    return next((name for name in inputs if same_file(path, name)), None)


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all; the old file stays until the new one
    is complete. A symlink is followed (the link stays), and the file keeps its permissions.
    A device or pipe (``/dev/stderr``) cannot be replaced and is written directly."""
    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    directory, name = os.path.split(target)
    temporary = write_temporary(
        directory, text, prefix=f".{name}.", mode=stat.S_IMODE(mode) if mode is not None else None
    )
    try:
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_temporary(directory: str, text: str, *, prefix: str, mode: int | None = None) -> str:
    """A complete, synced file holding ``text`` in ``directory`` under a fresh name, with
    ``mode`` (default: what ``open(path, "w")`` would give; mkstemp makes it 0600). The caller
    gives it its final name, or removes it."""
    fd, temporary = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode if mode is not None else default_file_mode())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return temporary


def default_file_mode() -> int:
    """What ``open(path, "w")`` would have given a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_stdout(text: str) -> None:
    """Write to stdout; a full disk or closed stream is one clear error, not a traceback."""
    try:
        click.echo(text, nl=False)  # flushes, so a full disk shows here and not at exit
    except BrokenPipeError:
        raise  # the reader went away (``| head``): the CLI exits 1 quietly
    except OSError as exc:
        discard_stdout()
        raise DriftcheckError(f"cannot write to standard output: {exc.strerror or exc}") from None


def discard_stdout() -> None:
    """Point fd 1 at /dev/null so that the interpreter's final flush of what is still
    buffered cannot fail a second time (it would print "Exception ignored ...")."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return  # not a real file (tests capture stdout in memory)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def append_step_summary(path: str, result: RunResult) -> None:
    """Append the Markdown report to the job summary (``$GITHUB_STEP_SUMMARY``)."""
    from driftcheck.reporters import markdown

    with open(path, "a", encoding="utf-8") as summary_file:
        summary_file.write(markdown.render(result))
