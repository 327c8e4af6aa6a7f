"""Environments (#12): one set, staging and prod, against two loopback emulators.

Staging and prod each have their own emulator (their own base URL in the set), so a request
that went to the wrong environment, or with the wrong account, is seen as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml

from tests.acceptance.conftest import API_KEY, Run, invoke
from tests.emulator import Emulator, llmengine_config, make_deployment

HF_TOKEN = "hf-secret-value-0123456789"

ENVIRONMENTS = """\
version: 1
environments:
  staging:
    account_id: acc_stg
    base_url: {staging}
    vars:
      workers: 1
      gpu: nvidia-ampere-a10
  prod:
    account_id: acc_prod
    base_url: {prod}
    vars:
      workers: 4
      gpu: nvidia-hopper-h100
      tag: v2
deployments: []
"""

DEPLOYMENTS = """\
version: 1
deployments:
  - name: llama-70b
    vendor_configuration:
      vendor: LLMENGINE
      gpus: 4
      gpu_type: ${var.gpu}
      max_workers: ${var.workers}
    deployment_metadata:
      hf_token: ${env:HF_TOKEN}
      label: "team-${var.workers}"
      literal: "$${not.a.reference}"
    environments:
      staging: {model_instance_id: mi_s, deployment_id: dep_s}
      prod:
        model_instance_id: mi_p
        deployment_id: dep_p
        vendor_configuration:
          min_workers: 1
  - name: prod-only
    environments:
      prod: {model_instance_id: mi_p, deployment_id: dep_only}
