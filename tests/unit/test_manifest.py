"""Manifest validation: one test per message, each with its exact ``line:column``.

The data-driven examples under tests/manifests/ run at the end: every ``valid/*.y[a]ml`` loads,
every ``invalid/*.yaml`` fails with exactly the problems listed in its sibling ``.expected``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck import spec
from driftcheck.manifest import (
    DesiredDeployment,
    ManifestError,
    ManifestModel,
    Problem,
    discover,
    load_manifests,
)
from driftcheck.manifest import yaml as yamlload

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"

HEAD = "version: 1\ndeployments:\n  - model_instance_id: mi\n    deployment_id: dep\n"
"""Lines 1-4; a test's own deployment keys start on line 5, column 5."""

LLM = HEAD + "    vendor_configuration:\n      vendor: LLMENGINE\n"
"""Lines 1-6; vendor fields start on line 7, column 7."""

LAUNCH = HEAD + "    vendor_configuration:\n      vendor: LAUNCH\n"

GPU_LIST = ", ".join(spec.GPU_TYPES)
TOP_KEYS = ", ".join(f.alias or n for n, f in ManifestModel.model_fields.items())
DEPLOYMENT_KEYS = (
    "model_instance_id, deployment_id, name, vendor_configuration, model_endpoint_id, status, "
    "model_creation_parameters, deployment_metadata, ignore, sensitive"
)


def write(tmp_path: Path, text: str | bytes, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def all_problems(paths: list[Path]) -> tuple[Problem, ...]:
    with pytest.raises(ManifestError) as info:
        load_manifests([str(p) for p in paths])
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    """``line:column: message`` of every problem in one file."""
    path = write(tmp_path, text)
    found = all_problems([path])
    assert {p.file for p in found} == {str(path)}
    return [f"{p.line}:{p.column}: {p.message}" for p in found]


def load_one(tmp_path: Path, text: str) -> DesiredDeployment:
    state = load_manifests([str(write(tmp_path, text))])
    assert len(state.deployments) == 1
    return state.deployments[0]


# ---------------------------------------------------------------------------------------------
# Unknown keys


def test_unknown_top_level_key_with_close_match(tmp_path: Path) -> None:
    text = "version: 1\ndeployments: []\nignores: []\n"
    assert problems(tmp_path, text) == [
        f"3:1: unknown key 'ignores': did you mean 'ignore'? allowed keys: {TOP_KEYS}"
    ]


def test_unknown_top_level_key_without_close_match(tmp_path: Path) -> None:
    text = "version: 1\ndeployments: []\nx-defaults: {}\n"
    assert problems(tmp_path, text) == [f"3:1: unknown key 'x-defaults': allowed keys: {TOP_KEYS}"]


def test_unknown_deployment_key_with_close_match(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - model_instance_id: mi\n    deploymnet_id: dep\n"
    assert problems(tmp_path, text) == [
        "3:5: missing required key 'deployment_id'",
        f"4:5: unknown key 'deploymnet_id': did you mean 'deployment_id'? "
        f"allowed keys: {DEPLOYMENT_KEYS}",
    ]


def test_unknown_vendor_field_lists_the_allowed_keys(tmp_path: Path) -> None:
    assert problems(tmp_path, LAUNCH + "      replicas: 3\n") == [
        "7:7: unknown key 'replicas' for vendor LAUNCH: "
        "allowed keys: vendor, min_workers, max_workers, per_worker"
    ]


def test_unknown_vendor_field_with_close_match(tmp_path: Path) -> None:
    assert problems(tmp_path, LLM + "      gpu_typ: nvidia-tesla-t4\n") == [
        "7:7: unknown key 'gpu_typ' for vendor LLMENGINE: did you mean 'gpu_type'? "
        "allowed keys: vendor, " + ", ".join(spec.VENDOR_FIELDS[spec.LLMENGINE])
    ]


def test_field_of_the_other_vendor(tmp_path: Path) -> None:
    assert problems(tmp_path, LAUNCH + "      num_shards: 2\n") == [
        "7:7: 'num_shards' is not valid for vendor LAUNCH (it belongs to LLMENGINE)"
    ]


@pytest.mark.parametrize("field", spec.SERVER_MANAGED)
def test_server_managed_field(tmp_path: Path, field: str) -> None:
    assert problems(tmp_path, HEAD + f"    {field}: x\n") == [
        f"5:5: {field!r} is server-managed and cannot be declared"
    ]


# ---------------------------------------------------------------------------------------------
# Values


def test_bad_gpu_type_with_suggestion(tmp_path: Path) -> None:
    assert problems(tmp_path, LLM + "      gpu_type: nvidia-ampere-a1000\n") == [
        "7:7: unknown gpu_type 'nvidia-ampere-a1000' (did you mean 'nvidia-ampere-a100'?); "
        f"expected one of {GPU_LIST}"
    ]


def test_bad_gpu_type_without_suggestion(tmp_path: Path) -> None:
    assert problems(tmp_path, LLM + "      gpu_type: tpu\n") == [
        f"7:7: unknown gpu_type 'tpu'; expected one of {GPU_LIST}"
    ]


def test_gpu_type_of_the_wrong_type(tmp_path: Path) -> None:
    assert problems(tmp_path, LLM + "      gpu_type: 100\n") == [
        "7:7: deployments[0].vendor_configuration.gpu_type: "
        f"expected one of {GPU_LIST}, got the number 100"
    ]


VC = "deployments[0].vendor_configuration"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("gpus: '4'", f"{VC}.gpus: expected a whole number, got the string '4'"),
        ("gpus: true", f"{VC}.gpus: expected a whole number, got true"),
        ("max_workers: 4.5", f"{VC}.max_workers: expected a whole number, got the number 4.5"),
        ("cpus: [1]", f"{VC}.cpus: expected a whole number, got a list"),
        ("high_priority: 1", f"{VC}.high_priority: expected true or false, got the number 1"),
        (
            "high_priority: 'yes'",
            f"{VC}.high_priority: expected true or false, got the string 'yes'",
        ),
        ("model_name: 3", f"{VC}.model_name: expected a string, got the number 3"),
        (
            "memory: [8Gi]",
            f"{VC}.memory: expected a quantity such as '8Gi' (a string) or a number, got a list",
        ),
        (
            "storage: true",
            f"{VC}.storage: expected a quantity such as '8Gi' (a string) or a number, got true",
        ),
    ],
)
def test_wrong_type_for_a_vendor_field(tmp_path: Path, line: str, message: str) -> None:
    # exactly one problem, although pydantic reports one per member of a union
    assert problems(tmp_path, LLM + f"      {line}\n") == [f"7:7: {message}"]


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("memory", "leave the key out to use the default 8Gi"),
        ("gpus", "leave the key out to use the default 0"),
        ("high_priority", "leave the key out to use the default false"),
        ("gpu_type", "leave the key out if it should not be compared"),
        ("checkpoint_path", "leave the key out if it should not be compared"),
    ],
)
def test_explicit_null_for_a_vendor_field(tmp_path: Path, field: str, hint: str) -> None:
    assert problems(tmp_path, LLM + f"      {field}: null\n") == [
        f"7:7: {VC}.{field}: null is not allowed; {hint}"
    ]


