"""Nightly audits that remember (--baseline, --fail-on new), .driftignore and the patch preview."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulator import Emulator, launch_config, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_a
    vendor_configuration: {vendor: LAUNCH, max_workers: 4}
  - model_instance_id: mi_1
    deployment_id: dep_b
    vendor_configuration: {vendor: LAUNCH, per_worker: 10}
  - model_instance_id: mi_1
    deployment_id: dep_c
"""


def state(emulator: Emulator, a: int, b: int, c: bool) -> None:
    emulator.put(
        make_deployment("mi_1", "dep_a", vendor_configuration=launch_config(max_workers=a))
    )
    emulator.put(make_deployment("mi_1", "dep_b", vendor_configuration=launch_config(per_worker=b)))
    if c:
        emulator.put(make_deployment("mi_1", "dep_c"))
    else:
        emulator.remove("mi_1", "dep_c")


def nightly(run_check: Any, path: str, tmp: Path, night: int, *extra: str) -> tuple[Any, Any]:
    report = tmp / f"night{night}.json"
    args = [path, "--report", f"json={report}", *extra]
    if night > 1:
        args += ["--baseline", str(tmp / f"night{night - 1}.json")]
    result = run_check(*args)
    return result, json.loads(report.read_text())


def test_three_nights_new_persisting_resolved(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10, c=False)  # night 1: dep_a drifted, dep_c missing
    first, report1 = nightly(run_check, path, tmp_path, 1)
    assert first.code == 2
    assert "state" not in report1["deployments"][0]["differences"][0]  # no baseline, no marks
    started1 = report1["started_at"]

    state(emulator, a=2, b=20, c=False)  # night 2: dep_b newly drifted too
    second, report2 = nightly(run_check, path, tmp_path, 2)
    a_diff = report2["deployments"][0]["differences"][0]
    b_diff = report2["deployments"][1]["differences"][0]
    assert (a_diff["state"], a_diff["first_seen"]) == ("persisting", started1)
    assert (b_diff["state"], b_diff["first_seen"]) == ("new", report2["started_at"])
    assert report2["deployments"][2]["state"] == "persisting"  # still missing
    assert report2["resolved"] == []
    assert "New since the baseline:" in second.stdout and "Persisting:" in second.stdout

    state(emulator, a=4, b=20, c=True)  # night 3: dep_a and dep_c fixed
    third, report3 = nightly(run_check, path, tmp_path, 3)
    b_diff = report3["deployments"][1]["differences"][0]
    assert (b_diff["state"], b_diff["first_seen"]) == ("persisting", report2["started_at"])
    resolved = {(r["type"], r["deployment_id"], r.get("path")) for r in report3["resolved"]}
    assert resolved == {
        ("difference", "dep_a", "vendor_configuration.max_workers"),
        ("missing", "dep_c", None),
    }
    assert report3["baseline"]["counts"]["resolved"] == 2
    assert "Resolved since the baseline:" in third.stdout
    assert third.code == 2


def test_fail_on_new_passes_known_drift_only(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10, c=True)
    nightly(run_check, path, tmp_path, 1)
    same, _ = nightly(run_check, path, tmp_path, 2, "--fail-on", "new")
    assert same.code == 0  # the drift is known
    state(emulator, a=2, b=30, c=True)
    worse, report = nightly(run_check, path, tmp_path, 3, "--fail-on", "new")
    assert worse.code == 2
    assert report["exit_code"] == 2


def test_fail_on_new_never_hides_errors(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    from tests.emulator import Reply

    path = manifest(MANIFEST)
    state(emulator, a=2, b=10, c=True)
    nightly(run_check, path, tmp_path, 1)
    emulator.script("mi_1", "dep_b", *[Reply(status=500)] * 4)
    result, report = nightly(run_check, path, tmp_path, 2, "--fail-on", "new")
    assert result.code == 1
    # the unchecked deployment's old drift is not claimed resolved
    assert report["resolved"] == []


def test_corrupt_or_foreign_baseline_is_exit_1_before_any_request(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    bad = tmp_path / "bad.json"
    for text, fragment in [
        ("{not json", "is not valid JSON"),
        ('{"report_version": 2, "deployments": []}', "report_version 2 is not supported"),
        ('{"snapshot_version": 1, "deployments": []}', "looks like a snapshot"),
    ]:
        bad.write_text(text)
        result = run_check(path, "--baseline", str(bad))
        assert result.code == 1
        assert fragment in result.stderr
    missing = run_check(path, "--baseline", str(tmp_path / "nope.json"))
    assert missing.code == 1 and "cannot read baseline" in missing.stderr
    assert emulator.requests == []


def test_driftignore_with_negation(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    state(emulator, a=2, b=20, c=True)
    path = manifest(MANIFEST)
    (tmp_path / ".driftignore").write_text(
        "# known drift, owned by the platform team\n"
        "*/* vendor_configuration\n"
        "!mi_1/dep_b vendor_configuration.per_worker\n"
    )
    result = run_check(path, "--format", "json")  # default: .driftignore beside the manifest
    data = json.loads(result.stdout)
    assert [d["status"] for d in data["deployments"]] == ["in_sync", "drifted", "in_sync"]
    assert result.code == 2
    explicit = tmp_path / "other.ignore"
    explicit.write_text("mi_1/* vendor_configuration.*\n")
    assert run_check(path, "--ignore-file", str(explicit)).code == 0


def test_malformed_driftignore_names_file_and_line(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    ignore = tmp_path / ".driftignore"
    ignore.write_text("*/* vendor_configuration\nonly-a-selector\n")
    result = run_check(path)
    assert result.code == 1
    assert f"{ignore}:2:" in result.stderr
    assert emulator.requests == []


def test_patch_preview(emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path) -> None:
    state(emulator, a=2, b=20, c=True)
    path = manifest(MANIFEST)
    out = tmp_path / "fix.patch"
    result = run_check(path, "--format", "patch", "--report", f"patch={out}")
    assert result.code == 2
    assert out.read_text() == result.stdout
    blocks = result.stdout.split("\nPATCH ")[1:]
    assert blocks[0].splitlines()[0] == "/v4/models/mi_1/deployments/dep_a"
    body = json.loads("\n".join(blocks[0].splitlines()[1:]).split("\n\n")[0])
    assert body == {"vendor_configuration": {"vendor": "LAUNCH", "max_workers": 4}}
    assert "never sends" in result.stdout
    assert emulator.requests and all(r.method == "GET" for r in emulator.requests)


def test_completion_scripts() -> None:
    from tests.acceptance.conftest import invoke

    for shell, marker in [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete ")]:
        result = invoke(["completion", shell])
        assert result.code == 0
        assert "_DRIFTCHECK_COMPLETE" in result.stdout and marker in result.stdout
