"""Environments and interpolation in the manifest loader: merge rules, types, origins, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from driftcheck.manifest import (
    DesiredDeployment,
    ManifestError,
    Selection,
    SelectionError,
    json_schema,
    load_manifests,
    load_set,
)

ENVS = """\
version: 1
environments:
  staging:
    vars: {workers: 1, size: {cpus: 2, memory: 4Gi}, tags: [a, b]}
  prod:
    account_id: acc_p
    vars: {workers: 4, size: {cpus: 8}, tags: [c]}
deployments: []
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(
    tmp_path: Path, text: str, env: str = "prod", **selection: Any
) -> dict[str, DesiredDeployment]:
    write(tmp_path, "a.yaml", ENVS)
    write(tmp_path, "b.yaml", text)
    chosen = Selection((env,), **selection)
    return {d.deployment_id: d for d in load_set([str(tmp_path)], chosen).deployments}


def problems(tmp_path: Path, text: str, env: str = "prod", **selection: Any) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load(tmp_path, text, env, **selection)
    return [f"{Path(p.file).name}:{p.line}:{p.column}: {p.message}" for p in info.value.problems]


ONE = """\
version: 1
deployments:
  - vendor_configuration:
      vendor: LLMENGINE
      cpus: 3
      memory: 8Gi
    model_creation_parameters:
      nested: {keep: 1, change: 2}
      list: [1, 2, 3]
    environments:
      prod:
        model_instance_id: mi
        deployment_id: dep
        vendor_configuration: {memory: 16Gi}
        model_creation_parameters:
          nested: {change: 3, new: 4}
          list: [9]
"""


def test_overrides_merge_maps_key_by_key_and_replace_scalars_and_lists(tmp_path: Path) -> None:
    deployment = load(tmp_path, ONE)["dep"]
    assert deployment.fields["vendor_configuration"] == {
        "vendor": "LLMENGINE",
        "cpus": 3,
        "memory": "16Gi",
    }
    assert deployment.fields["model_creation_parameters"] == {
        "nested": {"keep": 1, "change": 3, "new": 4},
        "list": [9],
    }
    assert deployment.environment == "prod"
    # each path's line is the one that won: the base or the override
    assert deployment.line_for(("vendor_configuration", "cpus")) == 5
    assert deployment.line_for(("vendor_configuration", "memory")) == 14
    assert deployment.line_for(("model_creation_parameters", "nested", "keep")) == 8
    assert deployment.line_for(("model_creation_parameters", "nested", "change")) == 16
    assert deployment.line_for(("model_creation_parameters", "list")) == 17
    assert deployment.file_for(("vendor_configuration", "memory")) == str(tmp_path / "b.yaml")


def test_a_deployment_exists_only_in_the_environments_it_names(tmp_path: Path) -> None:
    assert load(tmp_path, ONE, "staging") == {}


def test_a_deployment_without_environments_is_in_every_environment(tmp_path: Path) -> None:
    text = "version: 1\ndeployments:\n  - {model_instance_id: mi, deployment_id: d, name: n}\n"
    assert list(load(tmp_path, text, "staging")) == ["d"]
    assert list(load(tmp_path, text, "prod")) == ["d"]


TYPED = """\
version: 1
deployments:
  - model_instance_id: mi
    deployment_id: dep
    vendor_configuration:
      vendor: LLMENGINE
      max_workers: ${var.workers}
    model_creation_parameters:
      size: ${var.size}
      tags: ${var.tags}
      text: "w=${var.workers}, t=${var.flag}; $$5 and $${x}"
      quoted: '${var.workers}'
"""


def test_a_whole_reference_keeps_its_type_and_its_origin(tmp_path: Path) -> None:
    deployment = load(tmp_path, TYPED, variables={"flag": True})["dep"]
    params = deployment.fields["model_creation_parameters"]
    assert deployment.fields["vendor_configuration"]["max_workers"] == 4
    assert params["size"] == {"cpus": 8}
    assert params["tags"] == ["c"]
    assert params["text"] == "w=4, t=true; $$5 and ${x}"
    assert params["quoted"] == 4
    a_yaml = str(tmp_path / "a.yaml")
    assert deployment.line_for(("vendor_configuration", "max_workers")) == 7
    assert deployment.file_for(("vendor_configuration", "max_workers")) == a_yaml
    assert deployment.file_for(("model_creation_parameters", "size", "cpus")) == a_yaml
    assert deployment.line_for(("model_creation_parameters", "text")) == 11


def test_command_line_var_wins_over_the_environment(tmp_path: Path) -> None:
    deployment = load(tmp_path, TYPED, variables={"workers": 7, "flag": "x"})["dep"]
    assert deployment.fields["vendor_configuration"]["max_workers"] == 7