D0 = "deployments[0]"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("name: 5", f"{D0}.name: expected a string, got the number 5"),
        ("name: null", f"{D0}.name: expected a string, got null"),
        ("status: true", f"{D0}.status: expected a string such as READY, got true"),
        (
            "model_endpoint_id: 1.5",
            f"{D0}.model_endpoint_id: expected a string, got the number 1.5",
        ),
        ("deployment_metadata: [1]", f"{D0}.deployment_metadata: expected a mapping, got a list"),
        (
            "model_creation_parameters: x",
            f"{D0}.model_creation_parameters: expected a mapping, got the string 'x'",
        ),
        ("vendor_configuration: [1]", "vendor_configuration: expected a mapping, got a list"),
        ("vendor_configuration: null", "vendor_configuration: expected a mapping, got null"),
        (
            "ignore: x",
            f"{D0}.ignore: expected a list of path patterns (strings or mappings with "
            "'path'), got the string 'x'",
        ),
    ],
)
def test_wrong_type_for_a_deployment_field(tmp_path: Path, line: str, message: str) -> None:
    assert problems(tmp_path, HEAD + f"    {line}\n") == [f"5:5: {message}"]


def test_missing_model_instance_id(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - deployment_id: dep\n"
    assert problems(tmp_path, text) == ["3:5: missing required key 'model_instance_id'"]


def test_model_instance_id_of_the_wrong_type(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - model_instance_id: 123\n    deployment_id: dep\n"
    assert problems(tmp_path, text) == [
        "3:5: deployments[0].model_instance_id: expected a non-empty string, got the number 123"
    ]


def test_empty_deployment_id(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - model_instance_id: mi\n    deployment_id: ''\n"
    assert problems(tmp_path, text) == ["4:5: deployments[0].deployment_id: must not be empty"]


def test_missing_vendor(tmp_path: Path) -> None:
    text = HEAD + "    vendor_configuration:\n      gpus: 1\n"
    assert problems(tmp_path, text) == [
        "5:5: vendor_configuration needs 'vendor: LAUNCH' or 'vendor: LLMENGINE'"
    ]


def test_unknown_vendor(tmp_path: Path) -> None:
    text = HEAD + "    vendor_configuration:\n      vendor: OPENAI\n"
    assert problems(tmp_path, text) == [
        "6:7: unknown vendor 'OPENAI': expected LAUNCH or LLMENGINE"
    ]


def test_unknown_vendor_in_the_wrong_case(tmp_path: Path) -> None:
    text = HEAD + "    vendor_configuration:\n      vendor: launch\n"
    assert problems(tmp_path, text) == [
        "6:7: unknown vendor 'launch' (did you mean 'LAUNCH'?): expected LAUNCH or LLMENGINE"
    ]


def test_vendor_that_is_not_a_string(tmp_path: Path) -> None:
    text = HEAD + "    vendor_configuration:\n      vendor: null\n"
    assert problems(tmp_path, text) == ["6:7: vendor: expected LAUNCH or LLMENGINE, got null"]


def test_deployment_that_is_not_a_mapping(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - mi/dep\n"
    assert problems(tmp_path, text) == [
        "3:5: deployments[0]: expected a mapping, got the string 'mi/dep'"
    ]


# ---------------------------------------------------------------------------------------------
# Top level


def test_unsupported_version(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 2\ndeployments: []\n") == [
        "1:1: unsupported manifest version 2: this driftcheck reads version 1"
    ]


@pytest.mark.parametrize(
    ("value", "got"), [("'1'", "the string '1'"), ("true", "true"), ("null", "null")]
)
def test_version_that_is_not_a_number(tmp_path: Path, value: str, got: str) -> None:
    assert problems(tmp_path, f"version: {value}\ndeployments: []\n") == [
        f"1:1: version: expected the number 1, got {got}"
    ]


def test_missing_version(tmp_path: Path) -> None:
    assert problems(tmp_path, "deployments: []\n") == ["1:1: missing required key 'version'"]


def test_missing_deployments(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 1\n") == ["1:1: missing required key 'deployments'"]


@pytest.mark.parametrize(("value", "got"), [("{}", "a mapping"), ("", "null")])
def test_deployments_that_is_not_a_list(tmp_path: Path, value: str, got: str) -> None:
    assert problems(tmp_path, f"version: 1\ndeployments: {value}\n") == [
        f"2:1: deployments: expected a list of deployments, got {got}"
    ]


def test_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path, "# comments only\n") == [
        "1:1: empty manifest: expected 'version: 1' and 'deployments'"
    ]


@pytest.mark.parametrize("text", ["- version: 1\n", "just text\n", "42\n"])
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    assert problems(tmp_path, text) == [
        "1:1: a manifest must be a mapping with 'version' and 'deployments'"
    ]


def test_yaml_errors_are_problems_with_a_position(tmp_path: Path) -> None:
    assert problems(tmp_path, HEAD + "    name: a\n    name: b\n") == [
        "6:5: duplicate key 'name' (first defined on line 5)"
    ]


def test_non_utf8_file(tmp_path: Path) -> None:
    assert problems(tmp_path, b"version: 1\nname: caf\xe9\n") == ["1:1: not UTF-8 text (byte 20)"]


def test_nul_byte_is_reported_at_its_own_position(tmp_path: Path) -> None:
    text = HEAD + "    name: a\x00b\n"
    assert problems(tmp_path, text) == [
        "5:12: invalid YAML: control character U+0000 is not allowed in YAML text "
        '(inside double quotes write it as "\\u0000")'
    ]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    deployment = load_one(tmp_path, "\ufeff" + HEAD + "    name: café\n")
    assert deployment.name == "café"


def test_too_large_file_is_never_parsed_truncated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = HEAD + "    name: " + "\u00e9" * 200 + "\n"
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", len(text.encode()) - 1)
    assert problems(tmp_path, text) == [
        f"1:1: file is too large (over {yamlload.MAX_FILE_BYTES} bytes)"
    ]
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", len(text.encode()))
    assert load_one(tmp_path, text).name == "\u00e9" * 200


# ---------------------------------------------------------------------------------------------
# Ignore patterns


def test_invalid_top_level_ignore_pattern(tmp_path: Path) -> None:
    text = "version: 1\nignore:\n  - ok.path\n  - a..b\ndeployments: []\n"
    assert problems(tmp_path, text) == [
        "4:5: invalid ignore pattern 'a..b': "
        "empty segment (two dots in a row, or a leading/trailing dot)"
    ]


def test_invalid_deployment_ignore_pattern(tmp_path: Path) -> None:
    text = HEAD + "    ignore: ['vendor_configuration.gpu*']\n"
    assert problems(tmp_path, text) == [
        "5:14: invalid ignore pattern 'vendor_configuration.gpu*': "
        "'*' must be a whole segment, not part of 'gpu*' (quote a key with a star)"
    ]


def test_ignore_pattern_that_is_not_a_string(tmp_path: Path) -> None:
    text = "version: 1\nignore: [name, 3]\ndeployments: []\n"
    assert problems(tmp_path, text) == [
        "2:16: ignore[1]: expected an ignore pattern (a string) or a mapping, got the number 3"
    ]


def test_ignore_patterns_are_collected(tmp_path: Path) -> None:
    text = "version: 1\nignore: [status]\n" + HEAD[len("version: 1\n") :] + "    ignore: ['*']\n"
    assert [r.pattern.text for r in load_one(tmp_path, text).ignore] == ["status", "*"]


# ---------------------------------------------------------------------------------------------
# Free-form maps


def test_non_string_key_in_a_free_form_map(tmp_path: Path) -> None:
    text = HEAD + "    model_creation_parameters:\n      1: one\n"
    assert problems(tmp_path, text) == [
        "6:7: deployments[0].model_creation_parameters: "
        "map keys must be strings, got the number 1 (put the key in quotes)"
    ]


def test_non_string_keys_nested_in_a_free_form_map(tmp_path: Path) -> None:
    text = (
        HEAD + "    deployment_metadata:\n"  # 5
        "      outer:\n"  # 6
        "        true: 1\n"  # 7: a boolean key, not a string
        "      items:\n"  # 8
        "        - {~: x}\n"  # 9
    )
    assert problems(tmp_path, text) == [
        "7:9: deployments[0].deployment_metadata.outer: "
        "map keys must be strings, got true (put the key in quotes)",
        "9:12: deployments[0].deployment_metadata.items[0]: "
        "map keys must be strings, got null (put the key in quotes)",
    ]


def test_quoted_keys_in_free_form_maps_are_fine(tmp_path: Path) -> None:
    text = HEAD + "    deployment_metadata:\n      '1': one\n      'yes': {'2': two}\n"
    fields = load_one(tmp_path, text).fields
    assert fields["deployment_metadata"] == {"1": "one", "yes": {"2": "two"}}


# ---------------------------------------------------------------------------------------------
# Several problems, several files


def test_many_problems_are_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi\n"  # 3
        "    deployment_id: dep\n"  # 4
        "    vendor_configuration:\n"  # 5
        "      vendor: LAUNCH\n"  # 6
        "      gpus: 2\n"  # 7
        "      max_workers: many\n"  # 8
        "    color: blue\n"  # 9
        "  - deployment_id: ''\n"  # 10
    )
    found = problems(tmp_path, text)
    assert len(found) >= 3
    assert found == [
        "7:7: 'gpus' is not valid for vendor LAUNCH (it belongs to LLMENGINE)",
        f"8:7: {VC}.max_workers: expected a whole number, got the string 'many'",
        f"9:5: unknown key 'color': allowed keys: {DEPLOYMENT_KEYS}",
        "10:5: missing required key 'model_instance_id'",
        "10:5: deployments[1].deployment_id: must not be empty",
    ]


def test_duplicate_deployment_in_one_file(tmp_path: Path) -> None:
    text = HEAD + "  - model_instance_id: mi\n    deployment_id: dep\n"
    path = write(tmp_path, text)
    assert problems(tmp_path, text) == [
        f"5:5: duplicate deployment mi/dep: already declared at {path}:3:5"
    ]


def test_duplicate_deployment_across_files_names_both(tmp_path: Path) -> None:
    first = write(tmp_path, HEAD, "a.yaml")
    second = write(tmp_path, "# other team\n" + HEAD, "b.yaml")
    assert [str(p) for p in all_problems([first, second])] == [
        f"{second}:4:5: duplicate deployment mi/dep: already declared at {first}:3:5"
    ]


def test_problems_from_every_file_are_reported(tmp_path: Path) -> None:
    good = write(tmp_path, HEAD, "good.yaml")
    bad1 = write(tmp_path, "version: 3\ndeployments: []\n", "bad1.yaml")
    bad2 = write(tmp_path, "", "bad2.yaml")
    assert [(p.file, p.line) for p in all_problems([good, bad1, bad2])] == [
        (str(bad1), 1),
        (str(bad2), 1),
    ]


# ---------------------------------------------------------------------------------------------
# Discovery


def test_directory_discovery_is_recursive_and_sorted(tmp_path: Path) -> None:
    for name in ["b.yaml", "a.yml", "sub/c.yaml", "sub/deeper/a.yaml", "notes.txt", "x.json"]:
        write(tmp_path, "version: 1\ndeployments: []\n", name)
    (tmp_path / "dir.yaml").mkdir()  # a directory that looks like a manifest is skipped
    files, found = discover([str(tmp_path)])
    assert found == []
    assert files == [
        str(tmp_path / "a.yml"),
        str(tmp_path / "b.yaml"),
        str(tmp_path / "sub" / "c.yaml"),
        str(tmp_path / "sub" / "deeper" / "a.yaml"),
    ]
    assert load_manifests([str(tmp_path)]).files == tuple(files)


def test_a_file_named_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD)
    state = load_manifests([str(path), str(tmp_path), str(tmp_path / "." / "m.yaml")])
    assert state.files == (str(path),)
    assert len(state.deployments) == 1


def test_explicit_file_with_any_suffix_is_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD, "manifest.txt")
    assert load_manifests([str(path)]).deployments[0].key == ("mi", "dep")


def test_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path, "not a manifest", "empty/readme.md")
    assert [str(p) for p in all_problems([tmp_path / "empty"])] == [
        f"{tmp_path / 'empty'}:1:1: directory has no *.yaml or *.yml manifests"
    ]


