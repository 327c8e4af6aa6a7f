"""Sensitive values never leave the machine: every output and every written file, against the
loopback emulator, while the drift on them is still found (online and from a snapshot)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pty
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.reporters import FORMATS
from tests.acceptance.conftest import API_KEY, Run, invoke
from tests.emulator import Emulator, Reply, make_deployment
from tests.receiver import Receiver

MI, DEP = "mi_s", "dep_s"
BUILTIN_NAMES = (
    "hf_token",
    "apiKey",
    "DB_PASSWORD",
    "client-secret",
    "passwd",
    "x_api_key",
    "awsAccessKey",
    "private.key",
    "gcpCredentials",
)
PLAIN_NAMES = ("conn", "endpoint", "value")
SHAPES = ("changed", "missing_live")
PLANTED = "DC_PLANTED_SECRET"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(api_key=API_KEY) as emu:
        yield emu


@pytest.fixture(scope="module")
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def api_env(emulator: Emulator, **extra: str) -> dict[str, str]:
    return {
        "SGP_API_KEY": API_KEY,
        "SGP_CLIENT_BASE_URL": emulator.url,
        "NO_COLOR": "1",
        **extra,
    }


# ---------------------------------------------------------------------------------------------
# Where a secret is planted


@dataclass(frozen=True)
class Placement:
    source: str  # builtin | top | own | cli | env
    root: str  # deployment_metadata | model_creation_parameters
    parents: tuple[str, ...]
    in_list: bool  # the secret's map is item 0 of a list (a list compares whole)
    key: str
    shape: str  # changed | missing_live | extra_live
    wildcard: bool  # the pattern spells one segment as *

    @property
    def path(self) -> tuple[str, ...]:
        return (self.root, *self.parents, *(("items", "0") if self.in_list else ()), self.key)

    @property
    def pattern(self) -> str:
        segments = list(self.path)
        if self.wildcard:
            segments[1] = "*"
        return ".".join(segments)

    def tree(self, secret: str | None) -> dict[str, Any]:
        """The free-form map that holds ``secret`` (left out when None), beside a plain key."""
        leaf: dict[str, Any] = {"owner": "team-a"}
        if secret is not None:
            leaf[self.key] = secret
        node = {"items": [leaf]} if self.in_list else leaf
        for parent in reversed(self.parents):
            node = {parent: node}
        return node

    def manifest(self, secret: str | None) -> str:
        lines = ["version: 1"]
        if self.source == "top":
            lines.append(f"sensitive: [{json.dumps(self.pattern)}]")
        lines += ["deployments:", f"  - model_instance_id: {MI}", f"    deployment_id: {DEP}"]
        if self.source == "own":
            lines.append(f"    sensitive: [{json.dumps(self.pattern)}]")
        if self.source == "env" and secret is not None:
            secret = f"${{env:{PLANTED}}}"  # the value comes from the process environment
        lines.append(f"    {self.root}: {json.dumps(self.tree(secret))}")
        return "\n".join(lines) + "\n"

    def options(self, command: str = "check") -> list[str]:
        options = ["--sensitive", self.pattern] if self.source == "cli" else []
        strict = self.shape == "extra_live" and command == "check"
        return [*options, "--strict"] if strict else options


@st.composite
def placements(draw: st.DrawFn) -> Placement:
    source = draw(st.sampled_from(("builtin", "top", "own", "cli", "env")))
    # a value from ${env:} is sensitive where it is declared: a live-only key is not
    shapes = ("changed", "missing_live") if source == "env" else (*SHAPES, "extra_live")
    parents = tuple(draw(st.lists(st.sampled_from(("auth", "svc", "db")), max_size=2)))
    return Placement(
        source=source,
        root=draw(st.sampled_from(("deployment_metadata", "model_creation_parameters"))),
        parents=parents,
        in_list=draw(st.booleans()),
        key=draw(st.sampled_from(BUILTIN_NAMES if source == "builtin" else PLAIN_NAMES)),
        shape=draw(st.sampled_from(shapes)),
        wildcard=bool(parents) and draw(st.booleans()),
    )


# Letters and digits only: no report format escapes them, so a leak is always found verbatim.
secret_values = st.text(string.ascii_letters + string.digits, min_size=10, max_size=30).map(
    lambda text: f"Zk9{text}"
)


def leaks(secrets: tuple[str, ...], runs: list[Run], folder: Path) -> list[str]:
    found = [
        f"{where} of run {index}"
        for index, run in enumerate(runs)
        for where, text in (("stdout", run.stdout), ("stderr", run.stderr))
        if any(secret in text for secret in secrets)
    ]
    for path in sorted(folder.rglob("*")):
        if path.name == "manifest.yaml":
            continue  # the input, not written by a run
        if path.is_file() and any(s.encode() in path.read_bytes() for s in secrets):
            found.append(str(path.relative_to(folder)))
    return found


def reported(report_file: Path, placement: Placement) -> list[dict[str, Any]]:
    """The differences at or above the secret's path; the report must count the drift."""
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["exit_code"] == 2
    assert report["summary"]["drifted"] == 1
    (deployment,) = report["deployments"]
    secret_path = ".".join(placement.path)
    return [
        d
        for d in deployment["differences"]
        if secret_path == d["path"] or secret_path.startswith(d["path"] + ".")
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    placement=placements(),
    desired=secret_values,
    live=secret_values,
    stdout=st.sampled_from(FORMATS),
)
def test_no_output_or_written_file_holds_a_secret_and_the_drift_still_counts(
    emulator: Emulator,
    hook: Receiver,
    placement: Placement,
    desired: str,
    live: str,
    stdout: str,
) -> None:
    if desired == live:
        live += "x"
    declared = None if placement.shape == "extra_live" else desired
    recorded = None if placement.shape == "missing_live" else live
    # also where no comparison looks, but a snapshot stores the whole body
    fields = {placement.root: placement.tree(recorded), "service_token": live}
    emulator.put(make_deployment(MI, DEP, **fields))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = folder / "manifest.yaml"
        manifest.write_text(placement.manifest(declared), encoding="utf-8")
        summary = str(folder / "summary.md")
        env = api_env(emulator, GITHUB_STEP_SUMMARY=summary, **{PLANTED: desired})
        reports = [f"--report={fmt}={folder / f'report.{fmt}'}" for fmt in FORMATS]
        # the nightly audit's outputs: history files and both notification kinds
        reports += ["--history", str(folder / "history"), "--notify-on", "always"]
        reports += ["--notify", f"webhook={hook.url()}", "--notify", f"slack={hook.url('/s')}"]
        hook.posts.clear()
        options, recording = placement.options(), placement.options("snapshot")
        snap, adopt, baseline = (
            str(folder / name) for name in ("snap.json", "adopt.yaml", "report.json")
        )
        offline, rerun = f"json={folder / 'offline.json'}", f"json={folder / 'rerun.json'}"
        runs = [
            invoke(["check", str(manifest), "--format", stdout, *reports, *options], env),
            invoke(["snapshot", str(manifest), "-o", snap, *recording], env),
            invoke(["snapshot", str(manifest), "--as-manifest", "-o", adopt, *recording], env),
            invoke(
                ["check", str(manifest), "--live-from", snap, "--report", offline, *options],
                {"GITHUB_STEP_SUMMARY": summary, PLANTED: desired},
            ),
            invoke(
                ["check", str(manifest), "--baseline", baseline, "--report", rerun, *options], env
            ),
        ]
        assert [run.code for run in runs] == [2, 0, 0, 2, 2], [run.stderr for run in runs]
        assert leaks((desired, live), runs, folder) == []
        assert len(hook.posts) == 2
        assert not [p for p in hook.posts if any(x.encode() in p.body for x in (desired, live))]
        online = reported(folder / "report.json", placement)
        assert online, "the difference on the secret must be reported"
        for diff in online:
            for side in ("desired", "live"):
                assert diff[side] in ({"sensitive": True}, None)
            assert diff["desired"] is not None or diff["live"] is not None
        assert reported(folder / "offline.json", placement) == online
        assert "(sensitive)" in (folder / "report.text").read_text(encoding="utf-8")
        assert "(sensitive)" in (folder / "report.markdown").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Snapshot -> --live-from round trip