"""
# Lines in DEPLOYMENTS: gpu_type 7, max_workers 8, label 11, prod's min_workers 19.
# Lines in ENVIRONMENTS: staging's workers 7, gpu 8; prod's workers 13, gpu 14.


def body(mi: str, dep: str, workers: int, gpu: str, **extra: Any) -> dict[str, Any]:
    config = llmengine_config(gpus=4, gpu_type=gpu, max_workers=workers, num_shards=4, **extra)
    metadata = {"hf_token": HF_TOKEN, "label": f"team-{workers}", "literal": "${not.a.reference}"}
    account = "acc_stg" if mi == "mi_s" else "acc_prod"  # the account that lists it
    return make_deployment(
        mi,
        dep,
        name="llama-70b",
        vendor_configuration=config,
        deployment_metadata=metadata,
        account_id=account,
    )


@pytest.fixture
def staging() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY, account_ids=["acc_stg"]) as emu:
        emu.put(body("mi_s", "dep_s", 1, "nvidia-ampere-a10"))
        yield emu


@pytest.fixture
def prod() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY, account_ids=["acc_prod"]) as emu:
        emu.put(body("mi_p", "dep_p", 4, "nvidia-hopper-h100", min_workers=1))
        emu.put(make_deployment("mi_p", "dep_only", name="prod-only", account_id="acc_prod"))
        yield emu


@pytest.fixture
def manifests(tmp_path: Path, staging: Emulator, prod: Emulator) -> Path:
    folder = tmp_path / "manifests"
    folder.mkdir()
    text = ENVIRONMENTS.format(staging=staging.url, prod=prod.url)
    (folder / "environments.yaml").write_text(text, encoding="utf-8")
    (folder / "llama.yaml").write_text(DEPLOYMENTS, encoding="utf-8")
    return folder


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    full = {"SGP_API_KEY": API_KEY, "NO_COLOR": "1", "HF_TOKEN": HF_TOKEN}
    full.update(env or {})
    return invoke([*args], full)


def check(manifests: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return run("check", "--backoff", "0", str(manifests), *args, env=env)


def report(result: Run) -> dict[str, Any]:
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def requested(emulator: Emulator) -> list[tuple[str, str | None]]:
    return [(r.path, r.headers.get("x-selected-account-id")) for r in emulator.requests]


# ---------------------------------------------------------------------------------------------
# Ids, accounts, typed values


def test_every_environment_in_sync_with_its_own_ids_account_and_base_url(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    result = check(manifests, "--env", "all", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    deployments = report(result)["deployments"]
    assert [(d["environment"], d["deployment_id"], d["status"]) for d in deployments] == [
        ("prod", "dep_p", "in_sync"),
        ("prod", "dep_only", "in_sync"),
        ("staging", "dep_s", "in_sync"),
    ]
    assert requested(staging) == [("/v4/models/mi_s/deployments/dep_s", "acc_stg")]
    assert sorted(requested(prod)) == [
        ("/v4/models/mi_p/deployments/dep_only", "acc_prod"),
        ("/v4/models/mi_p/deployments/dep_p", "acc_prod"),
    ]


def test_one_environment_checks_only_its_deployments(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    result = check(manifests, "--env", "staging", "--format", "json")
    assert result.code == 0, result.stderr
    assert [d["deployment_id"] for d in report(result)["deployments"]] == ["dep_s"]
    assert prod.requests == []


def test_driftcheck_env_selects_like_the_option(manifests: Path, prod: Emulator) -> None:
    result = check(manifests, "--format", "json", env={"DRIFTCHECK_ENV": "prod"})
    assert result.code == 0, result.stderr
    assert {d["environment"] for d in report(result)["deployments"]} == {"prod"}


def test_typed_values_and_provenance_point_at_the_winning_value(
    manifests: Path, prod: Emulator
) -> None:
    prod.put(body("mi_p", "dep_p", 3, "nvidia-ampere-a100", min_workers=0))
    result = check(manifests, "--env", "prod", "--format", "json")
    assert result.code == 2, result.stderr
    first = report(result)["deployments"][0]
    assert first["manifest"] == {"file": str(manifests / "llama.yaml"), "line": 3}
    found = {d["path"]: d for d in first["differences"]}
    env_file, llama = str(manifests / "environments.yaml"), str(manifests / "llama.yaml")
    # from vars: the integer 4 (not "4"), at prod's vars entry
    assert found["vendor_configuration.max_workers"] == {
        "path": "vendor_configuration.max_workers",
        "kind": "changed",
        "desired": 4,
        "live": 3,
        "line": 13,
        "segments": ["vendor_configuration", "max_workers"],
        "file": env_file,
    }
    assert (
        found["vendor_configuration.gpu_type"]["line"],
        found["vendor_configuration.gpu_type"]["file"],
    ) == (14, env_file)
    # from prod's override
    assert found["vendor_configuration.min_workers"]["desired"] == 1
    assert (
        found["vendor_configuration.min_workers"]["line"],
        found["vendor_configuration.min_workers"]["file"],
    ) == (19, llama)
    # a reference inside a longer string is text, at the string's own line
    assert found["deployment_metadata.label"]["desired"] == "team-4"
    assert (
        found["deployment_metadata.label"]["line"],
        found["deployment_metadata.label"]["file"],
    ) == (11, llama)
    assert set(found) == {
        "vendor_configuration.max_workers",
        "vendor_configuration.gpu_type",
        "vendor_configuration.min_workers",
        "deployment_metadata.label",
    }


def test_var_on_the_command_line_is_a_typed_core_scalar(manifests: Path, prod: Emulator) -> None:
    prod.put(body("mi_p", "dep_p", 9, "nvidia-hopper-h100", min_workers=1))
    drifted = check(manifests, "--env", "prod", "--format", "json")
    assert drifted.code == 2
    # 9 is the integer 9 (a string "9" would drift), in max_workers and in the label
    result = check(manifests, "--env", "prod", "--var", "workers=9", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr


def test_env_reference_is_compared_and_marked_sensitive(manifests: Path, prod: Emulator) -> None:
    from driftcheck.manifest import Selection, load_set

    loaded = load_set(
        [str(manifests)], Selection(("prod",), process_env={"HF_TOKEN": "other-secret-99"})
    )
    deployment = loaded.deployments[0]
    assert deployment.fields["deployment_metadata"]["hf_token"] == "other-secret-99"
    assert deployment.sensitive_paths == frozenset({("deployment_metadata", "hf_token")})
    result = check(manifests, "--env", "prod", "--format", "json", env={"HF_TOKEN": "x" * 12})
    assert result.code == 2
    paths = [d["path"] for d in report(result)["deployments"][0]["differences"]]
    assert paths == ["deployment_metadata.hf_token"]


def test_reports_group_by_environment(manifests: Path, staging: Emulator, prod: Emulator) -> None:
    prod.put(body("mi_p", "dep_p", 2, "nvidia-hopper-h100", min_workers=1))
    staging.put(body("mi_s", "dep_s", 2, "nvidia-ampere-a10"))
    text = check(manifests, "--env", "all")
    assert text.code == 2
    lines = text.stdout.splitlines()
    assert lines[0] == "Environment prod:"
    assert lines.index("Environment staging:") > lines.index("~ llama-70b (mi_p/dep_p) drifted")
    markdown = check(manifests, "--env", "all", "--format", "markdown").stdout
    assert markdown.index("#### Environment prod") < markdown.index("#### Environment staging")
    junit = check(manifests, "--env", "all", "--format", "junit").stdout
    suites = {s.name: (s.tests, s.failures) for s in JUnitXml.fromstring(junit)}
    assert suites == {"driftcheck [prod]": (2, 1), "driftcheck [staging]": (1, 1)}


# ---------------------------------------------------------------------------------------------
# render


def test_render_prints_the_effective_manifest_that_reads_back_the_same(
    manifests: Path, prod: Emulator, tmp_path: Path
) -> None:
    result = run("render", "--env", "prod", str(manifests))
    assert result.code == 0, result.stderr
    env_file, llama = manifests / "environments.yaml", manifests / "llama.yaml"
    lines = result.stdout.splitlines()
    assert "    model_instance_id: mi_p" not in lines
    assert f"  - model_instance_id: mi_p  # {llama}:16" in lines
    assert f"    deployment_id: dep_p  # {llama}:17" in lines
    assert f"      max_workers: 4  # {env_file}:13 (var.workers)" in lines
    assert f"      gpu_type: nvidia-hopper-h100  # {env_file}:14 (var.gpu)" in lines
    assert f"      min_workers: 1  # {llama}:19" in lines
    assert f"      hf_token: (sensitive)  # {llama}:10" in lines
    assert f'      literal: "$${{not.a.reference}}"  # {llama}:12' in lines
    assert HF_TOKEN not in result.stdout
    assert "environments" not in yaml.safe_load(result.stdout)
    # read back: the same deployments, the same verdicts (the secret aside)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(result.stdout.replace("(sensitive)", "${env:HF_TOKEN}"), "utf-8")
    again = check(
        rendered,
        "--format",
        "json",
        env={"SGP_CLIENT_BASE_URL": prod.url, "SGP_ACCOUNT_ID": "acc_prod"},
    )
    assert again.code == 0, again.stdout + again.stderr
    assert [d["deployment_id"] for d in report(again)["deployments"]] == ["dep_p", "dep_only"]


def test_render_needs_one_environment(manifests: Path) -> None:
    result = run("render", "--env", "all", str(manifests))
    assert result.code == 1
    assert result.stderr.strip().endswith(
        "render prints one environment: choose one with --env NAME (selected: prod, staging)"
    )


# ---------------------------------------------------------------------------------------------
# validate, snapshot, --live-from


def test_validate_without_env_validates_every_environment(manifests: Path) -> None:
    result = run("validate", str(manifests))
    assert result.code == 0, result.stderr
    assert result.stdout == "ok: 3 deployments in 2 manifests (prod: 2, staging: 1)\n"
    (manifests / "llama.yaml").write_text(
        DEPLOYMENTS.replace("          min_workers: 1", "          min_workers: lots"), "utf-8"
    )
    bad = run("validate", str(manifests))
    assert bad.code == 1
    assert (
        f"{manifests / 'llama.yaml'}:19:11: deployments[0].vendor_configuration.min_workers: "
        "expected a whole number, got the string 'lots'" in bad.stderr
    )


def test_snapshot_records_its_environment_and_live_from_checks_it(
    manifests: Path, prod: Emulator, tmp_path: Path
) -> None:
    snap = tmp_path / "prod.json"
    recorded = run("snapshot", "--env", "prod", str(manifests), "-o", str(snap))
    assert recorded.code == 0, recorded.stderr
    document = json.loads(snap.read_text())
    assert document["environment"] == "prod"
    assert document["source"] == prod.url
    offline = check(manifests, "--env", "prod", "--live-from", str(snap))
    assert offline.code == 0, offline.stderr
    wrong = check(manifests, "--env", "staging", "--live-from", str(snap))
    assert wrong.code == 1
    assert wrong.stderr.strip().splitlines() == [
        f"driftcheck: error: {snap} is a snapshot of environment 'prod', not 'staging': "
        "record one with: driftcheck snapshot --env staging"
    ]


def test_snapshot_takes_one_environment(manifests: Path, tmp_path: Path) -> None:
    result = run("snapshot", "--env", "all", str(manifests), "-o", str(tmp_path / "s.json"))
    assert result.code == 1
    assert "snapshot records one environment at a time" in result.stderr
    assert not (tmp_path / "s.json").exists()


# ---------------------------------------------------------------------------------------------
# Bad input: one line each, exit 1, nothing checked


def bad(manifests: Path, *args: str, staging: Emulator, prod: Emulator) -> list[str]:
    result = check(manifests, *args)
    assert result.code == 1, result.stdout
    assert result.stdout == ""
    assert staging.requests == [] and prod.requests == []
    return result.stderr.splitlines()


def test_a_set_with_environments_needs_one(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    assert bad(manifests, staging=staging, prod=prod) == [
        "driftcheck: error: the manifests define environments (prod, staging): choose with "
        "--env NAME (repeatable), --env all or DRIFTCHECK_ENV"
    ]


def test_unknown_environment_on_the_command_line(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    assert bad(manifests, "--env", "prd", staging=staging, prod=prod) == [
        "driftcheck: error: --env: unknown environment 'prd' (did you mean 'prod'?); "
        "defined: prod, staging"
    ]


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (  # an unknown environment in a deployment's map
            "      staging: {model_instance_id: mi_s",
            "      stagin: {model_instance_id: mi_s",
            "14:7",
            "unknown environment 'stagin' (did you mean 'staging'?); defined: prod, staging",
        ),
        (  # an entry without ids
            "      staging: {model_instance_id: mi_s, deployment_id: dep_s}",
            "      staging: {model_instance_id: mi_s}",
            "14:7",
            "environment entry 'staging' needs model_instance_id and deployment_id "
            "(missing or empty: deployment_id)",
        ),
        (  # an undefined variable
            "gpu_type: ${var.gpu}",
            "gpu_type: ${var.gpus}",
            "7:17",
            "undefined variable var.gpus in environment 'prod' (did you mean var.gpu?)",
        ),
        (  # an unset environment variable
            "${env:HF_TOKEN}",
            "${env:HF_TOKN}",
            "10:17",
            "environment variable HF_TOKN is not set (did you mean 'HF_TOKEN'?)",
        ),
        (  # a reference in a key
            "      label:",
            "      ${var.tag}:",
            "11:7",
            "a reference is not allowed in a key ('${var.tag}'): keys are literal; "
            "write $${ for a literal ${",
        ),
        (  # an unterminated reference
            '"team-${var.workers}"',
            '"team-${var.workers"',
            "11:20",
            "unterminated reference '${': close it with '}' (or write '$${')",
        ),
    ],
)
def test_bad_reference_or_environment_entry(
    manifests: Path,
    staging: Emulator,
    prod: Emulator,
    old: str,
    new: str,
    where: str,
    message: str,
) -> None:
    llama = manifests / "llama.yaml"
    assert old in DEPLOYMENTS
    llama.write_text(DEPLOYMENTS.replace(old, new, 1), encoding="utf-8")
    lines = bad(manifests, "--env", "prod", staging=staging, prod=prod)
    assert lines == [
        f"{llama}:{where}: {message}",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_the_same_environment_in_two_files_names_both_places(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    (manifests / "more.yaml").write_text(
        "version: 1\nenvironments:\n  prod:\n    account_id: acc_other\ndeployments: []\n",
        encoding="utf-8",
    )
    lines = bad(manifests, "--env", "prod", staging=staging, prod=prod)
    assert lines == [
        f"{manifests / 'more.yaml'}:3:3: environment 'prod' is defined twice: here and at "
        f"{manifests / 'environments.yaml'}:9:3",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_a_reference_cycle(manifests: Path, staging: Emulator, prod: Emulator) -> None:
    text = (manifests / "environments.yaml").read_text()
    text = text.replace("      tag: v2", "      tag: ${var.next}\n      next: x-${var.tag}")
    (manifests / "environments.yaml").write_text(text, encoding="utf-8")
    llama = manifests / "llama.yaml"
    llama.write_text(DEPLOYMENTS.replace("team-${var.workers}", "${var.tag}"), encoding="utf-8")
    lines = bad(manifests, "--env", "prod", staging=staging, prod=prod)
    assert lines == [
        f"{manifests / 'environments.yaml'}:16:15: reference cycle: var.tag -> var.next -> var.tag",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_unused_var_on_the_command_line_is_a_usage_error(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    assert bad(manifests, "--env", "prod", "--var", "worker=2", staging=staging, prod=prod) == [
        "driftcheck: error: --var worker: no manifest uses var.worker (did you mean 'workers'?)"
    ]


def test_a_set_without_environments_is_unchanged(
    run_check: Any, manifest: Any, emulator: Emulator
) -> None:
    emulator.put(make_deployment("mi", "dep"))
    path = manifest("version: 1\ndeployments:\n  - model_instance_id: mi\n    deployment_id: dep\n")
    result = run_check(path, "--format", "json")
    assert result.code == 0
    assert "environment" not in report(result)["deployments"][0]
    wrong = run_check(path, "--env", "prod")
    assert (wrong.code, wrong.stderr) == (
        1,
        "driftcheck: error: --env prod: the manifests define no environments\n",
    )


# ---------------------------------------------------------------------------------------------
# The bundled example


def test_the_bundled_example_checks_staging_offline() -> None:
    root = Path(__file__).resolve().parents[2]
    example = root / "manifests" / "environments"
    snapshot = example / "staging.snapshot.json"
    result = invoke(["check", str(example), "--env", "staging", "--live-from", str(snapshot)], {})
    assert (result.code, result.stdout) == (
        2,
        "Environment staging:\n"
        "~ chat-70b (mi_chat_stg/dep_chat_stg) drifted\n"
        "    ~ vendor_configuration.max_workers: 1 -> 2\n"
        "\n"
        "1 deployment: 0 in sync, 1 drifted, 0 missing, 0 errors.\n",
    )
    validated = invoke(["validate", str(example)], {})
    assert validated.stdout == "ok: 3 deployments in 2 manifests (prod: 2, staging: 1)\n"


def test_snapshot_as_manifest_writes_into_an_environment_of_the_set(
    manifests: Path, prod: Emulator, staging: Emulator
) -> None:
    live = make_deployment(
        "mi_p",
        "dep_new",
        name="adopted",
        deployment_metadata={"template": "${kept}"},
        account_id="acc_prod",  # the account-wide listing is prod's account
    )
    prod.put(live)
    staging.put(make_deployment("mi_s", "dep_elsewhere"))  # another account: not recorded
    adopted = manifests / "adopted.yaml"
    result = run(
        "snapshot", "--env", "prod", "--all", "--as-manifest", str(manifests), "-o", str(adopted)
    )
    assert result.code == 0, result.stderr
    text = adopted.read_text()
    assert "# environment: prod" in text
    assert "#   mi_p/dep_p: already declared in the set" in text
    assert "template: $${kept}" in text
    declared = yaml.safe_load(text)["deployments"]
    assert [d["environments"] for d in declared] == [
        {"prod": {"model_instance_id": "mi_p", "deployment_id": "dep_new"}}
    ]
    assert staging.requests == []
    # the file joins the set: prod now covers the adopted deployment, in sync
    again = check(manifests, "--env", "prod", "--format", "json")
    assert again.code == 0, again.stdout + again.stderr
    assert [d["deployment_id"] for d in report(again)["deployments"]] == [
        "dep_new",
        "dep_p",
        "dep_only",
    ]


def test_unmanaged_lists_every_environment_with_its_own_account(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    prod.put(make_deployment("mi_p", "dep_rogue", name="rogue", account_id="acc_prod"))
    result = check(manifests, "--env", "all", "--unmanaged", "--format", "json")
    assert result.code == 2, result.stderr
    document = report(result)
    assert [u["deployment_id"] for u in document["unmanaged"]] == ["dep_rogue"]
    assert document["summary"]["live_total"] == 4
    listed = [
        r
        for r in staging.requests + prod.requests
        if r.route and "deployments" in r.path and r.path.endswith("deployments")
    ]
    assert {r.headers.get("x-selected-account-id") for r in listed} == {"acc_stg", "acc_prod"}


def test_sarif_and_github_point_at_the_vars_entry(manifests: Path, prod: Emulator) -> None:
    prod.put(body("mi_p", "dep_p", 3, "nvidia-hopper-h100", min_workers=1))
    sarif = json.loads(check(manifests, "--env", "prod", "--format", "sarif").stdout)
    places = [
        r["locations"][0]["physicalLocation"]
        for r in sarif["runs"][0]["results"]
        if "max_workers" in r["message"]["text"]
    ]
    assert [
        (p["artifactLocation"]["uri"].rsplit("/", 1)[-1], p["region"]["startLine"]) for p in places
    ] == [("environments.yaml", 13)]
    github = check(manifests, "--env", "prod", "--format", "github").stdout
    assert f"::error file={manifests / 'environments.yaml'},line=13," in github


def test_snapshot_all_with_env_needs_the_manifests(
    tmp_path: Path, prod: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no manifests/ here
    result = run(
        "snapshot", "--all", "--env", "prod", "-o", "s.json", env={"SGP_CLIENT_BASE_URL": prod.url}
    )
    assert (result.code, result.stderr) == (
        1,
        "driftcheck: error: --env prod: no manifests here define environments "
        "(give the manifest PATH)\n",
    )
    assert prod.requests == []


def test_an_environment_base_url_that_cannot_be_used_names_the_environment(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    definitions = manifests / "environments.yaml"
    definitions.write_text(
        definitions.read_text().replace(prod.url, "http://example.com"), encoding="utf-8"
    )
    assert bad(manifests, "--env", "all", staging=staging, prod=prod) == [
        f"driftcheck: error: environment 'prod' ({definitions}:9): refusing to send the API key "
        "over plain http to example.com: use https, or pass --allow-insecure-http"
    ]


CHANGED_SET = """\
version: 1
environments:
  staging: {{vars: {{workers: 1}}}}
  prod: {{vars: {{workers: {prod_workers}}}}}