def test_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert [str(p) for p in all_problems([missing])] == [
        f"{missing}:1:1: no such file or directory"
    ]


# ---------------------------------------------------------------------------------------------
# What a valid manifest gives


def test_desired_deployment_records_fields_and_lines(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi\n"  # 3
        "    deployment_id: dep\n"  # 4
        "    name: prod\n"  # 5
        "    vendor_configuration:\n"  # 6
        "      vendor: LLMENGINE\n"  # 7
        "      gpus: 4.0\n"  # 8
        "      memory: 8589934592\n"  # 9
        "    deployment_metadata:\n"  # 10
        "      team: {lead: ada}\n"  # 11
    )
    deployment = load_one(tmp_path, text)
    assert deployment.key == ("mi", "dep")
    assert deployment.name == "prod"
    assert (deployment.line, deployment.column) == (3, 5)
    assert deployment.fields == {
        "name": "prod",
        "vendor_configuration": {"vendor": "LLMENGINE", "gpus": 4.0, "memory": 8589934592},
        "deployment_metadata": {"team": {"lead": "ada"}},
    }
    assert deployment.line_for(("vendor_configuration", "gpus")) == 8
    assert deployment.line_for(("vendor_configuration", "cpus")) == 3  # a default
    assert deployment.line_for(("deployment_metadata", "team", "lead")) == 11
    assert deployment.line_for(("deployment_metadata", "team", "undeclared")) == 11
    assert deployment.line_for(("deployment_metadata", "other")) == 10


