"""Hostile servers (issue #16): each misbehaviour ends the way DESIGN's "HTTP behaviour" says,
against the real loopback emulator and the real CLI."""

from __future__ import annotations

import gzip
import json
import ssl
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import API_KEY, declare_many, invoke
from tests.emulator import Emulator, Reply, deflate_bomb, gzip_bomb, make_deployment

ONE = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
"""
MIB = 1024 * 1024


def deployments(result: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(result.stdout)["deployments"]
    return found


def only_error(result: Any) -> dict[str, Any]:
    error: dict[str, Any] = deployments(result)[0]["error"]
    return error


@pytest.fixture
def one(emulator: Emulator, manifest: Any) -> str:
    emulator.put(make_deployment("mi_1", "dep_1"))
    path: str = manifest(ONE)
    return path


# -- 1, 12: sizes after decoding ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, gzip", "gzip, deflate"])
def test_compressed_deployment_reads_like_a_plain_one(
    emulator: Emulator, run_check: Any, one: str, encoding: str
) -> None:
    emulator.script("mi_1", "dep_1", Reply(body=emulator.get("mi_1", "dep_1"), encoding=encoding))
    result = run_check(one, "--retries", "0")
    assert result.code == 0, result.stdout
    assert emulator.requests[0].headers["accept-encoding"] == "gzip, deflate, br"


def test_raw_deflate_without_zlib_wrapper_is_read(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    body = json.dumps(emulator.get("mi_1", "dep_1")).encode()
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = compressor.compress(body) + compressor.flush()
    emulator.script("mi_1", "dep_1", Reply(body=raw, headers={"content-encoding": "deflate"}))
    assert run_check(one, "--retries", "0").code == 0


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(lambda: gzip_bomb(1100 * MIB), id="gzip-1GiB"),
        pytest.param(lambda: deflate_bomb(65 * MIB), id="deflate"),
        pytest.param(lambda: gzip.compress(gzip_bomb(200 * MIB)), id="gzip-of-gzip"),
    ],
)
def test_compression_bomb_is_invalid_response_at_the_decoded_cap(
    emulator: Emulator, run_check: Any, one: str, bomb: Any
) -> None:
    body: bytes = bomb()
    assert len(body) < 2 * MIB  # small on the wire: only the decoded size can catch it
    emulator.script(
        "mi_1", "dep_1", Reply(body=body, headers={"content-encoding": _encoding_of(body)})
    )
    result = run_check(one, "--format", "json", "--retries", "0")
    assert result.code == 1
    error = only_error(result)
    assert error["kind"] == "invalid_response"
    assert "larger than 64 MiB once decoded" in error["message"]


def _encoding_of(body: bytes) -> str:
    """The Content-Encoding a bomb was made with (a gzip of a gzip starts twice with 1f 8b)."""
    if body[:1] == b"\x78":
        return "deflate"
    inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(body, 2)
    return "gzip, gzip" if inner == b"\x1f\x8b" else "gzip"


def test_unasked_encoding_is_invalid_response(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script(
        "mi_1", "dep_1", Reply(body=b"\x8b\x00\x80" * 100, headers={"content-encoding": "zstd"})
    )
    result = run_check(one, "--format", "json", "--retries", "0")
    error = only_error(result)
    assert error["kind"] == "invalid_response"
    assert "content-encoding 'zstd'" in error["message"]


def test_announced_oversize_body_is_invalid_response_not_network(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script(
        "mi_1",
        "dep_1",
        Reply(body=b"{}", headers={"content-length": str(64 * MIB + 1)}, truncate=False),
    )
    error = only_error(run_check(one, "--format", "json", "--retries", "0"))
    assert error["kind"] == "invalid_response"
    assert "larger than 64 MiB" in error["message"]


# -- 12, 16: JSON beyond Python's limits, non-finite numbers -----------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('{"id": ' + "7" * 5000 + "}", "an integer longer than"),
        ("[" * 50_000 + "]" * 50_000, "nested deeper than driftcheck can read"),
        ('{"vendor_configuration": {"max_workers": NaN}}', "NaN is not a JSON value"),
        ('{"vendor_configuration": {"max_workers": Infinity}}', "Infinity is not a JSON value"),
        ('{"vendor_configuration": {"max_workers": 1e400}}', "the number 1e400 is out of range"),
        ("<html>oops</html>", "not JSON"),
    ],
)
def test_json_beyond_limits_is_invalid_response_with_a_clear_message(
    emulator: Emulator, run_check: Any, one: str, body: str, words: str
) -> None:
    emulator.script("mi_1", "dep_1", Reply(body=body))
    result = run_check(one, "--format", "json", "--retries", "0")
    error = only_error(result)
    assert error["kind"] == "invalid_response"
    assert words in error["message"]
    assert "nan" not in result.stdout.lower().replace("nan is not", "")


# -- 3: --timeout bounds the whole attempt ---------------------------------------------------------


def test_trickling_body_is_cut_by_the_timeout(emulator: Emulator, run_check: Any, one: str) -> None:
    # ~700 bytes at one byte every 50 ms would take 35 s; every read is quick, only the
    # whole-attempt deadline can stop it
    emulator.script("mi_1", "dep_1", Reply(body=emulator.get("mi_1", "dep_1"), trickle=0.05))
    result = run_check(one, "--format", "json", "--retries", "0", "--timeout", "0.5")
    assert result.code == 1
    error = only_error(result)
    assert error["kind"] == "timeout"
    assert error["message"] == "timed out after 0.5s"


# -- 4: stale keep-alive connections ---------------------------------------------------------------


def test_idle_connections_closed_by_the_server_cost_no_retry(manifest: Any) -> None:
    with Emulator(
        [make_deployment("mi", f"d{i}") for i in range(60)], api_key=API_KEY, close_after=1
    ) as emu:
        result = invoke(
            ["check", declare_many(manifest, 60), "--retries", "0", "--concurrency", "4"],
            {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url},
        )
        assert result.code == 0, result.stdout
        assert "60 deployments: 60 in sync" in result.stdout
        assert {r.connection_id for r in emu.requests} == set(range(1, 61))


def test_reused_connection_closed_before_answering_is_reopened_for_free(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(2):
        emulator.put(make_deployment("mi", f"d{i}"))
    emulator.script("mi", "d1", Reply(drop=True))
    args = ("--retries", "0", "--concurrency", "1", "--format", "json")
    result = run_check(declare_many(manifest, 2), *args)
    assert result.code == 0, result.stdout
    first, dropped, again = emulator.requests
    assert first.connection_id == dropped.connection_id != again.connection_id


def test_fresh_connection_closed_before_answering_spends_the_attempt(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script("mi_1", "dep_1", Reply(drop=True))
    result = run_check(one, "--retries", "0", "--format", "json")
    assert result.code == 1
    assert only_error(result)["kind"] == "network"
    assert len(emulator.requests) == 1


# -- 5: secrets on disk ----------------------------------------------------------------------------


def test_snapshot_never_holds_the_key_a_server_echoes(manifest: Any, tmp_path: Path) -> None:
    leaky = make_deployment("mi", "d0", deployment_metadata={f"note-{API_KEY}": f"by {API_KEY}"})
    with Emulator([leaky], api_key=API_KEY, echo_key=True) as emu:
        snap = tmp_path / "snap.json"
        env = {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url}
        result = invoke(["snapshot", declare_many(manifest, 2), "-o", str(snap)], env)
        assert result.code == 0, result.stderr
        text = snap.read_text()
        assert API_KEY not in text
        document = json.loads(text)
        first, second = document["deployments"]
        assert first["body"]["deployment_metadata"] == {"note-***": "by ***"}
        assert second["http_status"] == 404
        assert second["body"] == {"detail": "Not Found (x-api-key: ***)"}


# -- 7, 11: what a 404 and a redirect mean ---------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "seen"),
    [
        (Reply(status=404, body="<html>404</html>", content_type="text/html"), "a text/html body"),
        (Reply(status=404, body=""), "an empty body"),
        (Reply(status=404, body=["Not Found"]), "an application/json body"),
    ],
)
def test_404_without_a_json_object_is_an_error_not_missing(
    emulator: Emulator, run_check: Any, one: str, reply: Reply, seen: str
) -> None:
    emulator.script("mi_1", "dep_1", reply)
    result = run_check(one, "--format", "json")
    assert result.code == 1
    error = only_error(result)
    assert (error["kind"], error["http_status"]) == ("http", 404)
    assert seen in error["message"] and "--base-url" in error["message"]
    assert len(emulator.requests) == 1


def test_404_with_the_apis_json_is_missing(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", Reply(status=404, body={"detail": "Not Found"}))
    assert run_check(one).code == 2


def test_redirect_without_location_fails_at_once(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script("mi_1", "dep_1", *[Reply(status=302)] * 7)
    result = run_check(one, "--format", "json")
    error = only_error(result)
    assert (error["kind"], error["http_status"]) == ("http", 302)
    assert error["message"] == "HTTP 302 redirect without a Location"
    assert len(emulator.requests) == 1


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    import trustme

    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server, bundle


def test_https_to_http_on_the_same_host_is_not_called_another_host(
    manifest: Any, tmp_path: Path
) -> None:
    server, bundle = _tls(tmp_path)
    with Emulator([make_deployment("mi_1", "dep_1")], ssl_context=server) as emu:
        plain = emu.url.replace("https://", "http://")
        emu.script(
            "mi_1",
            "dep_1",
            Reply(status=301, headers={"location": f"{plain}/v4/models/mi_1/deployments/dep_1"}),
        )
        env = {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url}
        args = ["check", manifest(ONE), "--ca-bundle", str(bundle), "--format", "json"]
        error = only_error(invoke(args, env))
        assert "another host" not in error["message"]
        assert "redirect to another scheme or port (http://127.0.0.1:" in error["message"]


def test_ssl_cert_file_is_honoured_for_loopback_https(manifest: Any, tmp_path: Path) -> None:
    server, bundle = _tls(tmp_path)
    with Emulator([make_deployment("mi_1", "dep_1")], ssl_context=server) as emu:
        env = {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url, "SSL_CERT_FILE": str(bundle)}
        result = invoke(["check", manifest(ONE), "--retries", "0"], env)
        assert result.code == 0, result.stdout


# -- 15: a 403 is one deployment's error -----------------------------------------------------------


def test_403_is_that_deployments_error_and_the_run_goes_on(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(3):
        emulator.put(make_deployment("mi", f"d{i}"))
    emulator.script("mi", "d1", Reply(status=403, body={"detail": "Forbidden"}))
    result = run_check(declare_many(manifest, 3), "--concurrency", "1", "--format", "json")
    assert result.code == 1
    found = [(d["status"], d["error"] and d["error"]["kind"]) for d in deployments(result)]
    assert found == [("in_sync", None), ("error", "not_permitted"), ("in_sync", None)]
    assert len(emulator.requests) == 3


# -- 2: the listing must agree with the GETs -------------------------------------------------------


def test_listing_that_omits_a_fetched_deployment_fails_the_run(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(3):
        emulator.put(make_deployment("mi", f"d{i}"))
    emulator.unlist("mi", "d1")
    result = run_check(declare_many(manifest, 3), "--unmanaged", "--format", "json")
    assert result.code == 1
    report = json.loads(result.stdout)
    assert "the listing omits mi/d1" in report["listing_error"]["message"]
    assert report["summary"]["coverage"] is None and report["exit_code"] == 1


def test_mistyped_account_id_never_reads_as_full_coverage(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(3):
        emulator.put(make_deployment("mi", f"d{i}"))
    result = run_check(declare_many(manifest, 3), "--unmanaged", "--account-id", "acct_typo")
    assert result.code == 1
    assert "the listing omits mi/d0" in result.stdout
    assert "Coverage" not in result.stdout


def test_reset_on_a_reused_connection_is_reopened_but_on_a_fresh_one_counts(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    for i in range(2):
        emulator.put(make_deployment("mi", f"d{i}"))
    emulator.script("mi", "d1", Reply(reset=True), Reply(reset=True))
    args = ("--retries", "0", "--concurrency", "1", "--format", "json")
    result = run_check(declare_many(manifest, 2), *args)
    # d0 on a new connection; d1 reset on the reused one (free), then reset on a fresh one
    assert [d["status"] for d in deployments(result)] == ["in_sync", "error"]
    assert len(emulator.requests) == 3
