"""Progress goes to stderr only on a terminal and never in CI logs; colour likewise."""

from __future__ import annotations

import io

from driftcheck.terminal import ProgressLine, progress_for, use_color


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_outside_ci() -> None:
    assert progress_for(io.StringIO(), {}) is None
    assert isinstance(progress_for(Terminal(), {}), ProgressLine)
    assert progress_for(Terminal(), {"CI": "true"}) is None


def test_progress_line_redraws_in_place_and_clears_at_the_end() -> None:
    stream = Terminal()
    line = ProgressLine(stream)
    for done in range(1, 201):
        line(done, 200)
    text = stream.getvalue()
    assert text.startswith("\rdriftcheck: checked 1/200\rdriftcheck: checked 3/200")
    assert text.count("\r") <= 2 * 101  # at most one redraw per percent, plus the clear
    assert text.endswith("\rdriftcheck: checked 200/200\r\x1b[K")


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert use_color(False, Terminal(), {}) is True
    assert use_color(False, io.StringIO(), {}) is False
    assert use_color(True, Terminal(), {}) is False
    assert use_color(False, Terminal(), {"NO_COLOR": "1"}) is False
    assert use_color(False, Terminal(), {"NO_COLOR": ""}) is True  # only non-empty counts
    assert use_color(False, Terminal(), {"TERM": "dumb"}) is False
    assert use_color(False, Terminal(), {"TERM": "xterm-256color"}) is True
