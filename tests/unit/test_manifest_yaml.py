"""Safe YAML loading: refused tags and bombs, merges, duplicates, positions."""

from __future__ import annotations

import pytest

from driftcheck.manifest import yaml as yamlload
from driftcheck.manifest.yaml import YamlError, load


def refused(text: str | bytes) -> YamlError:
    with pytest.raises(YamlError) as info:
        load(text)
    return info.value


# ---------------------------------------------------------------------------------------------
# Tags


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("!!python/object/apply:os.system ['echo hi']", "!!python/object/apply:os.system"),
        ("a: !!python/object/apply:os.system ['echo hi']", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system", "!!python/name:os.system"),
        ("a: !!python/tuple [1, 2]", "!!python/tuple"),
        ("a: !custom value", "!custom"),
        ("a: !custom {b: 1}", "!custom"),
        ("a: !custom [1]", "!custom"),
        ("a: !!binary aGVsbG8=", "!!binary"),
        ("a: !!set {b: null}", "!!set"),
        ("a: !!omap [{b: 1}]", "!!omap"),
    ],
)
def test_non_core_tags_are_refused(text: str, tag: str) -> None:
    error = refused(text)
    assert f"tag {tag} is not allowed" in error.message
    assert error.line == 1


def test_refused_tag_points_at_the_value() -> None:
    error = refused("a: 1\nb: !!python/object/apply:os.system ['x']\n")
    assert (error.line, error.column) == (2, 4)


def test_explicit_core_tags_are_fine() -> None:
    doc = load("a: !!str 1\nb: !!int '2'\nc: !!map {d: !!seq [x]}\n")
    assert doc.data == {"a": "1", "b": 2, "c": {"d": ["x"]}}


# ---------------------------------------------------------------------------------------------
# Bounded time and memory


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_with_a_clear_message() -> None:
    error = refused(billion_laughs())
    assert "aliases expand to more than" in error.message
    assert "alias bomb" in error.message
    assert error.line > 1


def test_a_few_aliases_are_fine() -> None:
    doc = load(billion_laughs(levels=2, width=3))
    assert doc.data["a2"] == [["lol"] * 3] * 3


def test_alias_expansion_limit_counts_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_ALIAS_NODES", 10)
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a]\n"
    assert load(text).data["b"] == [[1, 2, 3, 4], [1, 2, 3, 4]]
    assert "aliases expand" in refused(text + "c: [*a, *a]\n").message


def test_deep_flow_nesting_is_refused() -> None:
    error = refused("[" * 10_000 + "]" * 10_000)
    assert "nesting" in error.message


def test_deep_block_nesting_is_refused() -> None:
    text = "".join("  " * depth + f"k{depth}:\n" for depth in range(200)) + "  " * 200 + "x\n"
    error = refused(text)
    assert error.message == f"nesting is deeper than {yamlload.MAX_DEPTH} levels"
    assert error.line == yamlload.MAX_DEPTH + 1


def test_nesting_up_to_the_limit_is_fine() -> None:
    depth = yamlload.MAX_DEPTH
    data = load("[" * depth + "]" * depth).data
    for _ in range(depth - 1):
        assert data == [data[0]]
        data = data[0]
    assert data == []


def test_huge_file_is_refused() -> None:
    error = refused("a: " + "x" * yamlload.MAX_FILE_BYTES)
    assert error.message == f"file is too large (over {yamlload.MAX_FILE_BYTES} bytes)"


def test_size_limit_counts_utf8_bytes_not_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", 20)
    assert load("a: " + "x" * 17).data == {"a": "x" * 17}
    assert "too large" in refused("a: " + "\u00e9" * 9).message  # 3 + 18 bytes
    assert "too large" in refused(b"a: " + b"x" * 18).message


# ---------------------------------------------------------------------------------------------
# Anchors and merge keys


def test_anchor_and_alias() -> None:
    assert load("a: &x {b: 1}\nc: *x\n").data == {"a": {"b": 1}, "c": {"b": 1}}