def test_anchors_share_settings_between_deployments(tmp_path: Path) -> None:
    state = load_manifests([str(MANIFESTS / "valid" / "anchors.yml")])
    first, second = (d.fields["vendor_configuration"] for d in state.deployments)
    assert first == {"vendor": "LLMENGINE", "gpus": 4, "gpu_type": "nvidia-hopper-h100"}
    assert second == {**first, "gpus": 8}


# ---------------------------------------------------------------------------------------------
# Data-driven examples


def example_files(kind: str) -> list[Path]:
    return sorted(p for p in (MANIFESTS / kind).iterdir() if p.suffix in (".yaml", ".yml"))


@pytest.mark.parametrize("path", example_files("valid"), ids=lambda p: p.name)
def test_valid_example(path: Path) -> None:
    state = load_manifests([str(path)])
    assert state.files == (str(path),)


def test_valid_examples_load_together_as_one_set() -> None:
    state = load_manifests([str(MANIFESTS / "valid")])
    assert len(state.files) == len(example_files("valid"))
    assert len(state.deployments) == 5


@pytest.mark.parametrize("path", example_files("invalid"), ids=lambda p: p.name)
def test_invalid_example(path: Path) -> None:
    expected = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    found = all_problems([path])
    prefix = f"{path.parent}/"
    assert [str(p).removeprefix(prefix).replace(prefix, "") for p in found] == expected


