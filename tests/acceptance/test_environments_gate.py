"""--wait and --changed-since with environments whose deployments share ids: each environment's
deployment is its own finding (the same ids live in two accounts), never one for both."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import API_KEY, FakeClock, Run, invoke
from tests.emulator import Emulator, llmengine_config, make_deployment

SET = """\
version: 1
environments:
  staging:
    base_url: {staging}
    vars: {{workers: 1}}
  prod:
    base_url: {prod}
    vars: {{workers: 4}}
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    status: READY
    vendor_configuration:
      vendor: LLMENGINE
      max_workers: ${{var.workers}}
"""


def body(workers: int, status: str = "READY") -> dict[str, Any]:
    config = llmengine_config(max_workers=workers, gpus=0, num_shards=4)
    return make_deployment("mi_1", "dep_1", status=status, vendor_configuration=config)


@pytest.fixture
def staging() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY) as emu:
        yield emu


@pytest.fixture
def prod() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY) as emu:
        yield emu


@pytest.fixture
def folder(tmp_path: Path, staging: Emulator, prod: Emulator) -> Path:
    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    text = SET.format(staging=staging.url, prod=prod.url)
    (root / "manifests" / "set.yaml").write_text(text, encoding="utf-8")
    return root / "manifests"


def check(folder: Path, *args: str, clock: FakeClock | None = None) -> Run:
    env = {"SGP_API_KEY": API_KEY, "NO_COLOR": "1"}
    return invoke(["check", "--backoff", "0", str(folder), "--env", "all", *args], env, clock)


def by_environment(result: Run) -> dict[str, tuple[str, int | None]]:
    report = json.loads(result.stdout)
    return {d["environment"]: (d["status"], d.get("checks")) for d in report["deployments"]}


def test_wait_keeps_each_environments_own_observation(
    folder: Path, staging: Emulator, prod: Emulator, clock: FakeClock
) -> None:
    prod.put(body(2))  # prod drifted (declares 4), and stays so
    staging.rollout("mi_1", "dep_1", body(1, "DEPLOYING"), body(1, "READY"))
    result = check(folder, "--wait", "1m", "--format", "json", clock=clock)
    assert result.code == 2, result.stdout
    # each copy is re-checked only while it is pending, in its own account (keys name their
    # environment): staging settles on its second look, prod is fetched until the deadline
    checks = len(prod.requests)
    assert checks > 2 and len(staging.requests) == 2
    assert by_environment(result) == {"staging": ("in_sync", 2), "prod": ("drifted", checks)}


def test_wait_does_not_let_one_environment_speak_for_another(
    folder: Path, staging: Emulator, prod: Emulator, clock: FakeClock
) -> None:
    staging.put(body(3))  # staging drifted (declares 1); prod in sync from the start
    prod.put(body(4))
    result = check(folder, "--wait", "30s", "--format", "json", clock=clock)
    assert result.code == 2, result.stdout
    assert by_environment(result)["staging"][0] == "drifted"
    assert by_environment(result)["prod"][0] == "in_sync"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        check=True,
    )


def test_changed_since_judges_each_environment_against_its_own_live_state(
    folder: Path, staging: Emulator, prod: Emulator
) -> None:
    staging.put(body(1))
    prod.put(body(4))
    repo = folder.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "before")
    text = (folder / "set.yaml").read_text(encoding="utf-8")
    (folder / "set.yaml").write_text(text.replace("{workers: 4}", "{workers: 8}"))
    result = check(folder, "--changed-since", "HEAD", "--format", "json")
    assert result.code == 2, result.stdout + result.stderr
    report = json.loads(result.stdout)
    found = {
        d["environment"]: [(x["desired"], x["live"], x["origin"]) for x in d["differences"]]
        for d in report["deployments"]
    }
    # prod's change is judged against prod's live 4, not staging's 1
    assert found["prod"] == [(8, 4, "this_change")]
    assert found.get("staging", []) == []


def test_a_removed_deployment_is_looked_up_in_its_own_environment(
    folder: Path, staging: Emulator, prod: Emulator
) -> None:
    staging.put(body(1))
    prod.put(body(4))
    prod.put(make_deployment("mi_p", "dep_gone", status="READY"))
    staging.put(make_deployment("mi_s", "dep_gone", status="DEPLOYING"))
    text = (folder / "set.yaml").read_text(encoding="utf-8")
    gone = (
        "  - name: gone\n"
        "    environments:\n"
        "      prod: {model_instance_id: mi_p, deployment_id: dep_gone}\n"
        "  - name: gone-too\n"
        "    environments:\n"
        "      staging: {model_instance_id: mi_s, deployment_id: dep_gone}\n"
    )
    (folder / "set.yaml").write_text(text + gone, encoding="utf-8")
    repo = folder.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "before")
    (folder / "set.yaml").write_text(text, encoding="utf-8")
    result = check(folder, "--changed-since", "HEAD", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    removed = {r["model_instance_id"]: r for r in json.loads(result.stdout)["removed"]}
    assert (removed["mi_p"]["found"], removed["mi_p"]["live_status"]) == (True, "READY")
    assert (removed["mi_s"]["found"], removed["mi_s"]["live_status"]) == (True, "DEPLOYING")
    assert staging.requests_for("mi_p", "dep_gone") == []
    assert prod.requests_for("mi_s", "dep_gone") == []


def test_changed_since_rechecks_deployments_of_an_environment_that_moved(
    folder: Path, staging: Emulator, prod: Emulator
) -> None:
    """A change that points prod at another API (or account) changes where its deployments
    must exist, though no deployment's own declaration changed: they are checked there, and
    the gate must not pass with nothing checked."""
    staging.put(body(1))
    prod.put(body(4))
    repo = folder.parent
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "before")
    with Emulator(api_key=API_KEY) as moved:  # the new prod API has no such deployment
        text = (folder / "set.yaml").read_text(encoding="utf-8")
        (folder / "set.yaml").write_text(text.replace(prod.url, moved.url), encoding="utf-8")
        result = check(folder, "--changed-since", "HEAD", "--format", "json")
        assert result.code == 2, result.stdout + result.stderr
        assert by_environment(result) == {"prod": ("missing", None)}
        assert moved.requests_for("mi_1", "dep_1") != []
    assert staging.requests_for("mi_1", "dep_1") == []  # staging did not move