def test_merge_key_explicit_keys_win() -> None:
    doc = load("base: &base {a: 1, b: 2}\nc:\n  <<: *base\n  b: 3\n")
    assert doc.data["c"] == {"a": 1, "b": 3}


def test_explicit_key_before_the_merge_still_wins() -> None:
    doc = load("base: &base {a: 1, b: 2}\nc:\n  b: 3\n  <<: *base\n")
    assert doc.data["c"] == {"a": 1, "b": 3}


def test_merge_key_with_a_list_first_mapping_wins() -> None:
    text = "x: &x {a: 1}\ny: &y {a: 2, b: 2}\nc:\n  <<: [*x, *y]\n  d: 4\n"
    assert load(text).data["c"] == {"a": 1, "b": 2, "d": 4}


def test_merge_key_with_an_inline_mapping() -> None:
    assert load("c:\n  <<: {a: 1}\n  b: 2\n").data == {"c": {"a": 1, "b": 2}}


@pytest.mark.parametrize("value", ["1", "[1, 2]", "[{a: 1}, 2]"])
def test_merge_key_needs_mappings(value: str) -> None:
    error = refused(f"c:\n  <<: {value}\n")
    assert error.message == "a merge key '<<' needs a mapping or a list of mappings"
    assert (error.line, error.column) == (2, 3)


def test_unknown_alias_is_refused() -> None:
    error = refused("a: 1\nb: *nope\n")
    assert error.message == "unknown alias *nope"
    assert (error.line, error.column) == (2, 4)


# ---------------------------------------------------------------------------------------------
# Keys and documents


def test_duplicate_key_names_both_lines() -> None:
    error = refused("a: 1\nb: 2\na: 3\n")
    assert error.message == "duplicate key 'a' (first defined on line 1)"
    assert (error.line, error.column) == (3, 1)


def test_duplicate_key_in_a_nested_mapping() -> None:
    error = refused("top:\n  x: 1\n  y: 2\n  x: 3\n")
    assert error.message == "duplicate key 'x' (first defined on line 2)"
    assert (error.line, error.column) == (4, 3)


def test_the_same_key_in_different_mappings_is_fine() -> None:
    assert load("a: {x: 1}\nb: {x: 2}\n").data == {"a": {"x": 1}, "b": {"x": 2}}


def test_complex_keys_are_refused() -> None:
    assert refused("? [a]\n: 1\n").message == "mapping keys must be plain scalars"
    assert refused("{a: 1}: 2\n").message == "mapping keys must be plain scalars"


def test_multiple_documents_are_refused() -> None:
    error = refused("a: 1\n---\nb: 2\n")
    assert error.message == "only one YAML document per file is allowed (found '---')"
    assert error.line == 2


def test_single_document_with_explicit_start_is_fine() -> None:
    assert load("---\na: 1\n").data == {"a": 1}


@pytest.mark.parametrize("text", ["", "\n", "# just a comment\n", "---\n"])
def test_empty_stream_gives_none(text: str) -> None:
    doc = load(text)
    assert doc.data is None
    assert doc.locations == {}


def test_syntax_error_has_a_position() -> None:
    error = refused("a: [1, 2\nb: 3\n")
    assert error.message.startswith("invalid YAML: ")
    assert error.line >= 2


@pytest.mark.parametrize(
    ("text", "line", "column", "code"),
    [
        ("a: 1\nb: x\x00y\n", 2, 5, "0000"),
        ('a: 1\nb: "x\x00y"\n', 2, 6, "0000"),
        ("\x07", 1, 1, "0007"),
    ],
)
def test_control_character_names_itself_and_its_real_position(
    text: str, line: int, column: int, code: str
) -> None:
    error = refused(text)
    assert error.message == (
        f"invalid YAML: control character U+{code} is not allowed in YAML text "
        f'(inside double quotes write it as "\\u{code.lower()}")'
    )
    assert (error.line, error.column) == (line, column)
    assert "<unicode string>" not in error.message


