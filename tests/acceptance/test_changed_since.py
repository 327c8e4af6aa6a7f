"""check --changed-since REF in a real temporary git repository, against the emulator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator, launch_config, make_deployment


def deployment(dep: str, max_workers: int, min_workers: int | None = None) -> str:
    extra = f"\n      min_workers: {min_workers}" if min_workers is not None else ""
    return f"""\
  - model_instance_id: mi_1
    deployment_id: {dep}
    name: {dep}-name
    vendor_configuration:
      vendor: LAUNCH
      max_workers: {max_workers}{extra}
"""


def manifest_text(*deployments: str) -> str:
    return "version: 1\ndeployments:\n" + "".join(deployments)


BEFORE = manifest_text(
    deployment("dep_a", 2),  # live has 3: already drifted before the change
    deployment("dep_b", 2),  # live has 2: in sync before the change
    deployment("dep_c", 1),  # removed by the change; live still READY
    deployment("dep_d", 1),  # unchanged, drifted live: not checked
)
AFTER = manifest_text(
    deployment("dep_a", 4, min_workers=1),
    deployment("dep_b", 5),
    deployment("dep_d", 1),
    deployment("dep_e", 1),  # added; not live yet
)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "manifests" / "prod.yaml").write_text(BEFORE, encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before")
    (root / "manifests" / "prod.yaml").write_text(AFTER, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def live(emulator: Emulator) -> Emulator:
    for dep, workers in (("dep_a", 3), ("dep_b", 2), ("dep_c", 1), ("dep_d", 7)):
        config = launch_config(max_workers=workers)
        emulator.put(make_deployment("mi_1", dep, name=f"{dep}-name", vendor_configuration=config))
    return emulator


def test_origins_removed_and_only_changed_deployments(
    repo: Path, live: Emulator, run_check: Any
) -> None:
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 2, result.stderr
    report = json.loads(result.stdout)
    by_id = {d["deployment_id"]: d for d in report["deployments"]}
    assert sorted(by_id) == ["dep_a", "dep_b", "dep_e"]  # dep_d did not change
    assert live.requests_for("mi_1", "dep_d") == []
    origins = {d["path"]: d["origin"] for d in by_id["dep_a"]["differences"]}
    assert origins == {
        "vendor_configuration.max_workers": "pre_existing",
        "vendor_configuration.min_workers": "this_change",
    }
    assert [(d["path"], d["origin"]) for d in by_id["dep_b"]["differences"]] == [
        ("vendor_configuration.max_workers", "this_change")
    ]
    assert by_id["dep_e"]["status"] == "missing"
    assert by_id["dep_e"]["origin"] == "this_change"
    assert report["removed"] == [
        {
            "model_instance_id": "mi_1",
            "deployment_id": "dep_c",
            "name": "dep_c-name",
            "live_status": "READY",
            "found": True,
            "error": None,
        }
    ]
    assert report["changed_since"] == {"ref": "HEAD", "unchanged": 1, "all": False}
    # judging REF's declaration replays the observed bodies: one GET per checked deployment
    assert len(live.requests_for("mi_1", "dep_a")) == 1


def test_all_checks_every_deployment(repo: Path, live: Emulator, run_check: Any) -> None:
    result = run_check("manifests", "--changed-since", "HEAD", "--all", "--format", "json")
    report = json.loads(result.stdout)
    by_id = {d["deployment_id"]: d for d in report["deployments"]}
    assert sorted(by_id) == ["dep_a", "dep_b", "dep_d", "dep_e"]
    assert [d["origin"] for d in by_id["dep_d"]["differences"]] == ["pre_existing"]


def test_markdown_leads_with_this_change(repo: Path, live: Emulator, run_check: Any) -> None:
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "markdown")
    text = result.stdout
    assert "This change will" in text and "Already drifted" in text
    assert text.index("This change will") < text.index("Already drifted")
    will = text[text.index("This change will") : text.index("Already drifted")]
    already = text[text.index("Already drifted") :].split("####")[0]
    assert "`vendor_configuration.min_workers`" in will
    assert "set `vendor_configuration.max_workers` to `5`" in will  # dep_b
    assert "create dep\\_e-name" in will
    assert "stop declaring dep\\_c-name (mi\\_1/dep\\_c) (live status READY)" in will
    assert "`vendor_configuration.max_workers`: desired `4`, live `3`" in already
    assert "`vendor_configuration.max_workers` to `4`" not in will  # dep_a's was there before
    assert "1 deployment whose declaration did not change" in text


def test_a_committed_change_against_an_older_ref(
    repo: Path, live: Emulator, run_check: Any
) -> None:
    git(repo, "commit", "-q", "-am", "after")
    result = run_check("manifests", "--changed-since", "HEAD~1", "--format", "json")
    report = json.loads(result.stdout)
    assert sorted(d["deployment_id"] for d in report["deployments"]) == ["dep_a", "dep_b", "dep_e"]
    # and against itself nothing changed: nothing is checked, no request is made
    live.clear_requests()
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "json")
    assert result.code == 0
    assert json.loads(result.stdout)["deployments"] == []
    assert live.requests == []


def test_a_manifest_new_since_ref(repo: Path, live: Emulator, run_check: Any) -> None:
    (repo / "manifests" / "extra.yaml").write_text(
        manifest_text(deployment("dep_x", 1)), encoding="utf-8"
    )
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "json")
    ids = [d["deployment_id"] for d in json.loads(result.stdout)["deployments"]]
    assert "dep_x" in ids


def test_a_type_change_is_a_change(repo: Path, live: Emulator, run_check: Any) -> None:
    (repo / "manifests" / "prod.yaml").write_text(
        BEFORE.replace("max_workers: 2\n", "max_workers: 2.0\n", 1), encoding="utf-8"
    )
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "json")
    report = json.loads(result.stdout)
    assert [d["deployment_id"] for d in report["deployments"]] == ["dep_a"]


def test_unknown_ref_is_a_usage_error(repo: Path, live: Emulator, run_check: Any) -> None:
    result = run_check("manifests", "--changed-since", "no-such-branch")
    assert result.code == 1
    assert result.stderr.count("\n") == 1
    assert "unknown git revision" in result.stderr and "no-such-branch" in result.stderr
    assert live.requests == []


def test_an_option_like_ref_is_refused(repo: Path, run_check: Any) -> None:
    result = run_check("manifests", "--changed-since=--output=x")
    assert result.code == 1
    assert "not a git revision" in result.stderr
    assert not (repo / "x").exists()


def test_outside_a_git_work_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live: Emulator, run_check: Any
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.yaml").write_text(AFTER, encoding="utf-8")
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = run_check("m.yaml", "--changed-since", "main")
    assert result.code == 1
    assert result.stderr.count("\n") == 1
    assert "needs a git work tree" in result.stderr
    assert live.requests == []


def test_invalid_manifests_at_ref(repo: Path, live: Emulator, run_check: Any) -> None:
    (repo / "manifests" / "prod.yaml").write_text("version: 1\ndeployments: 3\n")
    git(repo, "commit", "-q", "-am", "broken")
    (repo / "manifests" / "prod.yaml").write_text(AFTER, encoding="utf-8")
    result = run_check("manifests", "--changed-since", "HEAD")
    assert result.code == 1
    assert "HEAD:manifests/prod.yaml:2" in result.stderr


def test_all_needs_changed_since(repo: Path, run_check: Any) -> None:
    result = run_check("manifests", "--all")
    assert result.code == 1
    assert "--changed-since" in result.stderr


def test_removed_deployments_not_found_or_failing(
    repo: Path, emulator: Emulator, run_check: Any
) -> None:
    from tests.emulator import Reply

    for dep in ("dep_a", "dep_b"):
        emulator.put(make_deployment("mi_1", dep, vendor_configuration=launch_config()))
    (repo / "manifests" / "prod.yaml").write_text(
        manifest_text(deployment("dep_a", 2), deployment("dep_b", 2)), encoding="utf-8"
    )
    git(repo, "commit", "-q", "-am", "two")
    (repo / "manifests" / "prod.yaml").write_text(
        manifest_text(deployment("dep_d", 1)), encoding="utf-8"
    )
    emulator.remove("mi_1", "dep_a")
    emulator.script("mi_1", "dep_b", *[Reply(status=503)] * 10)
    result = run_check("manifests", "--changed-since", "HEAD", "--retries", "0", "--format", "json")
    removed = {r["deployment_id"]: r for r in json.loads(result.stdout)["removed"]}
    assert removed["dep_a"]["found"] is False and removed["dep_a"]["live_status"] is None
    assert removed["dep_b"]["live_status"] is None
    assert removed["dep_b"]["error"]["http_status"] == 503
    # dep_d is missing live: that decides the exit code, the removed ones do not
    assert result.code == 2


def test_wait_and_changed_since_together(repo: Path, live: Emulator, run_check: Any) -> None:
    ready = make_deployment(
        "mi_1", "dep_b", name="dep_b-name", vendor_configuration=launch_config(max_workers=5)
    )
    live.rollout("mi_1", "dep_b", live.get("mi_1", "dep_b") or {}, ready)
    result = run_check("manifests", "--changed-since", "HEAD", "--wait", "1m", "--format", "json")
    report = json.loads(result.stdout)
    by_id = {d["deployment_id"]: d for d in report["deployments"]}
    assert by_id["dep_b"]["status"] == "in_sync" and by_id["dep_b"]["checks"] == 2
    # dep_a never settles: its origins are marked on the last observation
    assert {d["origin"] for d in by_id["dep_a"]["differences"]} == {"this_change", "pre_existing"}
    assert report["waited_s"] == pytest.approx(60, abs=0.1)


def test_unmanaged_with_changed_since_needs_all(repo: Path, run_check: Any) -> None:
    result = run_check("manifests", "--changed-since", "HEAD", "--unmanaged")
    assert result.code == 1
    assert "--unmanaged with --changed-since needs --all" in result.stderr


def test_text_report_names_origins_and_removed(repo: Path, live: Emulator, run_check: Any) -> None:
    lines = run_check("manifests", "--changed-since", "HEAD").stdout.splitlines()
    assert "    ~ vendor_configuration.max_workers: 4 -> 3 (already drifted)" in lines
    assert "    ~ vendor_configuration.min_workers: 1 -> 0 (this change)" in lines
    assert "+ dep_e-name (mi_1/dep_e) missing: not found on the API (this change)" in lines
    assert "- dep_c-name (mi_1/dep_c) removed by this change: live status READY" in lines


def test_sarif_carries_the_origin(repo: Path, live: Emulator, run_check: Any) -> None:
    from tests.unit.test_sarif import validate

    result = run_check("manifests", "--changed-since", "HEAD", "--format", "sarif")
    found = validate(result.stdout)["runs"][0]["results"]
    origins = sorted(r["properties"]["origin"] for r in found)
    assert origins == ["pre_existing", "this_change", "this_change", "this_change"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in found}
    assert uris == {"manifests/prod.yaml"}