def test_every_invalid_example_has_an_expected_file() -> None:
    expected = {p.stem for p in (MANIFESTS / "invalid").glob("*.expected")}
    assert expected == {p.stem for p in example_files("invalid")}


def test_non_finite_quantity_is_refused(tmp_path: Path) -> None:
    text = (
        "version: 1\ndeployments:\n  - model_instance_id: a\n    deployment_id: b\n"
        "    vendor_configuration: {vendor: LLMENGINE, memory: .inf}\n"
    )
    assert problems(tmp_path, text) == [
        "5:47: deployments[0].vendor_configuration.memory: expected a quantity such as "
        "'8Gi' (a string) or a number, got the number inf"
    ]


def test_duplicate_is_reported_even_when_its_file_has_other_problems(tmp_path: Path) -> None:
    text = (
        "version: 1\ndeployments:\n  - model_instance_id: a\n    deployment_id: b\n"
        "    nmae: x\n  - model_instance_id: a\n    deployment_id: b\n"
    )
    found = problems(tmp_path, text)
    assert len(found) == 2
    assert found[1].startswith("6:5: duplicate deployment a/b: already declared at ")
    assert found[1].endswith("m.yaml:3:5")


def test_schema_ignore_items_carry_the_pattern_grammar() -> None:
    # DESIGN: the schema must not accept ignore patterns that validate rejects
    from driftcheck.manifest import json_schema
    from driftcheck.paths import PATTERN_REGEX

    schema = json_schema()
    deployment = schema["$defs"]["DeploymentModel"]["properties"]["ignore"]
    for ignore in (schema["properties"]["ignore"], deployment):
        plain, mapping = ignore["items"]["anyOf"]
        assert plain == {"type": "string", "pattern": PATTERN_REGEX}
        assert mapping == {"$ref": "#/$defs/IgnoreEntry"}
    entry = schema["$defs"]["IgnoreEntry"]
    assert entry["required"] == ["path"]
    assert entry["additionalProperties"] is False
    assert entry["properties"]["path"]["pattern"] == PATTERN_REGEX
    assert entry["properties"]["until"]["format"] == "date"


