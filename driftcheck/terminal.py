"""What depends on the terminal: colour and the progress line. The environment is passed in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO


def use_color(no_color: bool, stream: IO[str], environ: Mapping[str, str]) -> bool:
    # https://no-color.org: only a non-empty NO_COLOR turns colour off; a terminal that says
    # it is dumb (Emacs shells, some CI consoles) shows escape codes as garbage
    if no_color or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
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


def progress_for(stream: IO[str], environ: Mapping[str, str]) -> ProgressLine | None:
    """A progress line on a terminal, never in a CI log (``CI`` set)."""
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty() and not environ.get("CI"):
        return ProgressLine(stream)
    return None
