"""--format sarif / --report sarif=PATH end to end, in a real git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator, launch_config, make_deployment
from tests.unit.test_sarif import validate

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    name: llama
    vendor_configuration:
      vendor: LAUNCH
      max_workers: 4
  - model_instance_id: mi_1
    deployment_id: dep_2
    name: gone
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "deploy" / "manifests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "deploy" / "manifests" / "prod.yaml").write_text(MANIFEST, encoding="utf-8")
    monkeypatch.chdir(root / "deploy")
    return root


def findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in report["runs"][0]["results"]}


def test_sarif_report_file_is_valid_and_located(
    repo: Path, emulator: Emulator, run_check: Any
) -> None:
    emulator.put(
        make_deployment("mi_1", "dep_1", name="llama", vendor_configuration=launch_config())
    )
    result = run_check("manifests", "--report", "sarif=drift.sarif")
    assert result.code == 2
    report = validate((repo / "deploy" / "drift.sarif").read_text(encoding="utf-8"))
    found = findings(report)
    assert len(report["runs"][0]["results"]) == 2
    assert set(found) == {"drift/changed", "deployment/missing"}
    location = found["drift/changed"]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "deploy/manifests/prod.yaml"},
        "region": {"startLine": 8},
    }
    assert report["runs"][0]["invocations"][0]["exitCode"] == 2


def test_fingerprints_survive_lines_moving_and_baseline_states(
    repo: Path, emulator: Emulator, run_check: Any
) -> None:
    emulator.put(
        make_deployment("mi_1", "dep_1", name="llama", vendor_configuration=launch_config())
    )
    first = run_check("manifests", "--format", "sarif", "--report", "json=base.json")
    before = findings(validate(first.stdout))

    manifest = repo / "deploy" / "manifests" / "prod.yaml"
    manifest.write_text("# moved down\n# by two lines\n" + MANIFEST, encoding="utf-8")
    emulator.put(make_deployment("mi_1", "dep_2", name="gone"))  # the missing one now exists
    second = run_check("manifests", "--format", "sarif", "--baseline", "base.json")
    after = findings(validate(second.stdout))

    changed_before, changed_after = before["drift/changed"], after["drift/changed"]
    assert changed_before["partialFingerprints"] == changed_after["partialFingerprints"]
    line = changed_after["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert line == changed_before["locations"][0]["physicalLocation"]["region"]["startLine"] + 2
    assert changed_after["baselineState"] == "unchanged"
    resolved = after["deployment/missing"]
    assert resolved["baselineState"] == "absent"
    assert resolved["partialFingerprints"] == before["deployment/missing"]["partialFingerprints"]


def test_sarif_on_stdout_has_no_extra_output(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(
        make_deployment(
            "mi_1", "dep_1", name="llama", vendor_configuration=launch_config(max_workers=4)
        )
    )
    emulator.put(make_deployment("mi_1", "dep_2", name="gone"))
    result = run_check(manifest(MANIFEST), "--format", "sarif")
    assert result.code == 0
    assert json.loads(result.stdout)["runs"][0]["results"] == []