def test_scalar_memo_lives_for_one_load_only() -> None:
    memo = yamlload.ScalarMemo()
    assert load("a: 1\nb: true\n", memo).data == {"a": 1, "b": True}
    assert ("tag:yaml.org,2002:int", "1") in memo.constructed
    # another load without the memo starts afresh and leaves this one alone
    before = dict(memo.constructed)
    assert load("c: 2\n").data == {"c": 2}
    assert memo.constructed == before


# ---------------------------------------------------------------------------------------------
# Values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2001-12-14", "2001-12-14"),
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
        ("2026-11-27 04:00:00", "2026-11-27 04:00:00"),
        ("'4'", "4"),
        ("4", 4),
        ("4.0", 4.0),
        ("true", True),
        ("null", None),
        ("~", None),
        ("8Gi", "8Gi"),
    ],
)
def test_scalar_values(text: str, value: object) -> None:
    data = load(f"a: {text}\n").data
    assert data == {"a": value}
    assert type(data["a"]) is type(value)


def test_bytes_and_bom_are_accepted() -> None:
    assert load(b"a: 1\n").data == {"a": 1}
    assert load("\ufeffa: 1\n").data == {"a": 1}


# ---------------------------------------------------------------------------------------------
# Positions


def test_positions_of_keys_and_list_items() -> None:
    text = (
        "version: 1\n"  # 1
        "deployments:\n"  # 2
        "  - model_instance_id: mi\n"  # 3
        "    tags: [x, y]\n"  # 4
        "    nested:\n"  # 5
        "      deep: {k: v}\n"  # 6
        "  -   deployment_id: d\n"  # 7
    )
    doc = load(text)
    assert doc.locations[("version",)] == (1, 1)
    assert doc.locations[("deployments",)] == (2, 1)
    assert doc.locations[("deployments", 0)] == (3, 5)
    assert doc.locations[("deployments", 0, "model_instance_id")] == (3, 5)
    assert doc.locations[("deployments", 0, "tags")] == (4, 5)
    assert doc.locations[("deployments", 0, "tags", 0)] == (4, 12)
    assert doc.locations[("deployments", 0, "tags", 1)] == (4, 15)
    assert doc.locations[("deployments", 0, "nested", "deep")] == (6, 7)
    assert doc.locations[("deployments", 0, "nested", "deep", "k")] == (6, 14)
    assert doc.locations[("deployments", 1)] == (7, 7)
    assert doc.locations[("deployments", 1, "deployment_id")] == (7, 7)


def test_position_falls_back_to_the_nearest_ancestor() -> None:
    doc = load("a:\n  b: &x {c: 1}\nd: *x\n")
    assert doc.position(("a", "b", "c")) == (2, 10)
    assert doc.position(("d", "c")) == (3, 1)  # inside an alias: the alias's key
    assert doc.position(("nowhere", "at", "all")) == (1, 1)
    assert doc.position(()) == (1, 1)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"),
        ("yes", "yes"),
        ("NO", "NO"),
        ("true", True),
        ("False", False),
        ("1e3", 1000.0),
        ("010", 10),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("12:30", "12:30"),
        ("~", None),
        ("-.inf", float("-inf")),
    ],
)
def test_plain_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    """As JSON sees them: YAML 1.1's `on` = true or `1e3` = "1e3" would drift forever."""
    loaded = load(f"a: {text}\n").data["a"]
    assert loaded == value and type(loaded) is type(value)


def test_explicit_tag_on_wrong_text_is_an_error() -> None:
    with pytest.raises(YamlError, match="'x' is not a valid !!int"):
        load('a: !!int "x"\n')


def test_true_and_1_are_not_reported_as_duplicate_keys() -> None:
    # both are wrong (non-string) keys, which validation reports; "duplicate True" was a lie
    assert "m" in load("m: {1: a, true: b}\n").data