ROUND_TRIP = f"""\
version: 1
deployments:
  - model_instance_id: {MI}
    deployment_id: {DEP}
    vendor_configuration: {{vendor: LAUNCH, max_workers: 2.0}}
    deployment_metadata: {{hf_token: "{{token}}", owner: team-a}}
    model_creation_parameters: {{conn: {{user: bob, port: 5432}}}}
"""


def round_trip(emulator: Emulator, tmp_path: Path, declared: str) -> tuple[Run, dict[str, Any]]:
    emulator.put(
        make_deployment(
            MI,
            DEP,
            vendor_configuration={"vendor": "LAUNCH", "max_workers": 2},
            deployment_metadata={"hf_token": "s3cret-live-value-1", "owner": "team-a"},
            model_creation_parameters={"conn": {"user": "bob", "port": 5432, "extra": 1}},
        )
    )
    manifest = tmp_path / "m.yaml"
    manifest.write_text(ROUND_TRIP.replace("{token}", declared), encoding="utf-8")
    snap = tmp_path / "snap.json"
    sensitive = [
        "--sensitive",
        "model_creation_parameters.conn",
        "--sensitive",
        "vendor_configuration.max_workers",
    ]
    recorded = invoke(["snapshot", str(manifest), "-o", str(snap), *sensitive], api_env(emulator))
    assert recorded.code == 0, recorded.stderr
    document = json.loads(snap.read_text(encoding="utf-8"))
    emulator.clear_requests()
    offline = invoke(
        ["check", str(manifest), "--live-from", str(snap), "--format", "json", *sensitive], {}
    )
    assert emulator.requests == []
    return offline, document


