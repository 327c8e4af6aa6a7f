"""Secrets in places the property test does not plant them: a wrongly typed value at a
sensitive path, a secret spelled as a map key below a sensitive point, and the nightly outputs
(history, notifications, HTML, metrics, step summary) of repeated runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.reporters import FORMATS
from tests.acceptance.conftest import API_KEY, Run, invoke
from tests.emulator import Emulator, Reply, make_deployment
from tests.receiver import Receiver

SECRET = "Qv7planted-secret-value"
LIVE = "Lx3live-only-secret-value"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY) as emu:
        yield emu


def env(emulator: Emulator, **extra: str) -> dict[str, str]:
    return {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emulator.url, "NO_COLOR": "1", **extra}


def written(folder: Path) -> str:
    return "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "m.yaml"
    )


@pytest.mark.parametrize(
    ("command", "declared_by"),
    [
        (["check"], "manifest"),
        (["validate"], "manifest"),
        (["check", "--sensitive", "vendor_configuration.max_workers"], "option"),
        (["snapshot", "-o", "-", "--sensitive", "vendor_configuration.*"], "option"),
    ],
)
def test_a_wrongly_typed_value_at_a_sensitive_path_is_not_echoed(
    tmp_path: Path, command: list[str], declared_by: str
) -> None:
    manifest = tmp_path / "m.yaml"
    own = "    sensitive: [vendor_configuration.max_workers]\n" if declared_by == "manifest" else ""
    manifest.write_text(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi\n"
        "    deployment_id: dep\n"
        f"{own}"
        f"    vendor_configuration: {{vendor: LAUNCH, max_workers: {SECRET}}}\n",
        encoding="utf-8",
    )
    run = invoke([*command, str(manifest)], {"SGP_API_KEY": API_KEY})
    assert run.code == 1
    assert SECRET not in run.stdout + run.stderr
    assert f"{manifest}:{5 + bool(own)}:" in run.stderr
    assert "max_workers: expected a whole number, got a sensitive value" in run.stderr


def test_a_wrongly_typed_plain_value_is_still_echoed(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi\n"
        "    deployment_id: dep\n"
        "    vendor_configuration: {vendor: LAUNCH, max_workers: lots}\n",
        encoding="utf-8",
    )
    run = invoke(["validate", str(manifest)], {"SGP_API_KEY": API_KEY})
    assert run.code == 1
    assert "got the string 'lots'" in run.stderr


def test_a_secret_spelled_as_a_key_below_a_sensitive_point_stays_hidden(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.put(
        make_deployment(
            "mi_k",
            "dep_k",
            deployment_metadata={"conn": {SECRET: 2, "x": 1}, "hf_token": {LIVE: 1}},
        )
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi_k\n"
        "    deployment_id: dep_k\n"
        "    sensitive: [deployment_metadata.conn]\n"
        f"    deployment_metadata: {{conn: {{{SECRET}: 1, x: 1}}, hf_token: {{a: 1}}}}\n",
        encoding="utf-8",
    )
    reports = [f"--report={fmt}={tmp_path / f'r.{fmt}'}" for fmt in FORMATS]
    run = invoke(["check", str(manifest), "--format", "json", *reports], env(emulator))
    assert run.code == 2, run.stderr
    assert SECRET not in run.stdout + run.stderr + written(tmp_path)
    assert LIVE not in run.stdout + run.stderr + written(tmp_path)
    (entry,) = json.loads(run.stdout)["deployments"]
    found = {(d["path"], d["kind"]): (d["desired"], d["live"]) for d in entry["differences"]}
    masked = {"sensitive": True}
    # one difference per sensitive point, both sides present, values masked
    assert found == {
        ("deployment_metadata.conn", "changed"): (masked, masked),
        ("deployment_metadata.hf_token", "changed"): (masked, masked),
    }


def test_history_notifications_and_nightly_reports_hold_no_secret(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.put(
        make_deployment(
            "mi_n",
            "dep_n",
            deployment_metadata={"hf_token": LIVE, "db_password": LIVE + "2"},
            model_creation_parameters={"items": [{"apiKey": LIVE + "3"}]},
        )
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi_n\n"
        "    deployment_id: dep_n\n"
        f"    deployment_metadata: {{hf_token: {SECRET}}}\n"
        f"    model_creation_parameters: {{items: [{{apiKey: {SECRET}4}}]}}\n",
        encoding="utf-8",
    )
    summary = tmp_path / "summary.md"
    runs: list[Run] = []
    with Receiver() as hook:
        for index in range(2):
            runs.append(
                invoke(
                    [
                        "check",
                        str(manifest),
                        "--strict",
                        "--history",
                        str(tmp_path / "history"),
                        "--notify",
                        f"webhook={hook.url()}",
                        "--notify-on",
                        "always",
                        f"--report=html={tmp_path / f'r{index}.html'}",
                        f"--report=prometheus={tmp_path / f'r{index}.prom'}",
                        f"--report=sarif={tmp_path / f'r{index}.sarif'}",
                    ],
                    env(emulator, GITHUB_STEP_SUMMARY=str(summary)),
                )
            )
        posts = [post.body.decode("utf-8") for post in hook.posts]
    assert [run.code for run in runs] == [2, 2], [run.stderr for run in runs]
    assert len(posts) == 2
    outputs = "".join(run.stdout + run.stderr for run in runs) + "".join(posts)
    outputs += written(tmp_path)
    assert SECRET not in outputs and LIVE not in outputs
    assert len(list((tmp_path / "history").iterdir())) == 2
    # the drift is still there: three sensitive differences, the extra live password included
    assert "deployment_metadata.db_password" in runs[0].stdout
    assert "deployment_metadata.hf_token" in (tmp_path / "r0.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("declared", "code", "differences"),
    [
        # the same secret key and value: in sync offline, although the snapshot holds neither
        (f"{{{SECRET}: 1, x: 1}}", 0, []),
        # another secret key: drift at the sensitive point, never below it
        (f"{{{SECRET}-other: 1, x: 1}}", 2, [("deployment_metadata.conn", "changed")]),
        # the same key with another value
        (f"{{{SECRET}: 2, x: 1}}", 2, [("deployment_metadata.conn", "changed")]),
    ],
)
def test_a_secret_map_key_round_trips_through_a_snapshot_hashed(
    emulator: Emulator,
    tmp_path: Path,
    declared: str,
    code: int,
    differences: list[tuple[str, str]],
) -> None:
    emulator.put(
        make_deployment("mi_r", "dep_r", deployment_metadata={"conn": {SECRET: 1, "x": 1}})
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "sensitive: [deployment_metadata.conn]\n"
        "deployments:\n"
        "  - model_instance_id: mi_r\n"
        "    deployment_id: dep_r\n"
        f"    deployment_metadata: {{conn: {declared}}}\n",
        encoding="utf-8",
    )
    snap = tmp_path / "snap.json"
    recorded = invoke(["snapshot", str(manifest), "-o", str(snap)], env(emulator))
    assert recorded.code == 0, recorded.stderr
    assert SECRET not in snap.read_text(encoding="utf-8")
    offline = invoke(["check", str(manifest), "--live-from", str(snap), "--format", "json"], {})
    assert offline.code == code, offline.stderr
    assert SECRET not in offline.stdout + offline.stderr
    (entry,) = json.loads(offline.stdout)["deployments"]
    assert [(d["path"], d["kind"]) for d in entry["differences"]] == differences


def test_a_secret_cut_short_in_an_echoed_error_detail_leaves_no_part_of_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.put(make_deployment("mi_e", "dep_e"))
    # the detail is cut at 200 characters, in the middle of the echoed secret
    detail = "x" * 190 + f" {SECRET}"
    emulator.script("mi_e", "dep_e", Reply(status=422, body={"detail": detail}))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi_e\n"
        "    deployment_id: dep_e\n"
        f"    deployment_metadata: {{hf_token: {SECRET}}}\n",
        encoding="utf-8",
    )
    run = invoke(["check", str(manifest), "--format", "json"], env(emulator))
    assert run.code == 1, run.stderr
    (entry,) = json.loads(run.stdout)["deployments"]
    message = entry["error"]["message"]
    assert message.startswith("HTTP 422: xxx") and message.endswith(" (sensitive)")
    assert SECRET[:4] not in run.stdout + run.stderr
