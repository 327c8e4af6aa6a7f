"""Every format from one run of the real CLI, read the way its consumer reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from junitparser import Error, Failure, JUnitXml

from tests.emulator import Emulator, Reply, launch_config, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_ok
    name: ok
    vendor_configuration: {vendor: LAUNCH}
  - model_instance_id: mi_1
    deployment_id: dep_drift
    name: drifty
    vendor_configuration:
      vendor: LAUNCH
      max_workers: 4
  - model_instance_id: mi_1
    deployment_id: dep_gone
    name: gone
  - model_instance_id: mi_1
    deployment_id: dep_err
    name: broken
"""


def populate(emulator: Emulator) -> None:
    emulator.put(make_deployment("mi_1", "dep_ok", name="ok", vendor_configuration=launch_config()))
    emulator.put(
        make_deployment("mi_1", "dep_drift", name="drifty", vendor_configuration=launch_config())
    )
    emulator.put(make_deployment("mi_1", "dep_err"))
    emulator.script("mi_1", "dep_err", *[Reply(status=503)] * 4)


def test_junit_is_read_correctly_by_junitparser(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    out = tmp_path / "drift.xml"
    result = run_check(manifest(MANIFEST), "--report", f"junit={out}")
    assert result.code == 1
    xml = JUnitXml.fromfile(str(out))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors) == (4, 2, 1)
    outcomes = {case.name: [type(r).__name__ for r in case.result] for case in suite}
    assert outcomes == {
        "ok (mi_1/dep_ok)": [],
        "drifty (mi_1/dep_drift)": [Failure.__name__],
        "gone (mi_1/dep_gone)": [Failure.__name__],
        "broken (mi_1/dep_err)": [Error.__name__],
    }
    drifted = next(case for case in suite if case.name.startswith("drifty"))
    assert "vendor_configuration.max_workers: 4 -> 1" in drifted.result[0].text


def test_github_annotations_point_at_manifest_lines(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    path = manifest(MANIFEST)
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    result = run_check(path, "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    lines = result.stdout.splitlines()
    assert (
        f"::error file={path},line=12,title=drift%3A drifty (mi_1/dep_drift)::"
        "vendor_configuration.max_workers: 4 -> 1 (desired -> live)"
    ) in lines
    assert (
        f"::error file={path},line=13,title=missing%3A gone (mi_1/dep_gone)::"
        "not found on the API" in lines
    )
    assert any(
        line.startswith(f"::error file={path},line=16,title=error%3A broken") for line in lines
    )
    text = summary.read_text()
    assert text.startswith("previous step\n### driftcheck: errors")


def test_markdown_comment(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    populate(emulator)
    result = run_check(manifest(MANIFEST), "--format", "markdown")
    assert result.stdout.startswith("### driftcheck: errors")
    assert "| drifty (mi\\_1/dep\\_drift) | drifted | 1 difference |" in result.stdout
    assert "<details><summary>" in result.stdout
    assert "| `vendor_configuration.max_workers` | `4` | `1` |" in result.stdout


def test_verbose_text_lists_in_sync(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    populate(emulator)
    result = run_check(manifest(MANIFEST), "-v")
    assert result.stdout.splitlines()[0] == "  ok (mi_1/dep_ok) in sync"
