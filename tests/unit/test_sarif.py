"""SARIF reporter: valid against the official 2.1.0 schema, stable fingerprints, baselines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from driftcheck.baseline import Baseline, mark
from driftcheck.reporters import sarif
from driftcheck.result import (
    BaselineEntry,
    DeploymentResult,
    DiffKind,
    EntryKey,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
    UnmanagedDeployment,
)
from tests.unit.test_reporters import GOLDEN_DIR, KINDS, LLAMA, MIXED, diff, run

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "sarif-schema-2.1.0.json").read_text()
)


def validate(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    errors = sorted(jsonschema.Draft4Validator(SCHEMA).iter_errors(document), key=str)
    assert errors == [], [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    return document


def results(result: RunResult) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = validate(sarif.render(result))["runs"][0]["results"]
    return found


@pytest.mark.parametrize("golden", sorted(GOLDEN_DIR.glob("*.sarif")), ids=lambda p: p.name)
def test_golden_files_are_valid_sarif(golden: Path) -> None:
    validate(golden.read_text(encoding="utf-8"))


def test_the_validator_does_reject_a_broken_log() -> None:
    document = json.loads(sarif.render(MIXED))
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError):
        validate(json.dumps(document))


def test_one_result_per_finding_with_rule_and_location() -> None:
    unmanaged = UnmanagedDeployment("mi_7", "dep_7", "stray", None, None)
    found = results(dataclasses.replace(KINDS, unmanaged=(unmanaged,)))
    rules = [r["ruleId"] for r in found]
    assert rules.count("drift/changed") >= 1
    assert "drift/missing-live" in rules and "drift/extra-live" in rules
    assert rules[-1] == "deployment/unmanaged"
    for item in found:
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].startswith("manifests/")
        assert location["region"]["startLine"] >= 1
    assert len(found) == sum(len(d.differences) for d in KINDS.deployments) + 1


def test_missing_and_error_deployments() -> None:
    found = results(MIXED)
    by_rule = {r["ruleId"]: r for r in found}
    assert by_rule["deployment/missing"]["level"] == "warning"
    assert by_rule["deployment/error"]["level"] == "error"
    assert "mistral-canary" in by_rule["deployment/missing"]["message"]["text"]
    assert by_rule["deployment/missing"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 20
    }


def test_fingerprints_survive_line_moves_and_tell_findings_apart() -> None:
    moved = dataclasses.replace(
        LLAMA,
        location=SourceLocation(LLAMA.location.file, LLAMA.location.line + 40),
        differences=tuple(dataclasses.replace(d, line=d.line + 40) for d in LLAMA.differences),
    )
    before, after = results(run(LLAMA)), results(run(moved))
    assert [r["partialFingerprints"] for r in before] == [r["partialFingerprints"] for r in after]
    assert [r["locations"] for r in before] != [r["locations"] for r in after]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT] for r in before]
    assert len(set(prints)) == len(prints) == len(LLAMA.differences)
    other = dataclasses.replace(LLAMA, deployment_id="dep_other")
    assert not set(prints) & {
        r["partialFingerprints"][sarif.FINGERPRINT] for r in results(run(other))
    }


def test_baseline_states_new_unchanged_absent() -> None:
    location = SourceLocation("manifests/prod.yaml", 5)
    now = DeploymentResult(
        "mi_1",
        "dep_1",
        "llama",
        location,
        Status.DRIFTED,
        differences=(
            diff("vendor_configuration.max_workers", 4, 2, 9),
            diff("status", "READY", "FAILED", 7),
        ),
    )
    gone = EntryKey.difference("mi_1", "dep_1", "vendor_configuration.gpus", DiffKind.CHANGED)
    kept = EntryKey.difference("mi_1", "dep_1", "status", DiffKind.CHANGED)
    baseline = Baseline(
        "prev.json",
        "2026-11-26T04:00:00Z",
        {
            gone: BaselineEntry(gone, "2026-11-20T04:00:00Z", "llama", desired=1, live=2),
            kept: BaselineEntry(kept, "2026-11-20T04:00:00Z", "llama"),
        },
    )
    result = run(now)
    marks = mark(result.deployments, None, baseline, "2026-11-27T04:00:00Z")
    result = dataclasses.replace(result, marks=marks)
    found = results(result)
    states = {r["message"]["text"].split(": ")[-1][:40]: r["baselineState"] for r in found}
    assert sorted(states.values()) == ["absent", "new", "unchanged"]
    absent = next(r for r in found if r["baselineState"] == "absent")
    assert absent["ruleId"] == "drift/changed"
    assert absent["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    # the resolved finding keeps the fingerprint it had while present
    was = DeploymentResult(
        "mi_1",
        "dep_1",
        "llama",
        location,
        Status.DRIFTED,
        differences=(diff("vendor_configuration.gpus", 1, 2, 11),),
    )
    assert absent["partialFingerprints"] == results(run(was))[0]["partialFingerprints"]


def test_without_baseline_no_baseline_state() -> None:
    assert all("baselineState" not in r for r in results(MIXED))


def test_error_fingerprint_depends_on_its_kind() -> None:
    def failing(kind: ErrorKind) -> RunResult:
        error = ErrorInfo(kind, "boom", 503)
        location = SourceLocation("manifests/prod.yaml", 3)
        return run(DeploymentResult("mi", "dep", None, location, Status.ERROR, error=error))

    one = results(failing(ErrorKind.HTTP))[0]["partialFingerprints"]
    two = results(failing(ErrorKind.TIMEOUT))[0]["partialFingerprints"]
    assert one != two


def test_locations_are_relative_to_the_git_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "deploy" / "manifests").mkdir(parents=True)
    monkeypatch.chdir(repo / "deploy")
    deployment = dataclasses.replace(LLAMA, location=SourceLocation("manifests/a b.yaml", 3))
    uri = results(run(deployment))[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "deploy/manifests/a%20b.yaml"}


def test_outside_git_locations_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sarif, "_repository_root", lambda directory: None)
    monkeypatch.chdir(tmp_path)
    deployment = dataclasses.replace(LLAMA, location=SourceLocation(str(tmp_path / "m.yaml"), 3))
    uri = results(run(deployment))[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "m.yaml"}
