"""check --wait against the emulator: rollouts advance per request, the clock is fake."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.acceptance.conftest import FakeClock
from tests.emulator import Emulator, Reply, llmengine_config, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    name: llama
    status: READY
    vendor_configuration:
      vendor: LLMENGINE
      max_workers: 4
"""


def body(status: str, max_workers: int) -> dict[str, Any]:
    config = llmengine_config(max_workers=max_workers, gpus=0, num_shards=4)
    return make_deployment(
        "mi_1", "dep_1", name="llama", status=status, vendor_configuration=config
    )


def test_a_deploying_rollout_passes_once_ready(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.rollout("mi_1", "dep_1", body("DEPLOYING", 1), body("DEPLOYING", 2), body("READY", 4))
    result = run_check(manifest(MANIFEST), "--wait", "10m", "--format", "json")
    assert result.code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["deployments"][0]["status"] == "in_sync"
    assert report["deployments"][0]["checks"] == 3
    assert len(emulator.requests_for("mi_1", "dep_1")) == 3
    assert len(clock.sleeps) == 2
    assert report["waited_s"] == round(sum(clock.sleeps), 1)


def test_a_failed_rollout_stops_waiting_early(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.rollout("mi_1", "dep_1", body("DEPLOYING", 1), body("FAILED", 1), body("READY", 4))
    result = run_check(manifest(MANIFEST), "--wait", "10m", "--format", "json")
    assert result.code == 2
    report = json.loads(result.stdout)
    deployment = report["deployments"][0]
    assert deployment["checks"] == 2
    assert {d["path"]: d["live"] for d in deployment["differences"]}["status"] == "FAILED"
    assert len(emulator.requests_for("mi_1", "dep_1")) == 2
    assert sum(clock.sleeps) < 600


def test_the_deadline_reports_the_last_observation(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.rollout("mi_1", "dep_1", body("DEPLOYING", 1), body("DEPLOYING", 2))
    result = run_check(manifest(MANIFEST), "--wait", "90s", "--format", "json")
    assert result.code == 2
    deployment = json.loads(result.stdout)["deployments"][0]
    assert {d["path"]: d["live"] for d in deployment["differences"]} == {
        "status": "DEPLOYING",
        "vendor_configuration.max_workers": 2,
    }
    assert clock.now == pytest.approx(90)
    assert deployment["checks"] == len(emulator.requests_for("mi_1", "dep_1"))


def test_missing_then_created_is_waited_for(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.rollout(
        "mi_1", "dep_1", Reply(status=404, body={"detail": "Not Found"}), body("READY", 4)
    )
    result = run_check(manifest(MANIFEST), "--wait", "1m")
    assert result.code == 0, result.stdout
    assert len(emulator.requests_for("mi_1", "dep_1")) == 2


def test_an_auth_error_stops_at_once(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.put(body("DEPLOYING", 1))
    wrong = {"SGP_API_KEY": "wrong-key-123"}
    result = run_check(manifest(MANIFEST), "--wait", "10m", "--format", "json", env=wrong)
    assert result.code == 1
    assert clock.sleeps == []
    assert json.loads(result.stdout)["deployments"][0]["checks"] == 1


def test_without_wait_no_new_keys(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    emulator.put(body("READY", 4))
    report = json.loads(run_check(manifest(MANIFEST), "--format", "json").stdout)
    assert "waited_s" not in report
    assert "checks" not in report["deployments"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wait", "10"], "not a duration"),
        (["--wait", "0s"], "longer than zero"),
        (["--wait", "1m", "--live-from", "snap.json"], "snapshot never changes"),
    ],
)
def test_bad_wait_is_a_usage_error(
    run_check: Any, manifest: Any, args: list[str], message: str
) -> None:
    result = run_check(manifest(MANIFEST), *args)
    assert result.code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.stderr


def test_baseline_marks_describe_the_last_observation(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock, tmp_path: Any
) -> None:
    path = manifest(MANIFEST)
    emulator.put(body("DEPLOYING", 1))
    base = str(tmp_path / "base.json")
    assert run_check(path, "--report", f"json={base}").code == 2
    emulator.rollout("mi_1", "dep_1", body("DEPLOYING", 1), body("READY", 4))
    result = run_check(path, "--wait", "1m", "--baseline", base, "--format", "json")
    assert result.code == 0, result.stdout
    report = json.loads(result.stdout)
    # marked after the wait: what the first pass saw is resolved, not persisting
    assert sorted(e["path"] for e in report["resolved"]) == [
        "status",
        "vendor_configuration.max_workers",
    ]
    assert report["baseline"]["counts"]["persisting"] == 0


def test_text_report_says_how_long_it_waited(
    emulator: Emulator, run_check: Any, manifest: Any, clock: FakeClock
) -> None:
    emulator.rollout("mi_1", "dep_1", body("DEPLOYING", 1), body("READY", 4))
    result = run_check(manifest(MANIFEST), "--wait", "1m")
    assert result.code == 0
    assert (
        result.stdout.splitlines()[-1] == f"Waited {round(sum(clock.sleeps), 1):g} s for rollouts."
    )


# The rollout stamp is declared as it reads once a rollout is done; while one runs it differs,
# and a dated ignore silences that.
IGNORING = (
    MANIFEST
    + """\
    deployment_metadata:
      rollout: done
    ignore:
      - path: deployment_metadata.rollout
        reason: set while a rollout runs
        until: 2030-01-01
"""
)


def stamped(status: str, max_workers: int, rollout: str) -> dict[str, Any]:
    found = body(status, max_workers)
    found["deployment_metadata"] = {"rollout": rollout}
    return found


def test_ignores_describe_the_last_observation(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.rollout("mi_1", "dep_1", stamped("DEPLOYING", 1, "r-42"), stamped("READY", 4, "done"))
    args = ("--wait", "1m", "--format", "json", "--today", "2026-11-27")
    result = run_check(manifest(IGNORING), *args)
    assert result.code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["deployments"][0]["checks"] == 2
    # the first pass silenced the rollout stamp; the last one had nothing to silence
    assert [(i["status"], i["silenced"]) for i in report["ignores"]] == [("unused", 0)]


def test_an_ignore_of_a_deployment_that_errored_first_is_judged_on_the_last_pass(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.rollout("mi_1", "dep_1", 503, stamped("READY", 4, "r-42"))
    args = ("--wait", "1m", "--format", "json", "--today", "2026-11-27", "--retries", "0")
    result = run_check(manifest(IGNORING), *args)
    assert result.code == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["deployments"][0]["checks"] == 2
    assert [(i["status"], i["silenced"]) for i in report["ignores"]] == [("active", 1)]