def reference_hmac(salt_hex: str, value: Any) -> dict[str, str]:
    message = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    mac = hmac.new(bytes.fromhex(salt_hex), message.encode("utf-8"), hashlib.sha256)
    return {"sha256": mac.hexdigest()}


def test_round_trip_with_equal_secrets_is_in_sync(emulator: Emulator, tmp_path: Path) -> None:
    offline, document = round_trip(emulator, tmp_path, "s3cret-live-value-1")
    assert offline.code == 0, offline.stdout
    salt = document["sensitive_salt"]
    assert len(bytes.fromhex(salt)) == 32
    (entry,) = document["deployments"]
    body = entry["body"]
    assert body["deployment_metadata"] == {
        "hf_token": reference_hmac(salt, "s3cret-live-value-1"),
        "owner": "team-a",
    }
    # keys below a sensitive point are hashed too (a secret may be a key): "sha256:HMAC(key)"
    assert body["model_creation_parameters"]["conn"] == {
        f"sha256:{reference_hmac(salt, 'user')['sha256']}": reference_hmac(salt, "bob"),
        f"sha256:{reference_hmac(salt, 'port')['sha256']}": reference_hmac(salt, 5432),
        f"sha256:{reference_hmac(salt, 'extra')['sha256']}": reference_hmac(salt, 1),
    }
    assert body["vendor_configuration"]["max_workers"] == reference_hmac(salt, 2)
    assert "s3cret-live-value-1" not in json.dumps(document)


def test_round_trip_with_differing_secrets_is_drift(emulator: Emulator, tmp_path: Path) -> None:
    offline, _ = round_trip(emulator, tmp_path, "s3cret-rotated-value-2")
    assert offline.code == 2
    (deployment,) = json.loads(offline.stdout)["deployments"]
    assert deployment["differences"] == [
        {
            "path": "deployment_metadata.hf_token",
            "segments": ["deployment_metadata", "hf_token"],
            "kind": "changed",
            "desired": {"sensitive": True},
            "live": {"sensitive": True},
            "line": 6,
        }
    ]


def test_each_snapshot_has_its_own_salt(emulator: Emulator, tmp_path: Path) -> None:
    _, first = round_trip(emulator, tmp_path, "s3cret-live-value-1")
    _, second = round_trip(emulator, tmp_path, "s3cret-live-value-1")
    assert first["sensitive_salt"] != second["sensitive_salt"]
    token = [
        d["deployments"][0]["body"]["deployment_metadata"]["hf_token"] for d in (first, second)
    ]
    assert token[0] != token[1]  # the same secret is not recognisable across snapshots


