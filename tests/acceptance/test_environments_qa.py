"""Environments (#12), found by QA: each bad input is one problem, at its own place; a
secret inside a variable never shows; the same ids in two environments stay two deployments
(--wait, --changed-since). The set of test_environments.py, against two emulators."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.acceptance.conftest import API_KEY, FakeClock, Run, invoke
from tests.acceptance.test_environments import (
    DEPLOYMENTS,
    ENVIRONMENTS,
    HF_TOKEN,
    bad,
    check,
    manifests,
    prod,
    report,
    requested,
    run,
    staging,
)
from tests.emulator import Emulator, make_deployment

# the fixtures, used by name below (pytest finds them in this module's namespace)
__all__ = ["manifests", "prod", "staging"]


def test_an_entry_without_ids_is_one_problem_in_the_environment_it_is_checked_in(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    llama = manifests / "llama.yaml"
    llama.write_text(
        DEPLOYMENTS.replace("deployment_id: dep_s}", "deployment_id: ''}"), encoding="utf-8"
    )
    # staging is checked: its merged deployment has no ids, which is not a second problem
    assert bad(manifests, "--env", "all", staging=staging, prod=prod) == [
        f"{llama}:14:7: environment entry 'staging' needs model_instance_id and deployment_id "
        "(missing or empty: deployment_id)",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_a_broken_environment_definition_is_not_also_an_unknown_name(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    environments = manifests / "environments.yaml"
    text = environments.read_text(encoding="utf-8")
    environments.write_text(text.replace("account_id: acc_stg", "acount_id: acc_stg"), "utf-8")
    # the deployment naming staging is right; only the definition is wrong, and said once
    assert bad(manifests, "--env", "prod", staging=staging, prod=prod) == [
        f"{environments}:4:5: unknown key 'acount_id' in environment 'staging': did you mean "
        "'account_id'? allowed keys: account_id, base_url, vars",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_an_environment_named_all_is_refused(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    environments = manifests / "environments.yaml"
    text = environments.read_text(encoding="utf-8")
    environments.write_text(text.replace("  prod:\n", "  all:\n"), "utf-8")
    llama = manifests / "llama.yaml"
    llama.write_text(DEPLOYMENTS.replace("      prod:", "      all:"), "utf-8")
    # --env all would select every environment: a name 'all' could never be chosen alone
    assert bad(manifests, "--env", "all", staging=staging, prod=prod) == [
        f"{environments}:9:3: environment name 'all' is reserved "
        "(--env all selects every environment)",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]
    # an editor says so too
    schema = json.loads(run("schema").stdout)
    document = yaml.safe_load(environments.read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(document))
    assert [list(e.absolute_path) for e in errors] == [["environments"]]


def test_driftcheck_env_is_named_in_its_errors(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    result = check(manifests, env={"DRIFTCHECK_ENV": "prd"})
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "driftcheck: error: DRIFTCHECK_ENV: unknown environment 'prd' (did you mean 'prod'?); "
        "defined: prod, staging"
    ]
    plain = manifests.parent / "plain.yaml"
    plain.write_text("version: 1\ndeployments:\n  - {model_instance_id: m, deployment_id: d}\n")
    result = check(plain, env={"DRIFTCHECK_ENV": "prod"})
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "driftcheck: error: DRIFTCHECK_ENV=prod: the manifests define no environments"
    ]
    assert staging.requests == [] and prod.requests == []


# A variable holding a map with a ${env:...} inside: only that leaf is secret.
SECRET_MAP = """\
      vc:
        vendor: LLMENGINE
        gpus: 4
        gpu_type: "${env:HF_TOKEN}"
