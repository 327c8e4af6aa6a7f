"""Path patterns (ignore and sensitive): parsing, quoting and what a pattern covers."""

from __future__ import annotations

import re

import pytest

from driftcheck.paths import (
    PATTERN_REGEX,
    PathPattern,
    PatternError,
    dotted,
    parse_pattern,
    quoted,
    split_pattern,
)

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


# ---------------------------------------------------------------------------------------------
# Quoted segments: a key with a dot, a star, spaces or quotes is still one segment


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ('deployment_metadata."k.dot"', ("deployment_metadata", "k.dot")),
        ('"a"', ("a",)),
        ('a."*"', ("a", "*")),  # a literal star, not a wildcard
        ('a."two words".b', ("a", "two words", "b")),
        ('a."say \\"hi\\""', ("a", 'say "hi"')),
        ('a."back\\\\slash"', ("a", "back\\slash")),
        ('a.""', ("a", "")),  # JSON allows an empty key
        ("a.*", ("a", None)),
        ("a\\b", ("a\\b",)),  # outside quotes a backslash is an ordinary character
    ],
)
def test_quoted_segments(text: str, segments: tuple[str | None, ...]) -> None:
    assert parse_pattern(text).segments == segments


def test_a_quoted_dotted_key_covers_only_that_key() -> None:
    pattern = parse_pattern('deployment_metadata."k.dot"')
    assert pattern.covers(("deployment_metadata", "k.dot"))
    assert pattern.covers(("deployment_metadata", "k.dot", "deeper"))
    assert not pattern.covers(("deployment_metadata", "k", "dot"))
    # unquoted, the dot separates segments: the nested key, never the dotted one
    assert not parse_pattern("deployment_metadata.k.dot").covers(("deployment_metadata", "k.dot"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a."open', "unterminated quote"),
        ('a."x"y', "must be followed by '.'"),
        ('a.x"y"', "a quote may only open a whole segment"),
        ('a."\\n"', "a backslash may only escape"),
        ('a."x".', "empty segment"),
    ],
)
def test_invalid_quoted_patterns(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_pattern(text)


@pytest.mark.parametrize(
    "path",
    [("a", "k.dot"), ("a", "*"), ("a", 'q"uote', "b\\s"), ("a", "two words"), ("a", ""), ("x",)],
)
def test_quoted_names_exactly_its_path(path: tuple[str, ...]) -> None:
    pattern = parse_pattern(quoted(path))
    assert pattern.segments == path
    assert dotted(path) == ".".join(path)


@pytest.mark.parametrize(
    "text",
    [
        "a.b",
        "*",
        "a.*.c",
        'a."k.dot"',
        'a."x \\"y\\""',
        'a.""',
        "a\\b",
        "",
        " a",
        "a..b",
        "a*",
        "a b",
        'a."open',
        'a."x"y',
        'a.x"y"',
        'a."\\n"',
        "a.",
        ".a",
    ],
)
def test_schema_regex_accepts_exactly_what_the_parser_accepts(text: str) -> None:
    try:
        parse_pattern(text)
        valid = True
    except PatternError:
        valid = False
    assert (re.fullmatch(PATTERN_REGEX, text) is not None) is valid


def test_split_pattern_stops_at_white_space_outside_quotes() -> None:
    assert split_pattern('a."b c".d until=2026-01-01') == ('a."b c".d', " until=2026-01-01")
    assert split_pattern('a."x\\" y" rest') == ('a."x\\" y"', " rest")
    assert split_pattern("a.b") == ("a.b", "")