def test_a_bad_salt_is_a_clear_error(tmp_path: Path, manifest: Any) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(
        json.dumps({"snapshot_version": 1, "deployments": [], "sensitive_salt": "xyz"}),
        encoding="utf-8",
    )
    run = invoke(["check", manifest(ROUND_TRIP), "--live-from", str(snap)], {})
    assert run.code == 1
    assert f"{snap}: sensitive_salt must be 64 lowercase hex digits" in run.stderr


# ---------------------------------------------------------------------------------------------
# --show-sensitive


SHOWN = f"""\
version: 1
deployments:
  - model_instance_id: {MI}
    deployment_id: {DEP}
    deployment_metadata: {{hf_token: s3cret-desired-value}}
"""


@pytest.mark.parametrize(
    "options",
    [[], ["--format", "json"], ["--format", "markdown"], ["--report", "text=out.txt"]],
)
def test_show_sensitive_anywhere_but_a_terminal_is_a_usage_error(
    emulator: Emulator, manifest: Any, options: list[str]
) -> None:
    emulator.put(make_deployment(MI, DEP, deployment_metadata={"hf_token": "s3cret-live-value"}))
    emulator.clear_requests()  # the emulator is shared by this module's tests
    run = invoke(["check", manifest(SHOWN), "--show-sensitive", *options], api_env(emulator))
    assert run.code == 1
    assert "--show-sensitive reveals values only in the text report on a terminal" in run.stderr
    assert "s3cret" not in run.stdout + run.stderr
    assert emulator.requests_for(MI, DEP) == []


def test_show_sensitive_on_a_terminal_reveals_the_text_report(
    emulator: Emulator, manifest: Any
) -> None:
    emulator.put(make_deployment(MI, DEP, deployment_metadata={"hf_token": "s3cret-live-value"}))
    path = manifest(SHOWN)
    env = {**os.environ, **api_env(emulator)}
    env.pop("CI", None)
    primary, replica = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "driftcheck", "check", path, "--show-sensitive"],
            stdout=replica,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
        os.close(replica)
        replica = -1
        output = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            output += chunk
    finally:
        if replica >= 0:
            os.close(replica)
        os.close(primary)
    text = output.decode("utf-8").replace("\r\n", "\n")
    assert process.returncode == 2, process.stderr
    assert '~ deployment_metadata.hf_token: "s3cret-desired-value" -> "s3cret-live-value"' in text


# ---------------------------------------------------------------------------------------------
# Error messages and labels


def test_a_server_that_echoes_a_declared_secret_in_an_error_has_it_scrubbed(
    emulator: Emulator, manifest: Any, tmp_path: Path
) -> None:
    emulator.script(
        MI, DEP, Reply(status=422, body={"detail": "hf_token 's3cret-desired-value' is invalid"})
    )
    report = tmp_path / "report.json"
    run = invoke(
        ["check", manifest(SHOWN), "--report", f"json={report}", "--backoff", "0"],
        api_env(emulator),
    )
    assert run.code == 1
    assert "s3cret" not in run.stdout + run.stderr + report.read_text(encoding="utf-8")
    assert "hf_token '(sensitive)' is invalid" in run.stdout
    emulator.script(
        MI, DEP, Reply(status=422, body={"detail": "hf_token 's3cret-desired-value' is invalid"})
    )
    snap = invoke(
        ["snapshot", manifest(SHOWN), "-o", str(tmp_path / "snap.json")], api_env(emulator)
    )
    assert snap.code == 1
    assert "s3cret" not in snap.stdout + snap.stderr
    assert "hf_token '(sensitive)' is invalid" in snap.stderr


def test_a_sensitive_name_is_not_used_as_a_label(emulator: Emulator, manifest: Any) -> None:
    emulator.put(make_deployment(MI, DEP, name="codename-nightingale"))
    text = f"""\
version: 1
deployments:
  - model_instance_id: {MI}
    deployment_id: {DEP}
    sensitive: [name]
    name: codename-kestrel
"""
    run = invoke(["check", manifest(text)], api_env(emulator))
    assert run.code == 2
    assert run.stdout.splitlines()[:2] == [
        f"~ {MI}/{DEP} drifted",
        "    ~ name: (sensitive) -> (sensitive)",
    ]
    assert "codename" not in run.stdout
