"""Path patterns (ignore and sensitive): parsing, quoting and what a pattern covers."""

from __future__ import annotations

import pytest

from driftcheck.paths import PathPattern, PatternError, parse_pattern

# ---------------------------------------------------------------------------------------------
# Ignore patterns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty"),
        ("a..b", "empty segment"),
        (".a", "empty segment"),
        ("a.", "empty segment"),
        ("a*", "'*' must be a whole segment"),
        ("a.*b", "'*' must be a whole segment"),
        (" a", "surrounding spaces"),
        ("a ", "surrounding spaces"),
        ("a b", "white space"),
        ("a.b\tc", "white space"),
    ],
)
def test_invalid_ignore_pattern(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_pattern(text)


def test_parsed_pattern_keeps_text_and_segments() -> None:
    assert parse_pattern("a.*.c") == PathPattern("a.*.c", ("a", None, "c"))


@pytest.mark.parametrize(
    ("pattern", "path", "covered"),
    [
        ("a.b", ("a", "b"), True),
        ("a.b", ("a", "b", "c"), True),  # a pattern covers everything below it
        ("a.b", ("a", "b", "c", "d"), True),
        ("a.b", ("a",), False),  # a shorter path is not covered
        ("a.b", ("a", "c"), False),
        ("a.b", ("a", "bc"), False),
        ("a.b", ("ab",), False),
        ("*", ("anything",), True),
        ("*", ("x", "y"), True),
        ("a.*", ("a", "x"), True),
        ("a.*", ("a", "x", "y"), True),
        ("a.*", ("a",), False),
        ("*.b", ("x", "b"), True),
        ("*.b", ("x", "c"), False),
        ("a.*.c", ("a", "x", "c"), True),
        ("a.*.c", ("a", "x", "d"), False),
        ("a.*.c", ("a", "x"), False),
        ("a.0", ("a", 0), True),  # integer segments compare by their text
    ],
)
def test_ignore_pattern_coverage(pattern: str, path: tuple[str | int, ...], covered: bool) -> None:
    assert parse_pattern(pattern).covers(path) is covered
