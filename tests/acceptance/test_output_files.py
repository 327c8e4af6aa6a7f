"""Output files and options that must fail closed (issue 16, items 8, 9, 10, 13 and 16).

Each test runs the real CLI: in-process against the loopback emulator, or as a child process
where a real file descriptor matters (/dev/full, a terminal).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.output import write_atomically
from tests.acceptance.conftest import API_KEY, invoke
from tests.emulator import Emulator, Reply, launch_config, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_ok
    vendor_configuration: {vendor: LAUNCH, max_workers: 2}
  - model_instance_id: mi_1
    deployment_id: dep_gone
"""
REPO = Path(__file__).resolve().parents[2]


def env(emulator: Emulator, key: str = API_KEY) -> dict[str, str]:
    return {"SGP_API_KEY": key, "SGP_CLIENT_BASE_URL": emulator.url, "NO_COLOR": "1"}


def populate(emulator: Emulator) -> None:
    emulator.put(
        make_deployment("mi_1", "dep_ok", vendor_configuration=launch_config(max_workers=2))
    )


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def write_snapshot(path: Path) -> str:
    """A snapshot in which dep_ok is in sync and dep_gone was recorded as a 404."""
    body = make_deployment("mi_1", "dep_ok", vendor_configuration=launch_config(max_workers=2))
    document = {
        "snapshot_version": 1,
        "captured_at": "2026-11-27T04:00:00Z",
        "source": "http://127.0.0.1:1",
        "deployments": [
            {
                "model_instance_id": "mi_1",
                "deployment_id": "dep_ok",
                "http_status": 200,
                "body": body,
            },
            {
                "model_instance_id": "mi_1",
                "deployment_id": "dep_gone",
                "http_status": 404,
                "body": {"detail": "Not Found"},
            },
        ],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def run_child(
    args: list[str], environ: dict[str, str], **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """``python -m driftcheck ARGS`` as a child process with only ``environ`` set."""
    full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), **environ}
    return subprocess.run(
        [sys.executable, "-m", "driftcheck", *args],
        env=full,
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=60,
        check=False,
        **kwargs,
    )


# ---------------------------------------------------------------------------------------------
# item 8: snapshot -o keeps the previous file unless everything was recorded