def test_a_map_inside_a_longer_string_is_an_error(tmp_path: Path) -> None:
    text = TYPED.replace("size: ${var.size}", "size: big-${var.size}")
    assert problems(tmp_path, text, variables={"flag": 1}) == [
        "b.yaml:9:17: ${var.size} is a mapping: inside a longer string only a string, number "
        "or boolean can be used"
    ]


def test_unknown_reference_kind(tmp_path: Path) -> None:
    text = TYPED.replace("${var.tags}", "${tags}")
    assert problems(tmp_path, text, variables={"flag": 1}) == [
        "b.yaml:10:13: unknown reference '${tags}': use ${var.NAME} or ${env:NAME} "
        "(write $${ for a literal ${)"
    ]


def test_each_bad_reference_is_reported_once_even_in_every_environment(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENVS)
    write(tmp_path, "b.yaml", TYPED.replace("${var.size}", "${var.sise}"))
    with pytest.raises(ManifestError) as info:
        load_set([str(tmp_path)], Selection(("all",), variables={"flag": 1}))
    assert [p.message for p in info.value.problems] == [
        "undefined variable var.sise in environment 'prod' (did you mean var.size?)",
        "undefined variable var.sise in environment 'staging' (did you mean var.size?)",
    ]


def test_env_values_are_strings_and_sensitive(tmp_path: Path) -> None:
    text = TYPED.replace("${var.tags}", "${env:TAGS}").replace("t=${var.flag}", "t=${env:N}")
    deployment = load(tmp_path, text, process_env={"TAGS": "9", "N": "1"})["dep"]
    assert deployment.fields["model_creation_parameters"]["tags"] == "9"
    assert deployment.sensitive_paths == frozenset(
        {("model_creation_parameters", "tags"), ("model_creation_parameters", "text")}
    )


def test_a_set_without_environments_interpolates_env_and_command_line_vars(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "plain.yaml",
        "version: 1\ndeployments:\n  - model_instance_id: mi\n    deployment_id: d\n"
        "    deployment_metadata: {token: '${env:T}', n: '${var.n}', lit: '$${x}'}\n",
    )
    loaded = load_set([str(path)], Selection(variables={"n": 3}, process_env={"T": "s3cr3t-v"}))
    deployment = loaded.deployments[0]
    assert deployment.fields["deployment_metadata"] == {"token": "s3cr3t-v", "n": 3, "lit": "${x}"}
    assert deployment.environment is None
    assert deployment.file_for(("deployment_metadata", "n")) is None  # reports stay as before
    assert deployment.sensitive_paths == frozenset({("deployment_metadata", "token")})


def test_a_plain_set_loads_as_before(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "version: 1\ndeployments:\n  - {model_instance_id: m, deployment_id: d}\n",
    )
    desired = load_manifests([str(path)], process_env={})
    assert desired.environment is None
    assert [d.key for d in desired.deployments] == [("m", "d")]


def test_same_ids_in_two_environments_are_fine_but_not_twice_in_one(tmp_path: Path) -> None:
    text = (
        "version: 1\ndeployments:\n"
        "  - {model_instance_id: m, deployment_id: d}\n"
        "  - environments: {prod: {model_instance_id: m, deployment_id: d}}\n"
    )
    assert problems(tmp_path, text) == [
        f"b.yaml:4:5: duplicate deployment m/d: already declared at {tmp_path / 'b.yaml'}:3:5"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\nenvironments:\n  Prod: {}\ndeployments: []\n",
            "c.yaml:3:3: environment name 'Prod' must match [a-z][a-z0-9_-]*",
        ),
        (
            "version: 1\nenvironments:\n  qa: {acount_id: x}\ndeployments: []\n",
            "c.yaml:3:8: unknown key 'acount_id' in environment 'qa': did you mean "
            "'account_id'? allowed keys: account_id, base_url, vars",
        ),
        (
            "version: 1\nenvironments:\n  qa: {vars: [1]}\ndeployments: []\n",
            "c.yaml:3:8: environments.qa.vars: expected a mapping, got a list",
        ),
        (
            "version: 1\nenvironments: [qa]\ndeployments: []\n",
            "c.yaml:2:1: environments: expected a mapping of environment names, got a list",
        ),
        (
            "version: 1\ndeployments:\n  - model_instance_id: m\n    deployment_id: d\n"
            "    environments: {prod: {model_instance_id: m, deployment_id: d}}\n",
            "c.yaml:3:5: model_instance_id: with 'environments', each environment entry gives "
            "the ids; remove this one",
        ),
    ],
)
def test_bad_definitions(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, "c.yaml", text)
    found = problems(tmp_path, "version: 1\ndeployments: []\n")
    assert expected in found


