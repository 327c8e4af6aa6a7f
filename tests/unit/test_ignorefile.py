"""``.driftignore``: each syntax element, negation order, and every malformed-line message."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from driftcheck.ignore import IgnorePolicy, IgnoreRule
from driftcheck.ignorefile import (
    DEFAULT_NAME,
    IgnoreFileError,
    default_ignore_files,
    parse_ignore_file,
    parse_ignore_files,
    parse_ignore_text,
)
from driftcheck.paths import TreePath

VC_TAG = ("vendor_configuration", "inference_framework_image_tag")
LAST_ROLLOUT = ("deployment_metadata", "last_rollout")


@dataclass(frozen=True)
class Declared:
    key: tuple[str, str]
    ignore: tuple[IgnoreRule, ...] = ()


@dataclass(frozen=True)
class Parsed:
    """Parsed rules, asked through the ignore policy as a run asks them."""

    rules: tuple[IgnoreRule, ...]

    def is_ignored(self, mi: str, dep: str, path: TreePath) -> bool:
        return IgnorePolicy(files=self.rules).decide(Declared((mi, dep)), path).silenced


def rules(*lines: str) -> Parsed:
    return Parsed(parse_ignore_text("\n".join(lines), "ignore"))


def problems(*lines: str) -> list[str]:
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_text("\n".join(lines), "ignore")
    return caught.value.problems


# ---------------------------------------------------------------------------------------------
# Selectors and patterns


def test_exact_selector_and_pattern() -> None:
    parsed = rules("mi_1/dep_1 deployment_metadata.last_rollout")
    assert parsed.is_ignored("mi_1", "dep_1", LAST_ROLLOUT)
    assert not parsed.is_ignored("mi_1", "dep_2", LAST_ROLLOUT)
    assert not parsed.is_ignored("mi_2", "dep_1", LAST_ROLLOUT)
    assert not parsed.is_ignored("mi_1", "dep_1", ("deployment_metadata", "team"))


def test_pattern_covers_everything_below_it() -> None:
    parsed = rules("mi_1/dep_1 deployment_metadata")
    assert parsed.is_ignored("mi_1", "dep_1", LAST_ROLLOUT)
    assert parsed.is_ignored("mi_1", "dep_1", ("deployment_metadata", "a", "b"))
    assert parsed.is_ignored("mi_1", "dep_1", ("deployment_metadata",))
    assert not parsed.is_ignored("mi_1", "dep_1", ("deployment_metadatax",))
    assert not parsed.is_ignored("mi_1", "dep_1", VC_TAG)


def test_star_segment_in_pattern_and_star_alone_covers_all() -> None:
    parsed = rules("mi_1/dep_1 *.last_rollout")
    assert parsed.is_ignored("mi_1", "dep_1", LAST_ROLLOUT)
    assert parsed.is_ignored("mi_1", "dep_1", ("model_creation_parameters", "last_rollout"))
    assert not parsed.is_ignored("mi_1", "dep_1", ("name",))
    everything = rules("mi_1/dep_1 *")
    assert everything.is_ignored("mi_1", "dep_1", ("name",))
    assert everything.is_ignored("mi_1", "dep_1", VC_TAG)


def test_integer_segments_match_their_text() -> None:
    parsed = rules("mi_1/dep_1 model_creation_parameters.layers.0")
    assert parsed.is_ignored("mi_1", "dep_1", ("model_creation_parameters", "layers", 0))


@pytest.mark.parametrize(
    ("selector", "matching", "other"),
    [
        ("*/*", ("any", "thing"), None),
        ("*/dep_1", ("mi_9", "dep_1"), ("mi_9", "dep_2")),
        ("mi_1/*", ("mi_1", "dep_9"), ("mi_2", "dep_9")),
        ("prod-*/*", ("prod-eu", "d"), ("staging-eu", "d")),
        ("prod-*/*", ("prod-", "d"), ("prod", "d")),
        ("*-eu/dep_*", ("prod-eu", "dep_7"), ("prod-eu", "xdep_7")),
        ("a*b*c/*", ("aXXbYYc", "d"), ("aXXbYY", "d")),
        ("*/*", ("multi\nline", "d"), None),
    ],
)
def test_star_in_a_selector_matches_any_run_of_characters(
    selector: str, matching: tuple[str, str], other: tuple[str, str] | None
) -> None:
    parsed = rules(f"{selector} name")
    assert parsed.is_ignored(*matching, ("name",))
    if other is not None:
        assert not parsed.is_ignored(*other, ("name",))


def test_other_regex_characters_in_ids_are_literal() -> None:
    parsed = rules("mi.1+(x)?/dep[1]$ name")
    assert parsed.is_ignored("mi.1+(x)?", "dep[1]$", ("name",))
    assert not parsed.is_ignored("miX1+(x)?", "dep[1]$", ("name",))


# ---------------------------------------------------------------------------------------------
# Escapes and slashes


def test_selector_splits_at_the_first_unescaped_slash() -> None:
    parsed = rules("mi_1/dep/with/slashes name")
    assert parsed.is_ignored("mi_1", "dep/with/slashes", ("name",))
    assert not parsed.is_ignored("mi_1/dep", "with/slashes", ("name",))


def test_escaped_slash_belongs_to_the_model_instance_id() -> None:
    parsed = rules(r"org\/mi_1/dep_1 name")
    assert parsed.is_ignored("org/mi_1", "dep_1", ("name",))
    assert not parsed.is_ignored("org", "mi_1/dep_1", ("name",))


@pytest.mark.parametrize(
    ("line", "mi", "dep"),
    [
        (r"a\*b/dep name", "a*b", "dep"),
        (r"a\\/dep name", "a\\", "dep"),
        (r"a\ b/dep\ 1 name", "a b", "dep 1"),
        (r"\#hash/dep name", "#hash", "dep"),
        (r"\!bang/dep name", "!bang", "dep"),
        (r"mi/\!dep name", "mi", "!dep"),
        (r"m\i/dep name", "mi", "dep"),
    ],
)
def test_backslash_makes_the_next_character_literal(line: str, mi: str, dep: str) -> None:
    parsed = rules(line)
    assert parsed.is_ignored(mi, dep, ("name",))


def test_escaped_star_is_not_a_wildcard() -> None:
    parsed = rules(r"a\*/dep name")
    assert parsed.is_ignored("a*", "dep", ("name",))
    assert not parsed.is_ignored("ab", "dep", ("name",))


# ---------------------------------------------------------------------------------------------
# Negation, comments, blank lines


def test_negation_re_includes_and_the_last_matching_rule_wins() -> None:
    parsed = rules(
        "*/* deployment_metadata",
        "!prod/* deployment_metadata.owner",
    )
    assert parsed.is_ignored("prod", "d", LAST_ROLLOUT)
    assert not parsed.is_ignored("prod", "d", ("deployment_metadata", "owner"))
    assert parsed.is_ignored("staging", "d", ("deployment_metadata", "owner"))
    # A later plain rule ignores it again.
    again = rules(
        "*/* deployment_metadata",
        "!prod/* deployment_metadata.owner",
        "prod/dep_1 deployment_metadata.owner",
    )
    assert again.is_ignored("prod", "dep_1", ("deployment_metadata", "owner"))
    assert not again.is_ignored("prod", "dep_2", ("deployment_metadata", "owner"))


def test_negation_before_the_rule_it_would_undo_has_no_effect() -> None:
    parsed = rules("!*/* name", "*/* name")
    assert parsed.is_ignored("mi", "dep", ("name",))


def test_negation_alone_ignores_nothing() -> None:
    parsed = rules("!*/* name")
    assert not parsed.is_ignored("mi", "dep", ("name",))


def test_negating_a_child_does_not_re_include_its_parent_path() -> None:
    # A whole-map difference at deployment_metadata is still covered by the first rule.
    parsed = rules("*/* deployment_metadata", "!*/* deployment_metadata.owner")
    assert parsed.is_ignored("mi", "dep", ("deployment_metadata",))


def test_comments_blank_lines_and_surrounding_space_are_skipped() -> None:
    parsed = rules(
        "# a comment",
        "   # an indented comment",
        "",
        "   ",
        "\t mi_1/dep_1 \t name  ",
        "#mi_2/dep_2 name",
    )
    assert len(parsed.rules) == 1
    assert parsed.rules[0].line == 5
    assert parsed.is_ignored("mi_1", "dep_1", ("name",))
    assert not parsed.is_ignored("mi_2", "dep_2", ("name",))


def test_line_numbers_count_every_line_ending() -> None:
    parsed = Parsed(parse_ignore_text("# one\r\n# two\rmi/dep name\n", "f"))
    assert parsed.rules[0].line == 3
    assert parsed.rules[0].file == "f"


def test_empty_rules_ignore_nothing() -> None:
    assert not Parsed(()).is_ignored("mi", "dep", ("name",))
    assert rules().rules == ()


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("mi_1 name", "selector 'mi_1' has no '/' between model instance id and deployment id"),
        ("mi_1/dep_1", "no path pattern after the selector"),
        ("mi_1/dep_1   ", "no path pattern after the selector"),
        ("/dep_1 name", "empty model instance id before '/'"),
        ("mi_1/ name", "empty deployment id after '/'"),
        ("! mi_1/dep_1 name", "'!' must be followed directly by a rule"),
        ("!", "'!' must be followed directly by a rule"),
        ("mi_1/dep_1 a b # why", "unexpected text after the path pattern: 'b'"),
        ("mi_1/dep_1 a owner=", "owner= needs a value"),
        ("mi_1/dep_1 a until=2026-02-30", "invalid date '2026-02-30': no such day"),
        ("mi_1/dep_1 a until=31.12.2026", "invalid date '31.12.2026': expected YYYY-MM-DD"),
        ("mi_1/dep_1 a until=2026-01-01 until=2026-01-02", "until= given twice"),
        ("mi_1/dep_1 a expires=2026-01-01", "unexpected text after the path pattern"),
        ('mi_1/dep_1 a."open', "invalid path pattern"),
        ("mi_1/dep_1 a..b", "invalid path pattern 'a..b': empty segment"),
        ("mi_1/dep_1 .name", "invalid path pattern '.name': empty segment"),
        ("mi_1/dep_1 vendor*", "invalid path pattern 'vendor*': '*' must be a whole segment"),
        ("mi_1\\", "a '\\' at the end of the selector escapes nothing"),
        (r"mi\/dep name", "has no '/' between"),
    ],
)
def test_malformed_line_is_reported_with_file_and_line(line: str, message: str) -> None:
    found = problems("# header", line)
    assert len(found) == 1
    assert found[0].startswith("ignore:2: ")
    assert message in found[0]


def test_every_problem_is_reported_at_once() -> None:
    found = problems("mi/dep name", "bad", "mi/dep", "also bad here", "mi/dep ok")
    assert [p.split(":")[1] for p in found] == ["2", "3", "4"]


def test_unreadable_non_utf8_and_huge_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_file(str(missing))
    assert caught.value.problems == [f"{missing}: cannot read: No such file or directory"]

    binary = tmp_path / "binary"
    binary.write_bytes(b"mi/dep name\n\xff\xfe")
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_file(str(binary))
    assert caught.value.problems == [f"{binary}: not UTF-8 text (byte 12)"]

    huge = tmp_path / "huge"
    huge.write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_file(str(huge))
    assert "too large" in caught.value.problems[0]


def test_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / DEFAULT_NAME
    path.write_bytes("\ufeff# c\r\nmi/dep name\r\n".encode())
    parsed = Parsed(parse_ignore_file(str(path)))
    assert parsed.rules[0].file == str(path)
    assert parsed.rules[0].line == 2
    assert parsed.is_ignored("mi", "dep", ("name",))


# ---------------------------------------------------------------------------------------------
# Several files, defaults


def test_several_files_concatenate_and_report_all_problems(tmp_path: Path) -> None:
    first = tmp_path / "a"
    second = tmp_path / "b"
    first.write_text("*/* deployment_metadata\n", encoding="utf-8")
    second.write_text("!*/* deployment_metadata.owner\n", encoding="utf-8")
    parsed = Parsed(parse_ignore_files([str(first), str(second)]))
    assert not parsed.is_ignored("m", "d", ("deployment_metadata", "owner"))
    assert parsed.is_ignored("m", "d", LAST_ROLLOUT)

    first.write_text("bad\n", encoding="utf-8")
    second.write_text("ok/ok x\nalso-bad\n", encoding="utf-8")
    with pytest.raises(IgnoreFileError) as caught:
        parse_ignore_files([str(first), str(second)])
    assert [p.split(": ")[0] for p in caught.value.problems] == [f"{first}:1", f"{second}:2"]


def test_default_ignore_files_beside_the_manifests(tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "prod.yaml").write_text("version: 1\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    assert default_ignore_files([str(manifests)]) == []
    (manifests / DEFAULT_NAME).write_text("", encoding="utf-8")
    expected = os.path.join(str(manifests), DEFAULT_NAME)
    assert default_ignore_files([str(manifests)]) == [expected]
    # A file argument looks in its own directory; the same file is listed once.
    both = [str(manifests), str(manifests / "prod.yaml"), str(other)]
    assert default_ignore_files(both) == [expected]


def test_default_ignore_file_for_a_bare_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("prod.yaml").write_text("version: 1\n", encoding="utf-8")
    Path(DEFAULT_NAME).write_text("", encoding="utf-8")
    assert default_ignore_files(["prod.yaml"]) == [os.path.join(".", DEFAULT_NAME)]


def test_until_owner_and_reason_after_the_pattern() -> None:
    (rule,) = parse_ignore_text(
        'mi/dep deployment_metadata."a b.c"\tuntil=2026-12-31  owner=@ml-platform'
        " # tag rolls # weekly",
        "f",
    )
    assert rule.pattern.segments == ("deployment_metadata", "a b.c")
    assert (str(rule.until), rule.owner, rule.reason) == (
        "2026-12-31",
        "@ml-platform",
        "tag rolls # weekly",
    )
    (plain,) = parse_ignore_text("mi/dep name #", "f")
    assert (plain.until, plain.owner, plain.reason) == (None, None, None)