"""


def _secret_in_a_variable(manifests: Path) -> Path:
    environments = manifests / "environments.yaml"
    text = environments.read_text(encoding="utf-8")
    environments.write_text(text.replace("      tag: v2\n", "      tag: v2\n" + SECRET_MAP))
    llama = manifests / "llama.yaml"
    base = DEPLOYMENTS.split("    deployment_metadata:")[0]
    llama.write_text(
        base.replace(
            "    vendor_configuration:\n      vendor: LLMENGINE\n      gpus: 4\n"
            "      gpu_type: ${var.gpu}\n      max_workers: ${var.workers}\n",
            "    vendor_configuration: ${var.vc}\n",
        )
        + "    environments:\n      prod: {model_instance_id: mi_p, deployment_id: dep_p}\n"
    )
    return environments


def test_a_secret_inside_a_variable_map_never_shows_in_a_validation_message(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    environments = _secret_in_a_variable(manifests)
    assert bad(manifests, "--env", "prod", staging=staging, prod=prod) == [
        f"{environments}:19:9: unknown gpu_type (sensitive); expected one of nvidia-tesla-t4, "
        "nvidia-ampere-a10, nvidia-ampere-a100, nvidia-ampere-a100e, nvidia-hopper-h100, "
        "nvidia-hopper-h100-1g20gb, nvidia-hopper-h100-3g40gb",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_render_of_a_variable_map_keeps_its_shape_and_hides_only_the_secret(
    manifests: Path, prod: Emulator, tmp_path: Path
) -> None:
    environments = _secret_in_a_variable(manifests)
    gpu = {"HF_TOKEN": "nvidia-hopper-h100"}  # a valid value, still from the environment
    result = run("render", "--env", "prod", str(manifests), env=gpu)
    assert result.code == 0, result.stderr
    assert "nvidia-hopper-h100" not in result.stdout
    lines = result.stdout.splitlines()
    assert f"    vendor_configuration:  # {environments}:16 (var.vc)" in lines
    assert f"      gpu_type: (sensitive)  # {environments}:19 (var.vc)" in lines
    rendered = yaml.safe_load(result.stdout)["deployments"][0]["vendor_configuration"]
    assert rendered == {"vendor": "LLMENGINE", "gpus": 4, "gpu_type": "(sensitive)"}
    # the output is a manifest again once the secret is given back
    again = tmp_path / "rendered.yaml"
    again.write_text(result.stdout.replace("(sensitive)", "${env:HF_TOKEN}"), "utf-8")
    checked = run("validate", str(again), env=gpu)
    assert checked.code == 0, checked.stderr
    assert HF_TOKEN not in result.stdout + result.stderr


def test_environments_fixture_text_is_what_these_tests_edit() -> None:
    # the edits above replace text of the shared fixture; a change there must fail here first
    assert "account_id: acc_stg" in ENVIRONMENTS and "      tag: v2\n" in ENVIRONMENTS
    assert "deployment_id: dep_s}" in DEPLOYMENTS


# The same ids in staging and prod (two accounts): each declaration is its own deployment.
SHARED = """\
version: 1
environments:
  staging: {{account_id: acc_stg, base_url: "{staging}"}}
  prod: {{account_id: acc_prod, base_url: "{prod}"}}
deployments:
  - name: shared
    environments:
      prod: {{model_instance_id: mi_sh, deployment_id: dep_sh, status: READY}}
      staging: {{model_instance_id: mi_sh, deployment_id: dep_sh, status: {status}}}
