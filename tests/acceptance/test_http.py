"""The HTTP layer against the emulator with injected faults: retries, fail-closed, safe paths."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from tests.acceptance.conftest import API_KEY, invoke
from tests.emulator import Emulator, Reply, make_deployment

ONE = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    vendor_configuration: {vendor: LLMENGINE, gpus: 1, num_shards: 1}
"""


def statuses(result: Any) -> list[tuple[str, Any]]:
    report = json.loads(result.stdout)
    return [(d["status"], d["error"] and d["error"]["kind"]) for d in report["deployments"]]


def only_error(result: Any) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(result.stdout)["deployments"][0]["error"]
    return error


@pytest.fixture
def one(emulator: Emulator, manifest: Any) -> str:
    emulator.put(make_deployment("mi_1", "dep_1"))
    path: str = manifest(ONE)
    return path


def test_503_then_200_is_in_sync_after_two_requests(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script("mi_1", "dep_1", Reply(status=503))
    result = run_check(one)
    assert result.code == 0
    seen = emulator.requests_for("mi_1", "dep_1")
    assert len(seen) == 2
    assert seen[0].time <= seen[1].time


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_then_error(
    emulator: Emulator, run_check: Any, one: str, status: int
) -> None:
    emulator.script("mi_1", "dep_1", *[Reply(status=status)] * 10)
    result = run_check(one, "--retries", "2", "--format", "json")
    assert result.code == 1
    assert len(emulator.requests_for("mi_1", "dep_1")) == 3
    error = only_error(result)
    assert error["kind"] == "http" and error["http_status"] == status
    assert error["message"].endswith("after 2 retries")


@pytest.mark.parametrize("status", [400, 405, 410, 422])
def test_other_4xx_are_never_retried(
    emulator: Emulator, run_check: Any, one: str, status: int
) -> None:
    body = {"detail": [{"loc": ["path", "deployment_id"], "msg": "bad id", "type": "x"}]}
    emulator.script("mi_1", "dep_1", Reply(status=status, body=body))
    result = run_check(one, "--format", "json")
    assert result.code == 1
    assert len(emulator.requests_for("mi_1", "dep_1")) == 1
    assert only_error(result)["message"] == f"HTTP {status}: path.deployment_id: bad id"


def test_retry_after_headers_are_honoured_in_order(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script(
        "mi_1",
        "dep_1",
        Reply(status=429, headers={"retry-after": "0"}),
        Reply(status=429, headers={"retry-after-ms": "5"}),
        Reply(status=503, headers={"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}),
    )
    # a huge backoff would hang the test if the servers' waits were not used instead
    result = run_check(one, "--backoff", "600")
    assert result.code == 0
    times = [r.time for r in emulator.requests_for("mi_1", "dep_1")]
    assert len(times) == 4 and times == sorted(times)


def test_x_should_retry_false_stops_retries(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", Reply(status=503, headers={"x-should-retry": "false"}))
    result = run_check(one)
    assert result.code == 1
    assert len(emulator.requests_for("mi_1", "dep_1")) == 1


def test_x_should_retry_true_retries_a_400(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", Reply(status=400, headers={"x-should-retry": "true"}))
    assert run_check(one).code == 0
    assert len(emulator.requests_for("mi_1", "dep_1")) == 2


def test_timeout_is_retried_then_error_timeout(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script("mi_1", "dep_1", *[Reply(delay=5.0)] * 2)
    result = run_check(one, "--timeout", "0.2", "--retries", "1", "--format", "json")
    assert result.code == 1
    error = only_error(result)
    assert error["kind"] == "timeout"
    assert error["message"] == "timed out after 0.2s after 1 retry"


def test_connection_reset_is_network_error(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", *[Reply(reset=True)] * 4)
    result = run_check(one, "--format", "json")
    assert result.code == 1
    assert only_error(result)["kind"] == "network"
    assert len(emulator.requests_for("mi_1", "dep_1")) == 4


def test_reset_then_success_is_in_sync(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", Reply(reset=True))
    assert run_check(one).code == 0


def test_truncated_body_is_invalid_response(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.script("mi_1", "dep_1", *[Reply(truncate=True)] * 4)
    result = run_check(one, "--format", "json")
    assert result.code == 1
    assert only_error(result)["kind"] == "invalid_response"


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(body="<html>oops</html>", content_type="text/html"), "not JSON (text/html)"),
        (Reply(body=[1, 2]), "expected a JSON object, got an array"),
        (Reply(body={"detail": "hi"}), "not a deployment: id: Field required"),
        (Reply(body=make_deployment("mi_1", "dep_OTHER")), "asked for deployment 'dep_1'"),
        (Reply(body=make_deployment("mi_OTHER", "dep_1")), "asked for model instance 'mi_1'"),
        (
            Reply(body=make_deployment("mi_1", "dep_1", vendor_configuration=[1])),
            "vendor_configuration",
        ),
    ],
)
def test_bodies_that_are_not_the_deployment_are_invalid_response(
    emulator: Emulator, run_check: Any, one: str, reply: Reply, fragment: str
) -> None:
    emulator.script("mi_1", "dep_1", reply)
    result = run_check(one, "--format", "json")
    assert result.code == 1
    error = only_error(result)
    assert error["kind"] == "invalid_response"
    assert fragment in error["message"]


def test_401_stops_all_further_requests(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    lines = ["version: 1", "deployments:"]
    for i in range(5):
        emulator.put(make_deployment("mi", f"d{i}"))
        lines += [f"  - model_instance_id: mi\n    deployment_id: d{i}"]
    path = manifest("\n".join(lines) + "\n")
    result = run_check(
        path,
        "--concurrency",
        "1",
        "--format",
        "json",
        "--fetch",
        "get",
        env={"SGP_API_KEY": "wrong-key"},
    )
    assert result.code == 1
    assert len(emulator.requests) == 1
    assert statuses(result) == [("error", "auth")] * 5
    report = json.loads(result.stdout)
    assert "SGP_API_KEY" in report["deployments"][0]["error"]["message"]
    assert report["deployments"][3]["error"]["message"].startswith("not checked: HTTP 401")


def test_403_is_not_permitted(emulator: Emulator, manifest: Any) -> None:
    with Emulator(
        [make_deployment("mi_1", "dep_1")], api_key=API_KEY, account_ids=["acct_ok"]
    ) as emu:
        result = invoke(
            ["check", manifest(ONE), "--format", "json", "--account-id", "acct_bad"],
            {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url},
        )
        assert result.code == 1
        error = only_error(result)
        assert error["kind"] == "not_permitted" and error["http_status"] == 403
        assert "SGP_ACCOUNT_ID" in error["message"]


def test_cross_host_redirect_is_not_followed_and_key_not_sent(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    with Emulator(host="127.0.0.2") as other:
        other.put(make_deployment("mi_1", "dep_1"))
        target = f"{other.url}/v4/models/mi_1/deployments/dep_1"
        emulator.script("mi_1", "dep_1", Reply(status=302, headers={"location": target}))
        result = run_check(one, "--format", "json")
        assert result.code == 1
        assert other.requests == []
        error = only_error(result)
        assert error["http_status"] == 302
        assert "redirect to another host (http://127.0.0.2" in error["message"]
        assert "not sent there" in error["message"]


def test_same_host_redirect_is_followed(emulator: Emulator, run_check: Any, one: str) -> None:
    emulator.put(make_deployment("mi_1", "dep_1"))
    emulator.script(
        "mi_1",
        "dep_1",
        Reply(status=307, headers={"location": "/v4/models/mi_1/deployments/dep_1"}),
    )
    assert run_check(one).code == 0
    assert len(emulator.requests_for("mi_1", "dep_1")) == 2


@pytest.mark.parametrize(
    ("mi", "dep", "raw"),
    [
        ("..", "x", "/v4/models/%2E%2E/deployments/x"),
        ("mi", "../x", "/v4/models/mi/deployments/..%2Fx"),
        ("a/b?c", "d#e", "/v4/models/a%2Fb%3Fc/deployments/d%23e"),
        ("%2e%2e", ".", "/v4/models/%252e%252e/deployments/%2E"),
        ("模型", "dép 1", "/v4/models/%E6%A8%A1%E5%9E%8B/deployments/d%C3%A9p%201"),
    ],
)
def test_ids_can_never_change_the_path(
    emulator: Emulator, run_check: Any, manifest: Any, mi: str, dep: str, raw: str
) -> None:
    emulator.put(make_deployment(mi, dep))
    text = (
        f"version: 1\ndeployments:\n  - model_instance_id: {json.dumps(mi)}\n"
        f"    deployment_id: {json.dumps(dep)}\n"
    )
    result = run_check(manifest(text))
    assert result.code == 0, result.stdout + result.stderr
    assert [r.raw_path for r in emulator.requests] == [raw]


def test_plain_http_to_remote_host_is_refused_before_any_request(manifest: Any) -> None:
    result = invoke(
        ["check", manifest(ONE), "--base-url", "http://api.example.invalid"],
        {"SGP_API_KEY": API_KEY},
    )
    assert result.code == 1
    assert "refusing to send the API key over plain http to api.example.invalid" in result.stderr


def test_connection_refused_is_network_error(manifest: Any) -> None:
    result = invoke(
        [
            "check",
            manifest(ONE),
            "--base-url",
            "http://127.0.0.1:9",
            "--backoff",
            "0",
            "--retries",
            "1",
            "--format",
            "json",
        ],
        {"SGP_API_KEY": API_KEY},
    )
    assert result.code == 1
    assert only_error(result)["kind"] == "network"


def test_results_keep_manifest_order_under_concurrency(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    lines = ["version: 1", "deployments:"]
    for i in range(40):
        emulator.put(make_deployment("mi", f"d{i}"))
        # earlier deployments answer later, so completion order is reversed
        emulator.script("mi", f"d{i}", Reply(delay=0.002 * (40 - i)))
        lines += [f"  - model_instance_id: mi\n    deployment_id: d{i}"]
    result = run_check(
        manifest("\n".join(lines) + "\n"),
        "--format",
        "json",
        "--concurrency",
        "40",
        "--fetch",
        "get",
    )
    ids = [d["deployment_id"] for d in json.loads(result.stdout)["deployments"]]
    assert ids == [f"d{i}" for i in range(40)]


def test_soak_no_failed_deployment_is_ever_in_sync_or_missing(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    """Seeded random faults over many deployments: a deployment whose every attempt failed
    must be an error, one that got through must be judged on what it got."""
    rng = random.Random(20261127)
    retries = 2
    faults = [
        Reply(status=503),
        Reply(status=429),
        Reply(status=500),
        Reply(reset=True),
        Reply(truncate=True),
        Reply(status=502, headers={"retry-after-ms": "1"}),
    ]
    expected: dict[str, set[str]] = {}
    lines = ["version: 1", "deployments:"]
    for i in range(150):
        dep = f"d{i}"
        exists = rng.random() < 0.8
        if exists:
            emulator.put(make_deployment("mi", dep))
        failures = rng.choice([0, 0, 1, 2, 3, 3])
        script = [rng.choice(faults) for _ in range(failures)]
        emulator.script("mi", dep, *script)
        judged = "in_sync" if exists else "missing"
        if failures <= retries:
            expected[dep] = {judged}
        elif any(reply.reset for reply in script):
            # a reset on a kept-alive connection looks like a stale connection: reopened
            # without spending a retry, so the request may get through to the real state
            expected[dep] = {"error", judged}
        else:
            expected[dep] = {"error"}
        lines += [f"  - model_instance_id: mi\n    deployment_id: {dep}"]
    result = run_check(
        manifest("\n".join(lines) + "\n"),
        "--format",
        "json",
        "--retries",
        str(retries),
        "--concurrency",
        "8",
        "--fetch",
        "get",
    )
    got = {d["deployment_id"]: d["status"] for d in json.loads(result.stdout)["deployments"]}
    assert {dep: status for dep, status in got.items() if status not in expected[dep]} == {}
    assert result.code == 1


def test_server_error_message_reads_like_the_design_example(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script(
        "mi_1", "dep_1", *[Reply(status=503, body={"detail": "Service Unavailable"})] * 4
    )
    result = run_check(one)
    assert "! mi_1/dep_1 error: HTTP 503 after 3 retries\n" in result.stdout


def test_key_echoed_by_the_server_is_redacted(emulator: Emulator, run_check: Any, one: str) -> None:
    body = {"detail": f"key {API_KEY} is not allowed here"}
    emulator.script("mi_1", "dep_1", Reply(status=422, body=body))
    result = run_check(one)  # invoke() itself asserts the key is in no output
    assert "HTTP 422: key *** is not allowed here" in result.stdout


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:secret@api.example.com", "credentials in the base URL are not supported"),
        ("http://127.0.0.1:99999", "invalid base URL 'http://127.0.0.1:99999'"),
        ("https://[::1", "invalid base URL 'https://[::1'"),
        ("ftp://api.example.com", "expected https://host[:port]"),
    ],
)
def test_bad_base_urls_are_clear_errors(manifest: Any, url: str, message: str) -> None:
    result = invoke(["check", manifest(ONE), "--base-url", url], {"SGP_API_KEY": API_KEY})
    assert result.code == 1
    assert message in result.stderr
    assert "internal error" not in result.stderr


def test_body_nested_past_the_parser_is_invalid_response(
    emulator: Emulator, run_check: Any, one: str
) -> None:
    emulator.script("mi_1", "dep_1", Reply(body="[" * 100_000 + "]" * 100_000))
    result = run_check(one, "--format", "json")
    assert result.code == 1
    assert only_error(result)["kind"] == "invalid_response"


def test_https_with_ca_bundle_and_verification_on(manifest: Any, tmp_path: Any) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with Emulator([make_deployment("mi_1", "dep_1")], ssl_context=server) as emu:
        env = {"SGP_API_KEY": API_KEY, "SGP_CLIENT_BASE_URL": emu.url}
        trusted = invoke(["check", manifest(ONE), "--ca-bundle", str(bundle)], env)
        assert trusted.code == 0, trusted.stdout
        untrusted = invoke(["check", manifest(ONE), "--retries", "0", "--format", "json"], env)
        assert untrusted.code == 1
        assert only_error(untrusted)["kind"] == "network"
        assert "CERTIFICATE_VERIFY_FAILED" in only_error(untrusted)["message"]


def test_unusable_ca_bundle_is_a_clear_error(manifest: Any, tmp_path: Any) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    result = invoke(
        ["check", manifest(ONE), "--base-url", "https://127.0.0.1:9", "--ca-bundle", str(bundle)],
        {"SGP_API_KEY": API_KEY},
    )
    assert result.code == 1
    assert f"cannot use --ca-bundle {bundle}" in result.stderr