deployments:
  - vendor_configuration: {{vendor: LAUNCH, max_workers: "${{var.workers}}"}}
    environments:
      staging: {{model_instance_id: mi_s, deployment_id: dep_s}}
      prod: {{model_instance_id: mi_p, deployment_id: dep_p}}
"""


def test_changed_since_sees_a_variable_change_in_the_environment_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_check: Any, emulator: Emulator
) -> None:
    from tests.acceptance.test_changed_since import git

    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    path = root / "manifests" / "set.yaml"
    path.write_text(CHANGED_SET.format(prod_workers=4), encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before")
    path.write_text(CHANGED_SET.format(prod_workers=5), encoding="utf-8")
    monkeypatch.chdir(root)
    for mi, dep, workers in (("mi_s", "dep_s", 1), ("mi_p", "dep_p", 4)):
        config = {"vendor": "LAUNCH", "min_workers": 0, "max_workers": workers, "per_worker": 10}
        emulator.put(make_deployment(mi, dep, vendor_configuration=config))
    result = run_check("manifests", "--env", "all", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 2, result.stderr
    deployments = report(result)["deployments"]
    assert [(d["environment"], d["deployment_id"]) for d in deployments] == [("prod", "dep_p")]
    assert [(d["path"], d["desired"], d["origin"]) for d in deployments[0]["differences"]] == [
        ("vendor_configuration.max_workers", 5, "this_change")
    ]
    assert emulator.requests_for("mi_s", "dep_s") == []
