"""The published JSON Schemas: valid draft 2020-12, accepting every JSON driftcheck writes
(golden reports, the bundled snapshot, wave-2's additive keys) and rejecting broken documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftcheck.cli import cli
from driftcheck.schemas import KINDS, load
from tests.schemas import OutputWatch, assert_valid_report, assert_valid_snapshot, problems

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*.json"))


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _mixed() -> dict[str, Any]:
    document = _json(ROOT / "tests" / "golden" / "mixed.json")
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("kind", KINDS)
def test_schema_command_prints_the_shipped_schema(kind: str) -> None:
    result = CliRunner().invoke(cli, ["schema", "--kind", kind], catch_exceptions=False)
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == load(kind)  # type: ignore[arg-type]
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_defaults_to_the_manifest() -> None:
    runner = CliRunner()
    default = runner.invoke(cli, ["schema"], catch_exceptions=False).stdout
    assert default == runner.invoke(cli, ["schema", "--kind", "manifest"]).stdout
    assert json.loads(default)["title"] == "driftcheck manifest v1"


def test_an_unknown_kind_is_a_usage_error_exit_1() -> None:
    result = CliRunner().invoke(cli, ["schema", "--kind", "baseline"])
    assert result.exit_code == 1
    assert "'baseline' is not one of" in result.stderr


def test_golden_files_exist() -> None:
    assert len(GOLDEN) >= 5


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_every_golden_json_report_is_valid(path: Path) -> None:
    assert_valid_report(_json(path), path.name)


def test_the_bundled_snapshot_is_valid() -> None:
    assert_valid_snapshot(_json(ROOT / "manifests" / "example.snapshot.json"))


def test_wave_2_keys_are_accepted() -> None:
    report = _mixed()
    report["waited_s"] = 12.5
    report["removed"] = [
        {
            "model_instance_id": "mi",
            "deployment_id": "d",
            "name": None,
            "live_status": None,
            "found": False,
            "error": None,
        }
    ]
    report["changed_since"] = {"ref": "origin/main", "unchanged": 3, "all": False}
    report["ignores"] = [
        {
            "pattern": "deployment_metadata.last_rollout",
            "file": "manifests/prod.yaml",
            "line": 3,
            "reason": "rolls weekly",
            "owner": "@ml-platform",
            "until": "2026-12-31",
            "status": "expiring",
            "silenced": 2,
        },
        {
            "pattern": "status",
            "file": None,
            "line": None,
            "reason": None,
            "owner": None,
            "until": None,
            "status": "unused",
            "silenced": 0,
        },
    ]
    report["summary"].update(unmanaged=1, coverage=75.0, live_total=4)
    report["unmanaged"] = []
    report["listing_error"] = {"kind": "http", "message": "listing omits mi/d", "http_status": None}
    deployment = report["deployments"][0]
    deployment.update(environment="prod", checks=3, origin="pre_existing")
    deployment["differences"][0].update(
        segments=["deployment_metadata", "k.dot", 0],
        file="manifests/envs.yaml",
        origin="this_change",
        desired={"sensitive": True},
        live={"sensitive": True},
        note="ignore expired 2026-11-01 (manifests/prod.yaml:3)",
    )
    assert_valid_report(report)


def test_wave_2_snapshot_keys_are_accepted() -> None:
    snapshot = _json(ROOT / "manifests" / "example.snapshot.json")
    snapshot["environment"] = "staging"
    snapshot["sensitive_salt"] = "ab" * 32
    snapshot["deployments"][0]["body"]["deployment_metadata"]["hf_token"] = {"sha256": "cd" * 32}
    snapshot["all"] = True
    assert_valid_snapshot(snapshot)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("summary"), "(top)"),
        (lambda r: r.update(report_version=2), "report_version"),
        (lambda r: r.update(exit_code=3), "exit_code"),
        (lambda r: r.update(started_at="27/11/2026"), "started_at"),
        (lambda r: r["deployments"][0].update(status="unknown"), "deployments/0/status"),
        (lambda r: r["deployments"][0]["differences"][0].update(kind="x"), "differences/0/kind"),
        (lambda r: r["deployments"][0]["differences"][0].pop("line"), "differences/0"),
        (lambda r: r["deployments"][0]["differences"][0].update(origin="x"), "origin"),
        (lambda r: r.update(changed_since={"ref": "HEAD"}), "changed_since"),
        (lambda r: r["deployments"][0].update(environment="Prod"), "environment"),
        (lambda r: r.update(waited_s=-1), "waited_s"),
        (lambda r: r["summary"].update(total=-1), "summary/total"),
    ],
)
def test_broken_reports_are_rejected(change: Any, where: str) -> None:
    report = copy.deepcopy(_mixed())
    assert report["deployments"][0]["differences"], "the fixture needs a difference"
    change(report)
    found = problems("report", report)
    assert found and any(where in line for line in found), found


def test_an_error_object_is_exactly_kind_message_status() -> None:
    report = _mixed()
    errored = next(d for d in report["deployments"] if d["error"] is not None)
    errored["error"]["attempts"] = 3
    assert problems("report", report)


def test_broken_snapshots_are_rejected() -> None:
    snapshot = _json(ROOT / "manifests" / "example.snapshot.json")
    snapshot["deployments"][0]["http_status"] = 42
    snapshot["sensitive_salt"] = "not hex"
    found = problems("snapshot", snapshot)
    assert any("http_status" in line for line in found)
    assert any("sensitive_salt" in line for line in found)


def test_output_watch_checks_only_what_a_run_changed(tmp_path: Path) -> None:
    kept = tmp_path / "old.json"
    kept.write_text("not json, and the run did not touch it", encoding="utf-8")
    written = tmp_path / "new.json"
    watch = OutputWatch(["check", "m.yaml", "--report", f"json={kept}", f"--report=json={written}"])
    written.write_text('{"report_version": 1}', encoding="utf-8")
    with pytest.raises(AssertionError, match="does not match the report schema"):
        watch.check("")
    written.write_text(json.dumps(_mixed()), encoding="utf-8")
    watch.check("")  # the old file is left alone, the new one is valid


def test_output_watch_reads_stdout_of_a_json_run_and_a_snapshot() -> None:
    with pytest.raises(AssertionError, match="report schema"):
        OutputWatch(["check", "--format", "json"]).check('{"deployments": []}')
    with pytest.raises(AssertionError, match="snapshot schema"):
        OutputWatch(["snapshot", "-o", "-"]).check('{"snapshot_version": 1}')
    OutputWatch(["snapshot", "--as-manifest", "-o", "-"]).check("version: 1\n")


def test_output_watch_checks_the_reports_a_run_adds_to_history(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / "notes.json").write_text("kept as it was: not checked", encoding="utf-8")
    watch = OutputWatch(["check", "m.yaml", "--history", str(history)])
    (history / "2026-11-27T04-00-00Z.json").write_text('{"report_version": 1}', encoding="utf-8")
    with pytest.raises(AssertionError, match=r"2026-11-27T04-00-00Z\.json"):
        watch.check("")
    (history / "2026-11-27T04-00-00Z.json").write_text(json.dumps(_mixed()), encoding="utf-8")
    watch.check("")