"""


def _shared(staging: Emulator, prod: Emulator, prod_status: str) -> None:
    staging.put(make_deployment("mi_sh", "dep_sh", name="shared", status="DEPLOYING"))
    prod.put(make_deployment("mi_sh", "dep_sh", name="shared", status=prod_status))


def waiting(manifest: Path, *args: str) -> Run:
    """``check --wait`` on a fake clock: waiting never sleeps."""
    env = {"SGP_API_KEY": API_KEY, "NO_COLOR": "1"}
    return invoke(["check", "--backoff", "0", str(manifest), *args], env, FakeClock())


def test_wait_keeps_each_environment_of_the_same_ids_apart(
    tmp_path: Path, staging: Emulator, prod: Emulator
) -> None:
    _shared(staging, prod, "FAILED")  # prod drifted for good; staging is as declared
    text = SHARED.format(staging=staging.url, prod=prod.url, status="DEPLOYING")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    result = waiting(tmp_path / "m.yaml", "--env", "all", "--wait", "1m", "--format", "json")
    # before: prod's result was replaced by staging's (same ids), a false "in sync"
    assert result.code == 2, result.stdout + result.stderr
    found = [(d["environment"], d["status"]) for d in report(result)["deployments"]]
    assert found == [("prod", "drifted"), ("staging", "in_sync")]


def test_changed_since_checks_a_change_in_one_environment_in_that_environment(
    tmp_path: Path, staging: Emulator, prod: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shared(staging, prod, "FAILED")
    repo = tmp_path / "repo"
    repo.mkdir()
    manifest = repo / "m.yaml"
    manifest.write_text(SHARED.format(staging=staging.url, prod=prod.url, status="READY"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "ref"], cwd=repo, check=True)
    # only staging's declaration changes; prod's same ids are not part of this change
    manifest.write_text(SHARED.format(staging=staging.url, prod=prod.url, status="DEPLOYING"))
    monkeypatch.chdir(repo)
    result = check(Path("m.yaml"), "--env", "all", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    found = [(d["environment"], d["status"]) for d in report(result)["deployments"]]
    assert found == [("staging", "in_sync")]
    # before: staging's declaration was fetched from prod's account (and judged drifted)
    assert requested(staging) == [("/v4/models/mi_sh/deployments/dep_sh", "acc_stg")]
    assert prod.requests == []


def test_a_baseline_tells_the_same_finding_in_two_environments_apart(
    tmp_path: Path, staging: Emulator, prod: Emulator
) -> None:
    text = SHARED.format(staging=staging.url, prod=prod.url, status="READY")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    staging.put(make_deployment("mi_sh", "dep_sh", name="shared", status="READY"))
    prod.put(make_deployment("mi_sh", "dep_sh", name="shared", status="FAILED"))
    first = check(tmp_path / "m.yaml", "--env", "all", "--format", "json")
    assert first.code == 2
    baseline = tmp_path / "baseline.json"
    baseline.write_text(first.stdout, encoding="utf-8")
    # tonight staging drifts the same way prod already did: that is new, not persisting
    staging.put(make_deployment("mi_sh", "dep_sh", name="shared", status="FAILED"))
    args = ("--env", "all", "--baseline", str(baseline), "--fail-on", "new", "--format", "json")
    result = check(tmp_path / "m.yaml", *args)
    assert result.code == 2, result.stdout + result.stderr
    marks = {
        d["environment"]: [diff["state"] for diff in d["differences"]]
        for d in report(result)["deployments"]
    }
    assert marks == {"prod": ["persisting"], "staging": ["new"]}


def test_an_ignore_used_in_one_environment_is_not_unused(
    tmp_path: Path, staging: Emulator, prod: Emulator
) -> None:
    text = SHARED.format(staging=staging.url, prod=prod.url, status="READY")
    text = text.replace("  - name: shared\n", "  - name: shared\n    ignore: [status]\n")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    prod.put(make_deployment("mi_sh", "dep_sh", name="shared", status="FAILED"))  # silenced
    staging.put(make_deployment("mi_sh", "dep_sh", name="shared", status="READY"))
    result = check(tmp_path / "m.yaml", "--env", "all", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    ignores = report(result)["ignores"]
    # before: staging's count replaced prod's (same ids), so the rule read as unused
    assert [(i["pattern"], i["status"], i["silenced"]) for i in ignores] == [
        ("status", "active", 1)
    ]


def test_an_ignore_pattern_from_the_environment_never_shows_in_a_message(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    llama = manifests / "llama.yaml"
    text = DEPLOYMENTS.replace("  - name: prod-only\n", "  - name: prod-only\n    ignore: [x]\n")
    llama.write_text(text.replace("ignore: [x]", 'ignore: ["${env:PATTERN}"]'), "utf-8")
    result = check(manifests, "--env", "prod", env={"PATTERN": "hf..secret-pattern"})
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{llama}:21:14: invalid ignore pattern (sensitive): empty segment (two dots in a row, "
        "or a leading/trailing dot)",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]
    assert staging.requests == [] and prod.requests == []


def test_a_reference_in_a_variable_or_environment_name_is_one_problem(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    environments = manifests / "environments.yaml"
    text = environments.read_text(encoding="utf-8")
    environments.write_text(text.replace("      tag: v2\n", '      "${var.tag}x": v2\n'), "utf-8")
    # not also "variable name ... must match", nor prod "unknown" for the deployments
    assert bad(manifests, "--env", "prod", staging=staging, prod=prod) == [
        f"{environments}:15:7: a reference is not allowed in a key ('${{var.tag}}x'): keys are "
        "literal; write $${ for a literal ${",
        "driftcheck: 1 manifest problem; nothing was checked",
    ]


def test_a_reference_after_a_line_break_or_an_escape_is_found_in_its_place(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    llama = manifests / "llama.yaml"
    text = DEPLOYMENTS.replace(
        '      label: "team-${var.workers}"\n',
        '      label: |\n        team\n        x ${var.nope}\n      tab: "a\\tb ${var.nope}"\n',
    )
    llama.write_text(text, encoding="utf-8")
    assert bad(manifests, "--env", "prod", staging=staging, prod=prod) == [
        f"{llama}:13:11: undefined variable var.nope in environment 'prod'",
        f"{llama}:14:18: undefined variable var.nope in environment 'prod'",
        "driftcheck: 2 manifest problems; nothing was checked",
    ]


def test_unmanaged_is_judged_per_environment(
    manifests: Path, staging: Emulator, prod: Emulator
) -> None:
    # staging's account runs mi_p/dep_only, which only prod declares
    staging.put(make_deployment("mi_p", "dep_only", name="stray", account_id="acc_stg"))
    prod.put(make_deployment("mi_p", "dep_only", name="prod-only", account_id="acc_prod"))
    result = check(manifests, "--env", "all", "--unmanaged", "--format", "json")
    # before: declared in prod counted as declared in staging too: 100 % coverage, exit 0
    assert result.code == 2, result.stdout + result.stderr
    document = report(result)
    found = [(u["environment"], u["deployment_id"]) for u in document["unmanaged"]]
    assert found == [("staging", "dep_only")]
    assert (document["summary"]["unmanaged"], document["summary"]["live_total"]) == (1, 4)


def test_wait_rechecks_a_rollout_in_its_own_environment(
    tmp_path: Path, staging: Emulator, prod: Emulator
) -> None:
    text = SHARED.format(staging=staging.url, prod=prod.url, status="READY")
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    prod.put(make_deployment("mi_sh", "dep_sh", name="shared", status="READY"))
    staging.put(make_deployment("mi_sh", "dep_sh", name="shared"))
    staging.rollout("mi_sh", "dep_sh", "DEPLOYING", "READY")
    result = waiting(tmp_path / "m.yaml", "--env", "all", "--wait", "1m", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    checks = [(d["environment"], d["checks"]) for d in report(result)["deployments"]]
    assert checks == [("prod", 1), ("staging", 2)]
    # only staging's deployment was re-checked, and in staging's account
    assert requested(staging) == [("/v4/models/mi_sh/deployments/dep_sh", "acc_stg")] * 2
    assert len(prod.requests) == 1


def test_a_removed_deployment_names_its_environment(
    tmp_path: Path, staging: Emulator, prod: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _shared(staging, prod, "READY")
    repo = tmp_path / "repo"
    repo.mkdir()
    manifest = repo / "m.yaml"
    text = SHARED.format(staging=staging.url, prod=prod.url, status="READY")
    manifest.write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "ref"], cwd=repo, check=True)
    # staging no longer declares it; prod still does, with the same ids
    manifest.write_text(text.replace("      staging: {model_instance_id: mi_sh", "#"), "utf-8")
    monkeypatch.chdir(repo)
    result = check(Path("m.yaml"), "--env", "all", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    removed = [(r["environment"], r["live_status"]) for r in report(result)["removed"]]
    assert removed == [("staging", "DEPLOYING")]