def test_map_form_ignores_and_their_problems_at_their_lines(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "ignore:\n"
        "  - path: deployment_metadata.a\n"
        "    reason: why\n"
        "    owner: '@team'\n"
        "    until: 2026-12-31\n"
        "deployments:\n"
        "  - model_instance_id: mi\n"
        "    deployment_id: dep\n"
        "    ignore:\n"
        "      - {path: 'deployment_metadata.\"k.dot\"', until: 2027-01-01}\n"
    )
    top, own = load_one(tmp_path, text).ignore
    assert (top.pattern.text, top.line, top.reason, top.owner, str(top.until)) == (
        "deployment_metadata.a",
        3,
        "why",
        "@team",
        "2026-12-31",
    )
    assert (own.pattern.segments, own.line, str(own.until)) == (
        ("deployment_metadata", "k.dot"),
        11,
        "2027-01-01",
    )
    bad = text.replace("until: 2026-12-31", "until: 2026-02-30\n    colour: red").replace(
        "path: 'deployment_metadata.\"k.dot\"', ", "reason: x, "
    )
    assert problems(tmp_path, bad) == [
        "6:5: invalid date '2026-02-30': no such day",
        "7:5: unknown key 'colour' in an ignore: allowed path, reason, owner, until",
        "12:9: an ignore mapping needs 'path' (the pattern to ignore)",
    ]
