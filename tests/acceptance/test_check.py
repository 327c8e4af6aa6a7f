"""End to end: manifest -> emulator -> verdict, report and exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.acceptance.conftest import API_KEY, invoke
from tests.emulator import OMIT, Emulator, launch_config, llmengine_config, make_deployment

TWO = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    name: llama
    vendor_configuration:
      vendor: LLMENGINE
      gpus: 1
      gpu_type: nvidia-ampere-a10
      num_shards: 1
      memory: 8192Mi
  - model_instance_id: mi_2
    deployment_id: dep_2
    vendor_configuration:
      vendor: LAUNCH
      max_workers: 3
"""


def seed(emulator: Emulator) -> None:
    emulator.put(make_deployment("mi_1", "dep_1", name="llama"))
    emulator.put(
        make_deployment("mi_2", "dep_2", vendor_configuration=launch_config(max_workers=3))
    )


def test_in_sync_exits_0_with_summary(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    seed(emulator)
    result = run_check(manifest(TWO))
    assert result.code == 0, result.stderr
    assert result.stdout == "2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"


def test_drift_exits_2_and_reads_desired_to_live(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    seed(emulator)
    emulator.put(
        make_deployment(
            "mi_1",
            "dep_1",
            name="llama",
            vendor_configuration=llmengine_config(memory="16Gi", num_shards=OMIT),
        )
    )
    result = run_check(manifest(TWO))
    assert result.code == 2
    assert result.stdout.splitlines()[:3] == [
        "~ llama (mi_1/dep_1) drifted",
        '    ~ vendor_configuration.memory: "8192Mi" -> "16Gi"',
        "    ~ vendor_configuration.num_shards: 1 -> 4",
    ]


def test_missing_deployment_is_drift_not_error(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(make_deployment("mi_1", "dep_1", name="llama"))
    result = run_check(manifest(TWO))
    assert result.code == 2
    assert "+ mi_2/dep_2 missing: not found on the API" in result.stdout


def test_errors_win_over_drift(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    from tests.emulator import Reply

    seed(emulator)
    emulator.put(make_deployment("mi_1", "dep_1", name="renamed"))
    emulator.script("mi_2", "dep_2", *[Reply(status=503)] * 4)
    result = run_check(manifest(TWO), "--format", "json")
    report = json.loads(result.stdout)
    assert result.code == 1
    assert report["exit_code"] == 1
    assert report["summary"] == {"total": 2, "in_sync": 0, "drifted": 1, "missing": 0, "error": 1}
    error = report["deployments"][1]["error"]
    assert error["kind"] == "http" and error["http_status"] == 503
    assert error["message"] == "HTTP 503 after 3 retries"


def test_json_report_carries_lines_and_raw_values(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    seed(emulator)
    emulator.put(
        make_deployment("mi_2", "dep_2", vendor_configuration=launch_config(max_workers=5))
    )
    path = manifest(TWO)
    result = run_check(path, "--format", "json")
    report = json.loads(result.stdout)
    assert report["report_version"] == 1
    second = report["deployments"][1]
    assert second["manifest"] == {"file": path, "line": 12}
    assert second["name"] == "mi_2-dep_2"  # no declared name: the live one labels it
    assert second["differences"] == [
        {
            "path": "vendor_configuration.max_workers",
            "segments": ["vendor_configuration", "max_workers"],
            "kind": "changed",
            "desired": 3,
            "live": 5,
            "line": 16,
        }
    ]


def test_extra_reports_written_in_one_run(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    seed(emulator)
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    result = run_check(
        manifest(TWO), "--report", f"json={json_path}", "--report", f"junit={junit_path}"
    )
    assert result.code == 0
    assert json.loads(json_path.read_text())["summary"]["in_sync"] == 2
    assert 'tests="2"' in junit_path.read_text()


def test_unwritable_report_fails_before_any_request(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    seed(emulator)
    result = run_check(manifest(TWO), "--report", f"json={tmp_path}/no/such/dir/r.json")
    assert result.code == 1
    assert "does not exist" in result.stderr
    assert emulator.requests == []


def test_unknown_report_format_is_usage_error_1(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    result = run_check(manifest(TWO), "--report", "yaml=x.yaml")
    assert result.code == 1
    assert "unknown format 'yaml'" in result.stderr
    assert emulator.requests == []


def test_usage_errors_exit_1_never_2(manifest: Any) -> None:
    assert invoke(["check", "--formt", "json"]).code == 1
    assert invoke(["check", "--format", "xml"]).code == 1
    assert invoke(["nonsense"]).code == 1
    assert invoke(["check", "--concurrency", "0"]).code == 1


def test_invalid_manifest_exits_1_with_positions_and_no_request(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    path = manifest("version: 1\ndeployments:\n  - model_instance_id: mi\n    deploymnet_id: d\n")
    result = run_check(path)
    assert result.code == 1
    assert (
        f"{path}:4:5: unknown key 'deploymnet_id': did you mean 'deployment_id'?" in result.stderr
    )
    assert f"{path}:3:5: missing required key 'deployment_id'" in result.stderr
    assert emulator.requests == []


def test_yaml_bomb_and_python_tag_are_refused(run_check: Any, manifest: Any) -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    result = run_check(manifest(bomb))
    assert result.code == 1 and "alias" in result.stderr
    tag = "version: 1\ndeployments: !!python/object/apply:os.system ['echo pwned']\n"
    result = run_check(manifest(tag, "tag.yaml"))
    assert result.code == 1
    assert "tag.yaml:2:14: tag !!python/object/apply:os.system is not allowed" in result.stderr
    assert "pwned" not in result.stdout


def test_validate_is_offline(manifest: Any) -> None:
    result = invoke(["validate", manifest(TWO)], {"SGP_CLIENT_BASE_URL": "http://127.0.0.1:9"})
    assert result.code == 0
    assert result.stdout == "ok: 2 deployments in 1 manifest\n"


def test_missing_api_key_is_clear_error_before_any_request(
    emulator: Emulator, manifest: Any
) -> None:
    result = invoke(
        ["check", manifest(TWO)], {"SGP_CLIENT_BASE_URL": emulator.url, "SGP_API_KEY": ""}
    )
    assert result.code == 1
    assert "no API key: set SGP_API_KEY or pass --api-key-file" in result.stderr
    assert emulator.requests == []


def test_api_key_file_and_headers(emulator: Emulator, manifest: Any, tmp_path: Path) -> None:
    seed(emulator)
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY + "\n")
    result = invoke(
        ["check", manifest(TWO), "--api-key-file", str(key_file), "--account-id", "acct_9"],
        {"SGP_CLIENT_BASE_URL": emulator.url, "SGP_API_KEY": ""},
    )
    assert result.code == 0, result.stderr
    assert len(emulator.requests) == 2
    for request in emulator.requests:
        assert request.headers["x-api-key"] == API_KEY
        assert request.headers["x-selected-account-id"] == "acct_9"
        assert request.headers["user-agent"] == "driftcheck/0.1.0"


def test_account_from_env(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    seed(emulator)
    run_check(manifest(TWO), env={"SGP_ACCOUNT_ID": "acct_env"})
    assert {r.headers.get("x-selected-account-id") for r in emulator.requests} == {"acct_env"}


def test_no_account_header_without_account(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    seed(emulator)
    run_check(manifest(TWO))
    assert all("x-selected-account-id" not in r.headers for r in emulator.requests)


def test_live_from_snapshot_and_absent_entry_is_error(manifest: Any, tmp_path: Path) -> None:
    snapshot = {
        "snapshot_version": 1,
        "captured_at": "2026-11-27T04:00:00Z",
        "source": "x",
        "deployments": [
            {
                "model_instance_id": "mi_1",
                "deployment_id": "dep_1",
                "http_status": 200,
                "body": make_deployment("mi_1", "dep_1", name="llama"),
            }
        ],
    }
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot))
    result = invoke(["check", manifest(TWO), "--live-from", str(path), "--format", "json"])
    report = json.loads(result.stdout)
    assert result.code == 1
    assert [d["status"] for d in report["deployments"]] == ["in_sync", "error"]
    assert report["deployments"][1]["error"]["kind"] == "snapshot"


def test_corrupt_snapshot_is_clear_error(manifest: Any, tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text('{"snapshot_version": 2, "deployments": []}')
    result = invoke(["check", manifest(TWO), "--live-from", str(path)])
    assert result.code == 1
    assert "unsupported snapshot_version 2" in result.stderr


def test_example_manifest_against_example_snapshot() -> None:
    result = invoke(
        [
            "check",
            "manifests/example.yaml",
            "--live-from",
            "manifests/example.snapshot.json",
            "--no-color",
        ]
    )
    assert result.code == 2
    assert "1 in sync, 1 drifted, 1 missing, 0 errors." in result.stdout


def test_strict_and_ignore_end_to_end(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    emulator.put(
        make_deployment(
            "mi_1", "dep_1", name="llama", deployment_metadata={"team": "a", "owner": "b"}
        )
    )
    text = TWO.split("  - model_instance_id: mi_2")[0] + "    deployment_metadata: {team: a}\n"
    path = manifest(text)
    assert run_check(path).code == 0
    strict = run_check(path, "--strict", "--format", "json")
    diffs = json.loads(strict.stdout)["deployments"][0]["differences"]
    assert strict.code == 2
    assert {(d["path"], d["kind"]) for d in diffs} == {
        ("deployment_metadata.owner", "extra_live"),
        ("vendor_configuration.model_name", "extra_live"),
        ("vendor_configuration.inference_framework_image_tag", "extra_live"),
    }
    quiet = run_check(
        path, "--strict", "--ignore", "deployment_metadata", "--ignore", "vendor_configuration.*"
    )
    assert quiet.code == 0, quiet.stdout


def test_console_script_has_no_traceback_on_bad_input(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe not utf8")
    proc = subprocess.run(
        [sys.executable, "-m", "driftcheck", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{bad}:1:1: not UTF-8 text" in proc.stderr


def test_version_and_schema() -> None:
    assert invoke(["--version"]).stdout == "driftcheck 0.1.0\n"
    schema = json.loads(invoke(["schema"]).stdout)
    assert schema["required"] == ["version", "deployments"]
    assert "vendor_configuration" in schema["$defs"]["DeploymentModel"]["properties"]