def test_deployment_environments_in_a_set_without_any(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "version: 1\ndeployments:\n  - environments: {prod: {model_instance_id: m, "
        "deployment_id: d}}\n",
    )
    with pytest.raises(ManifestError) as info:
        load_set([str(path)], Selection())
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3:5: this deployment names environments, but the set defines none "
        "(add a top-level 'environments' map)"
    ]


def test_selection_errors(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", ENVS)
    with pytest.raises(SelectionError, match=r"define environments \(prod, staging\)"):
        load_set([str(tmp_path)], Selection())
    everything = load_set([str(tmp_path)], Selection(every_by_default=True))
    assert [s.name for s in everything.states] == ["prod", "staging"]
    both = load_set([str(tmp_path)], Selection(("staging", "all")))
    assert [s.name for s in both.states] == ["staging", "prod"]


def test_the_schema_accepts_environments_and_references(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    assert list(validator.iter_errors(yaml.safe_load(ENVS))) == []
    assert list(validator.iter_errors(yaml.safe_load(ONE))) == []
    assert list(validator.iter_errors(yaml.safe_load(TYPED))) == []
    no_ids = yaml.safe_load("version: 1\ndeployments:\n  - name: x\n")
    assert list(validator.iter_errors(no_ids)) != []
    bad_entry = yaml.safe_load(ONE.replace("        deployment_id: dep\n", ""))
    assert list(validator.iter_errors(bad_entry)) != []


def test_as_manifest_escapes_references_in_live_values(tmp_path: Path) -> None:
    from driftcheck.bootstrap import manifest_from_bodies
    from driftcheck.engine import judge
    from driftcheck.live.records import Fetched
    from driftcheck.result import Status
    from tests.emulator import make_deployment

    body = make_deployment("mi", "dep", name="${name}", deployment_metadata={"t": "a${b}c"})
    keyed = make_deployment("mi", "dep2", deployment_metadata={"${k}": 1})
    text = manifest_from_bodies(
        [("mi", "dep", body), ("mi", "dep2", keyed)], source="s", captured_at="c"
    )
    assert "# mi/dep2: deployment_metadata left out: a key holds '${'" in text
    path = write(tmp_path, "adopted.yaml", text)
    declared = {d.key: d for d in load_manifests([str(path)], process_env={}).deployments}
    assert declared[("mi", "dep")].fields["deployment_metadata"] == {"t": "a${b}c"}
    assert judge(declared[("mi", "dep")], Fetched(body)).status is Status.IN_SYNC


def test_a_wrong_value_from_the_environment_is_not_shown(tmp_path: Path) -> None:
    text = TYPED.replace("${var.workers}\n", "${env:WORKERS}\n", 1)
    found = problems(tmp_path, text, variables={"flag": 1}, process_env={"WORKERS": "s3cret-4"})
    assert found == [
        "b.yaml:7:7: deployments[0].vendor_configuration.max_workers: expected a whole number, "
        "got the string (sensitive)"
    ]


def test_the_bundled_manifests_follow_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    root = Path(__file__).resolve().parents[2] / "manifests"
    files = sorted(root.rglob("*.yaml"))
    assert len(files) == 3
    for path in files:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path


TRICKY = [
    "@team",
    "- x",
    "-x",
    "a: b",
    "#c",
    "a #c",
    "yes",
    "on",
    "1e3",
    "0o17",
    "~",
    "",
    " lead",
    "trail ",
    "tab\there",
    "${x}",
    "$${y}",
    "$$",
    "a\u2028b",
    "\x85",
    "é ☕",
    "'q'",
    '"dq"',
    "null",
    "[a]",
    "{b}",
    "*alias",
    "&anchor",
    "!tag",
    "%dir",
    "|",
    ">",
    "?",
    ",",
    "`x`",
    "line\nbreak",
    "(ok)",
    "a.b/c_d",
    "\ufeffbom",
]


def test_render_reads_back_the_same_for_awkward_strings(tmp_path: Path) -> None:
    from driftcheck.manifest.render import render_paths

    metadata = {f"k{i}": value for i, value in enumerate(TRICKY)}
    # JSON is YAML whose strings are all quoted: nothing is guessed on the way in
    text = json.dumps(
        {
            "version": 1,
            "environments": {"prod": None},
            "deployments": [
                {"model_instance_id": "m", "deployment_id": "d", "deployment_metadata": metadata}
            ],
        }
    ).replace("${", "$${")  # written as literals
    source = write(tmp_path, "set.yaml", text)
    rendered = render_paths([str(source)], Selection(("prod",)))
    again = write(tmp_path, "rendered.yaml", rendered)
    first = load_set([str(source)], Selection(("prod",))).deployments[0]
    second = load_set([str(again)], Selection()).deployments[0]
    assert first.fields["deployment_metadata"] == metadata
    assert second.fields == first.fields