def test_failed_snapshot_keeps_the_previous_file(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    path = manifest(MANIFEST)
    snap = tmp_path / "snap.json"
    assert invoke(["snapshot", path, "-o", str(snap)], env(emulator)).code == 0
    good = snap.read_bytes()
    assert json.loads(good)["deployments"][0]["deployment_id"] == "dep_ok"

    # The key is refused (401): nothing is recorded, and the last good file must survive.
    refused = invoke(["snapshot", path, "-o", str(snap)], env(emulator, "wrong-key-0000"))
    assert refused.code == 1
    assert f"kept the previous {snap}: 2 of 2 deployments could not be recorded" in refused.stderr
    assert "--allow-partial" in refused.stderr
    assert snap.read_bytes() == good
    assert leftovers(tmp_path) == []


def test_partial_snapshot_is_not_written_without_allow_partial(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    path = manifest(MANIFEST)
    snap = tmp_path / "new.json"
    args = ["snapshot", path, "-o", str(snap), "--retries", "0"]
    emulator.script("mi_1", "dep_ok", Reply(status=503))
    result = invoke(args, env(emulator))
    assert result.code == 1
    assert f"did not write {snap}: 1 of 2 deployments could not be recorded" in result.stderr
    assert not snap.exists()

    emulator.script("mi_1", "dep_ok", Reply(status=503))
    partial = invoke([*args, "--allow-partial"], env(emulator))
    assert partial.code == 1  # still not a complete record
    assert "recorded 1 of 2 deployments" in partial.stderr
    recorded = json.loads(snap.read_text())["deployments"]
    assert [(d["deployment_id"], d["http_status"]) for d in recorded] == [("dep_gone", 404)]


def test_snapshot_output_must_not_be_a_manifest(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    before = Path(path).read_bytes()
    result = invoke(["snapshot", path, "-o", str(tmp_path / "." / "manifest.yaml")], env(emulator))
    assert result.code == 1
    assert "would overwrite" in result.stderr and "manifest.yaml" in result.stderr
    assert Path(path).read_bytes() == before
    assert emulator.requests == []


# ---------------------------------------------------------------------------------------------
# item 9: number options


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--timeout", "nan"),
        ("--timeout", "inf"),
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--backoff", "nan"),
        ("--backoff", "-inf"),
        ("--backoff", "-0.5"),
        ("--concurrency", "-1"),
        ("--retries", "-1"),
    ],
)
def test_number_options_must_be_finite_and_not_negative(
    emulator: Emulator, manifest: Any, option: str, value: str
) -> None:
    result = invoke(["check", manifest(MANIFEST), option, value], env(emulator))
    assert result.code == 1
    assert f"Invalid value for '{option}'" in result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.requests == []


# ---------------------------------------------------------------------------------------------
# item 10: a key too short to redact safely


def test_short_key_is_refused_without_printing_it(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    short = "Zq9x!k"
    result = invoke(["check", manifest(MANIFEST)], env(emulator, short))
    assert result.code == 1
    assert "the API key in SGP_API_KEY is shorter than 8 characters" in result.stderr
    assert short not in result.stderr + result.stdout
    key_file = tmp_path / "key"
    key_file.write_text(short + "\n", encoding="utf-8")
    from_file = invoke(
        ["check", manifest(MANIFEST), "--api-key-file", str(key_file)], env(emulator, "")
    )
    assert from_file.code == 1
    assert f"the API key in --api-key-file {key_file} is shorter" in from_file.stderr
    assert short not in from_file.stderr + from_file.stdout
    if os.path.exists("/dev/zero"):  # a wrong path is refused, not read forever
        endless = invoke(
            ["check", manifest(MANIFEST), "--api-key-file", "/dev/zero"], env(emulator, "")
        )
        assert endless.code == 1 and "too large for a key" in endless.stderr
    assert emulator.requests == []


# ---------------------------------------------------------------------------------------------
# item 13: output files


def test_report_targets_that_clash_are_usage_errors(
    emulator: Emulator, manifest: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    populate(emulator)
    path = manifest(MANIFEST)
    monkeypatch.chdir(tmp_path)
    twice = invoke(
        ["check", path, "--report", "json=r.json", "--report", f"junit={tmp_path}/r.json"],
        env(emulator),
    )
    assert twice.code == 1
    assert "json=r.json already writes that file" in twice.stderr
    dash = invoke(["check", path, "--report", "json=-"], env(emulator))
    assert dash.code == 1 and "give --report a file" in dash.stderr
    before = Path(path).read_bytes()
    onto_manifest = invoke(["check", path, "--report", "json=./manifest.yaml"], env(emulator))
    assert onto_manifest.code == 1
    assert "--report json=./manifest.yaml would overwrite" in onto_manifest.stderr
    assert Path(path).read_bytes() == before
    key_file = tmp_path / "key"
    key_file.write_text(API_KEY, encoding="utf-8")
    onto_key = invoke(
        ["check", path, "--api-key-file", str(key_file), "--report", f"junit={key_file}"],
        env(emulator, ""),
    )
    assert onto_key.code == 1 and "would overwrite" in onto_key.stderr
    assert key_file.read_text(encoding="utf-8") == API_KEY
    assert emulator.requests == []
    assert not (tmp_path / "r.json").exists()


def test_report_file_is_replaced_whole_keeping_its_link_and_mode(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    real = tmp_path / "reports" / "drift.json"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "drift-link.json"
    link.symlink_to(real)
    result = invoke(["check", manifest(MANIFEST), "--report", f"json={link}"], env(emulator))
    assert result.code == 2
    assert link.is_symlink()
    assert json.loads(real.read_text())["summary"]["missing"] == 1
    assert real.stat().st_mode & 0o777 == 0o640
    assert leftovers(real.parent) == [] and leftovers(tmp_path) == []


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous report\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(str(target), "half a report" + "\ud800")  # cannot be encoded
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert leftovers(tmp_path) == []


def test_unwritable_step_summary_is_found_before_any_request(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    populate(emulator)
    summary = tmp_path / "no-such-dir" / "summary.md"
    result = invoke(
        ["check", manifest(MANIFEST), "--format", "github"],
        {**env(emulator), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.code == 1
    assert "cannot append the job summary to $GITHUB_STEP_SUMMARY" in result.stderr
    assert "nothing was checked" in result.stderr
    assert emulator.requests == []
    assert result.stdout == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_disk_is_one_clear_error(manifest: Any, tmp_path: Path) -> None:
    path = manifest(MANIFEST)
    snap = write_snapshot(tmp_path / "snap.json")
    report = tmp_path / "report.json"
    with open("/dev/full", "w") as full:
        child = run_child(
            ["check", path, "--live-from", snap, "--report", f"json={report}"],
            {"NO_COLOR": "1"},
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert child.returncode == 1
    assert child.stderr == (
        "driftcheck: error: cannot write to standard output: No space left on device\n"
    )
    # the report file is independent of stdout and still written
    assert json.loads(report.read_text())["summary"]["missing"] == 1


# ---------------------------------------------------------------------------------------------
# item 16: NO_COLOR and the wording of a snapshot's 404


def _on_a_terminal(args: list[str], environ: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal; returns what it printed there."""
    controller, terminal = pty.openpty()
    try:
        child = run_child(args, environ, stdout=terminal, stderr=subprocess.PIPE)
    finally:
        os.close(terminal)
    assert child.returncode == 2, child.stderr
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return b"".join(chunks).decode()


def test_empty_no_color_keeps_colour_and_non_empty_turns_it_off(
    manifest: Any, tmp_path: Path
) -> None:
    args = ["check", manifest(MANIFEST), "--live-from", write_snapshot(tmp_path / "snap.json")]
    assert "\x1b[" in _on_a_terminal(args, {"NO_COLOR": ""})
    assert "\x1b[" in _on_a_terminal(args, {})
    assert "\x1b[" not in _on_a_terminal(args, {"NO_COLOR": "1"})


@pytest.mark.parametrize("fmt", ["text", "github", "junit", "markdown", "patch"])
def test_missing_from_a_snapshot_is_not_called_not_found_on_the_api(
    manifest: Any, tmp_path: Path, fmt: str
) -> None:
    snap = write_snapshot(tmp_path / "snap.json")
    result = invoke(["check", manifest(MANIFEST), "--live-from", snap, "--format", fmt])
    assert result.code == 2
    assert "not found in the snapshot" in result.stdout
    assert "on the API" not in result.stdout
