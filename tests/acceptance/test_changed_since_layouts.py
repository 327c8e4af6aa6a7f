"""--changed-since in repository layouts a reviewer meets: manifests below the root, the
command run from elsewhere, moved/deleted manifest files, remote-tracking refs and tags."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.test_changed_since import AFTER, BEFORE, deployment, git, manifest_text
from tests.emulator import Emulator, launch_config, make_deployment


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    """A repository whose manifests live in ``infra/manifests``; BEFORE committed, tagged
    ``v1`` and published as ``origin/main``; AFTER in the work tree."""
    root = tmp_path / "repo"
    folder = root / "infra" / "manifests"
    folder.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (folder / "prod.yaml").write_text(BEFORE, encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before")
    git(root, "tag", "v1")
    git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    (folder / "prod.yaml").write_text(AFTER, encoding="utf-8")
    return root


@pytest.fixture
def live(emulator: Emulator) -> Emulator:
    for dep, workers in (("dep_a", 3), ("dep_b", 2), ("dep_c", 1), ("dep_d", 7)):
        config = launch_config(max_workers=workers)
        emulator.put(make_deployment("mi_1", dep, name=f"{dep}-name", vendor_configuration=config))
    return emulator


def checked(result: Any) -> dict[str, Any]:
    assert result.code == 2, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def origins(report: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        d["deployment_id"]: [(x["path"], x["origin"]) for x in d["differences"]]
        for d in report["deployments"]
    }


EXPECTED = {
    "dep_a": [
        ("vendor_configuration.max_workers", "pre_existing"),
        ("vendor_configuration.min_workers", "this_change"),
    ],
    "dep_b": [("vendor_configuration.max_workers", "this_change")],
    "dep_e": [],
}


@pytest.mark.parametrize("ref", ["origin/main", "v1", "refs/tags/v1"])
def test_remote_tracking_refs_and_tags_from_a_subdirectory(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch, ref: str
) -> None:
    monkeypatch.chdir(nested / "infra")
    report = checked(run_check("manifests", "--changed-since", ref, "--format", "json"))
    assert origins(report) == EXPECTED
    assert [r["deployment_id"] for r in report["removed"]] == ["dep_c"]
    assert report["changed_since"]["ref"] == ref


def test_run_from_inside_the_manifest_folder(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(nested / "infra" / "manifests")
    report = checked(run_check(".", "--changed-since", "main", "--format", "json"))
    assert origins(report) == EXPECTED


def test_run_from_another_repository_uses_the_manifests_repository(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a CI job that runs from its own checkout and points at the manifests elsewhere (and a
    # test runner's working directory is a repository too): REF is the manifests' repository's
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(elsewhere, "init", "-q", "-b", "main")
    monkeypatch.chdir(elsewhere)
    folder = str(nested / "infra" / "manifests")
    report = checked(run_check(folder, "--changed-since", "v1", "--format", "json"))
    assert origins(report) == EXPECTED


def test_a_moved_manifest_file_is_no_change_and_a_deleted_one_removes(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = nested / "infra" / "manifests"
    (folder / "other.yaml").write_text(manifest_text(deployment("dep_d", 1)), encoding="utf-8")
    (folder / "gone.yaml").write_text(manifest_text(deployment("dep_c", 1)), encoding="utf-8")
    (folder / "prod.yaml").write_text(
        manifest_text(deployment("dep_a", 2), deployment("dep_b", 2)), encoding="utf-8"
    )
    git(nested, "add", ".")
    git(nested, "commit", "-q", "-m", "split")
    # the change: other.yaml moves into a subfolder under a new name, gone.yaml is deleted
    (folder / "team").mkdir()
    git(nested, "mv", "infra/manifests/other.yaml", "infra/manifests/team/renamed.yml")
    git(nested, "rm", "-q", "infra/manifests/gone.yaml")
    monkeypatch.chdir(nested)
    result = run_check("infra/manifests", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["deployments"] == []  # dep_d moved: its declaration did not change
    assert report["changed_since"]["unchanged"] == 3
    assert [(r["deployment_id"], r["live_status"]) for r in report["removed"]] == [
        ("dep_c", "READY")
    ]
    assert live.requests_for("mi_1", "dep_d") == []


def test_a_manifest_path_outside_the_repository_of_the_first(
    nested: Path, run_check: Any, tmp_path: Path, live: Emulator
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.yaml").write_text(manifest_text(deployment("dep_z", 1)), encoding="utf-8")
    folder = str(nested / "infra" / "manifests")
    result = run_check(folder, str(plain / "m.yaml"), "--changed-since", "v1")
    assert result.code == 1
    assert result.stderr.count("\n") == 1 and "outside the git work tree" in result.stderr
    assert live.requests == []


def test_not_a_repository_wherever_it_runs_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live: Emulator, run_check: Any
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.yaml").write_text(AFTER, encoding="utf-8")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    # the working directory is a repository, the manifests' folder is not
    repo = tmp_path / "cwd"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    result = run_check(str(plain / "m.yaml"), "--changed-since", "HEAD")
    assert result.code == 1
    assert result.stderr.count("\n") == 1 and "needs a git work tree" in result.stderr
    assert live.requests == []


@pytest.mark.parametrize("commit", [False, True])
def test_a_renamed_manifest_given_as_a_file_keeps_its_history(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch, commit: bool
) -> None:
    # the PR renames prod.yaml and changes it; the reviewer's job names the new file
    git(nested, "mv", "infra/manifests/prod.yaml", "infra/manifests/production.yaml")
    if commit:
        git(nested, "commit", "-q", "-am", "rename and change")
    monkeypatch.chdir(nested)
    path = "infra/manifests/production.yaml"
    report = checked(run_check(path, "--changed-since", "v1", "--format", "json"))
    assert origins(report) == EXPECTED  # not every deployment "new in this change"
    assert report["changed_since"]["unchanged"] == 1
    assert [r["deployment_id"] for r in report["removed"]] == ["dep_c"]


def test_a_renamed_and_changed_file_in_a_folder(
    nested: Path, live: Emulator, run_check: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nested / "infra" / "manifests" / "team").mkdir()
    git(nested, "mv", "infra/manifests/prod.yaml", "infra/manifests/team/prod.yml")
    monkeypatch.chdir(nested)
    report = checked(run_check("infra/manifests", "--changed-since", "v1", "--format", "json"))
    assert origins(report) == EXPECTED
