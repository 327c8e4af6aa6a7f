"""The loopback SGP emulator, exercised with a plain httpx client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.emulator import (
    OMIT,
    Emulator,
    Reply,
    generate_deployments,
    make_deployment,
)

EMULATOR_SCRIPT = Path(__file__).resolve().parents[1] / "emulator.py"


def http(url: str, **kwargs: Any) -> httpx.Client:
    # Plain http only; verify=False skips building an SSL context (~70 ms per client).
    return httpx.Client(base_url=url, verify=False, **kwargs)


def dep_path(mi: str, dep: str) -> str:
    return f"/v4/models/{mi}/deployments/{dep}"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator([make_deployment("mi_1", "dep_1"), make_deployment("mi_1", "dep_2")]) as e:
        yield e
    assert e.errors == []


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with http(emu.url, timeout=5.0) as c:
        yield c


# -- basic routes ----------------------------------------------------------------------------------


def test_get_returns_stored_deployment(emu: Emulator, client: httpx.Client) -> None:
    response = client.get(dep_path("mi_1", "dep_1"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == make_deployment("mi_1", "dep_1")
    assert emu.url.startswith("http://127.0.0.1:")


def test_get_absent_deployment_is_404(client: httpx.Client) -> None:
    response = client.get(dep_path("mi_1", "dep_404"))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert client.get(dep_path("mi_404", "dep_1")).status_code == 404


def test_unknown_routes_are_404(client: httpx.Client) -> None:
    for path in ("/", "/v4", "/v4/models", "/v3/model-deployments", "/v4/models/mi_1/x/dep_1"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_other_methods_are_405_and_keep_the_connection(emu: Emulator, client: httpx.Client) -> None:
    patch = client.patch(dep_path("mi_1", "dep_1"), json={"name": "x"})
    assert patch.status_code == 405
    assert patch.headers["allow"] == "GET"
    assert client.post("/v4/model-deployments", content=b"abc").status_code == 405
    assert client.get(dep_path("mi_1", "dep_1")).status_code == 200
    assert [r.method for r in emu.requests] == ["PATCH", "POST", "GET"]
    assert emu.requests[0].body == b'{"name":"x"}'
    assert len({r.connection_id for r in emu.requests}) == 1  # keep-alive across all three


def test_put_replace_and_remove(emu: Emulator, client: httpx.Client) -> None:
    emu.put(make_deployment("mi_1", "dep_1", status="FAILED", deployment_metadata=OMIT))
    body = client.get(dep_path("mi_1", "dep_1")).json()
    assert body["status"] == "FAILED"
    assert "deployment_metadata" not in body
    assert emu.get("mi_1", "dep_1") == body
    emu.remove("mi_1", "dep_1")
    assert client.get(dep_path("mi_1", "dep_1")).status_code == 404
    assert emu.get("mi_1", "dep_1") is None


def test_put_under_explicit_key(emu: Emulator, client: httpx.Client) -> None:
    body = make_deployment("mi_other", "dep_other", model_instance_id=None)
    emu.put(body, model_instance_id="mi_9", deployment_id="dep_9")
    assert client.get(dep_path("mi_9", "dep_9")).json() == body
    with pytest.raises(ValueError):
        emu.put(body)  # no model_instance_id anywhere


def test_make_deployment_vendor_configuration() -> None:
    body = make_deployment("mi", "dep")
    assert body["vendor_configuration"]["vendor"] == "LLMENGINE"
    required = {"name", "id", "created_at", "account_id", "created_by_user_id"}
    assert required | {"created_by_identity_type", "status"} <= body.keys()
    assert make_deployment("mi", "dep", vendor_configuration=None)["vendor_configuration"] is None
    assert "vendor_configuration" not in make_deployment("mi", "dep", vendor_configuration=OMIT)


# -- lists -----------------------------------------------------------------------------------------


def test_list_pagination() -> None:
    deployments = [make_deployment("mi_a", f"dep_{i}") for i in range(250)]
    deployments.append(make_deployment("mi_b", "dep_x"))
    with Emulator(deployments) as emu, http(emu.url) as client:
        pages = [
            client.get("/v4/models/mi_a/deployments", params={"page": p}).json()
            for p in (1, 2, 3, 4)
        ]
        assert [len(p["items"]) for p in pages] == [100, 100, 50, 0]
        assert [p["current_page"] for p in pages] == [1, 2, 3, 4]
        assert {p["total_item_count"] for p in pages} == {250}
        assert {p["items_per_page"] for p in pages} == {100}
        ids = [item["id"] for p in pages for item in p["items"]]
        assert ids == [f"dep_{i}" for i in range(250)]

        default = client.get("/v4/models/mi_a/deployments").json()
        assert default["current_page"] == 1
        assert default["items"] == pages[0]["items"]

        everything = client.get("/v4/model-deployments", params={"limit": 10000}).json()
        assert everything["total_item_count"] == 251
        assert everything["items"][-1]["id"] == "dep_x"
        small = client.get("/v4/model-deployments", params={"limit": 7, "page": 3}).json()
        assert [i["id"] for i in small["items"]] == [f"dep_{i}" for i in range(14, 21)]


def test_empty_list(client: httpx.Client) -> None:
    body = client.get("/v4/models/mi_none/deployments").json()
    assert body == {"current_page": 1, "items": [], "items_per_page": 100, "total_item_count": 0}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": "10001"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
    ],
)
def test_list_validation_errors(client: httpx.Client, params: dict[str, str], loc: str) -> None:
    response = client.get("/v4/model-deployments", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", loc]


def test_list_account_filter() -> None:
    deployments = [
        make_deployment("mi_1", "a1", account_id="acct_a"),
        make_deployment("mi_1", "b1", account_id="acct_b"),
        make_deployment("mi_2", "a2", account_id="acct_a"),
    ]
    with Emulator(deployments) as emu, http(emu.url) as client:
        body = client.get("/v4/model-deployments", params={"account_id": "acct_a"}).json()
        assert [i["id"] for i in body["items"]] == ["a1", "a2"]
        assert body["total_item_count"] == 2
        per_model = client.get("/v4/models/mi_1/deployments", params={"account_id": "acct_b"})
        assert [i["id"] for i in per_model.json()["items"]] == ["b1"]


# -- path decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_mi", "raw_dep", "mi", "dep"),
    [
        ("mi_1", "a%2Fb%3Fc", "mi_1", "a/b?c"),
        ("%2E%2E", "x", "..", "x"),
        ("mi_1", "%252e", "mi_1", "%2e"),
        ("sp%20ace", "%23frag%25", "sp ace", "#frag%"),
        ("%C3%BCmlaut", "dep_1", "\u00fcmlaut", "dep_1"),
    ],
)
def test_segments_are_decoded_once_after_splitting(
    emu: Emulator, client: httpx.Client, raw_mi: str, raw_dep: str, mi: str, dep: str
) -> None:
    emu.put(make_deployment(mi, dep))
    raw_path = f"/v4/models/{raw_mi}/deployments/{raw_dep}"
    response = client.get(raw_path)
    assert response.status_code == 200
    assert response.json()["id"] == dep
    (recorded,) = emu.requests_for(mi, dep)
    assert recorded.raw_path == raw_path
    assert recorded.route == ("deployment", mi, dep)


def test_unencoded_slash_changes_the_route(emu: Emulator, client: httpx.Client) -> None:
    emu.put(make_deployment("mi_1", "a/b"))
    assert client.get("/v4/models/mi_1/deployments/a/b").status_code == 404
    assert emu.requests[-1].route is None


def test_query_is_recorded_separately(emu: Emulator, client: httpx.Client) -> None:
    client.get(dep_path("mi_1", "dep_1") + "?x=1&y=%2F&empty=")
    (recorded,) = emu.requests
    assert recorded.path == dep_path("mi_1", "dep_1")
    assert recorded.raw_path == dep_path("mi_1", "dep_1") + "?x=1&y=%2F&empty="
    assert recorded.query == {"x": "1", "y": "/", "empty": ""}


# -- scripted faults -------------------------------------------------------------------------------


def test_scripted_replies_are_consumed_in_order(emu: Emulator, client: httpx.Client) -> None:
    emu.script(
        "mi_1",
        "dep_1",
        Reply(status=503, body={"detail": "busy"}, headers={"retry-after": "0"}),
        Reply(status=200, body="not json", content_type="text/plain"),
        Reply(status=200, body=[1, 2]),
        Reply(),
        Reply(status=204),
    )
    first = client.get(dep_path("mi_1", "dep_1"))
    assert (first.status_code, first.json()) == (503, {"detail": "busy"})
    assert first.headers["retry-after"] == "0"
    second = client.get(dep_path("mi_1", "dep_1"))
    assert (second.text, second.headers["content-type"]) == ("not json", "text/plain")
    assert client.get(dep_path("mi_1", "dep_1")).json() == [1, 2]
    assert client.get(dep_path("mi_1", "dep_1")).json()["id"] == "dep_1"  # Reply(): stored body
    no_content = client.get(dep_path("mi_1", "dep_1"))
    assert (no_content.status_code, no_content.content) == (204, b"")
    # Exhausted: normal behaviour again, and other deployments were never affected.
    assert client.get(dep_path("mi_1", "dep_1")).json() == make_deployment("mi_1", "dep_1")
    assert len(emu.requests_for("mi_1", "dep_1")) == 6


def test_scripted_200_without_body_for_absent_deployment_is_404(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.script("mi_1", "ghost", Reply())
    assert client.get(dep_path("mi_1", "ghost")).status_code == 404


def test_scripted_list_pages(emu: Emulator, client: httpx.Client) -> None:
    emu.script_list(None, 1, Reply(status=500))
    emu.script_list("mi_1", 2, Reply(status=200, body={"items": "garbage"}))
    assert client.get("/v4/model-deployments").status_code == 500
    assert client.get("/v4/model-deployments").json()["total_item_count"] == 2
    assert client.get("/v4/models/mi_1/deployments").json()["total_item_count"] == 2
    page2 = client.get("/v4/models/mi_1/deployments", params={"page": 2})
    assert page2.json() == {"items": "garbage"}
    assert client.get("/v4/models/mi_1/deployments", params={"page": 2}).json()["items"] == []


def test_reset_is_a_transport_error(emu: Emulator, client: httpx.Client) -> None:
    emu.script("mi_1", "dep_1", Reply(reset=True))
    with pytest.raises(httpx.TransportError):
        client.get(dep_path("mi_1", "dep_1"))
    assert client.get(dep_path("mi_1", "dep_1")).status_code == 200


def test_truncate_is_a_protocol_error(emu: Emulator, client: httpx.Client) -> None:
    emu.script("mi_1", "dep_1", Reply(truncate=True))
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(dep_path("mi_1", "dep_1"))
    assert client.get(dep_path("mi_1", "dep_1")).status_code == 200


def test_delay_outlasts_client_timeout(emu: Emulator) -> None:
    emu.script("mi_1", "dep_1", Reply(delay=60))
    with http(emu.url, timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get(dep_path("mi_1", "dep_1"))
        assert client.get(dep_path("mi_1", "dep_1")).status_code == 200


def test_latency_applies_to_every_request(emu: Emulator) -> None:
    emu.latency = 60
    with http(emu.url, timeout=0.05) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/nowhere")
        with pytest.raises(httpx.ReadTimeout):
            client.get(dep_path("mi_1", "dep_1"))


def test_redirect_to_another_host_can_be_observed(emu: Emulator) -> None:
    with Emulator(host="127.0.0.2", port=0) as other:
        assert other.url.startswith("http://127.0.0.2:")
        emu.script(
            "mi_1",
            "dep_1",
            Reply(status=302, headers={"location": f"{other.url}/stolen"}),
        )
        headers = {"x-api-key": "secret"}
        with http(emu.url, headers=headers, follow_redirects=True) as client:
            assert client.get(dep_path("mi_1", "dep_1")).status_code == 404
        (leaked,) = other.requests
        assert leaked.path == "/stolen"
        assert leaked.headers["x-api-key"] == "secret"


def test_emulator_refuses_non_loopback_hosts() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")


# -- auth ------------------------------------------------------------------------------------------


def test_api_key_and_account() -> None:
    deployment = make_deployment("mi_1", "dep_1")
    with (
        Emulator([deployment], api_key="k", account_ids=["acct_1"]) as emu,
        http(emu.url) as client,
    ):
        path = dep_path("mi_1", "dep_1")
        missing = client.get(path)
        assert (missing.status_code, missing.json()) == (401, {"detail": "Unauthorized"})
        assert client.get(path, headers={"x-api-key": "wrong"}).status_code == 401
        assert client.get(path, headers={"x-api-key": "k"}).status_code == 200
        forbidden = client.get(path, headers={"x-api-key": "k", "x-selected-account-id": "acct_2"})
        assert (forbidden.status_code, forbidden.json()) == (403, {"detail": "Forbidden"})
        allowed = client.get(path, headers={"x-api-key": "k", "x-selected-account-id": "acct_1"})
        assert allowed.status_code == 200
        assert client.get("/v4/model-deployments").status_code == 401

        emu.script("mi_1", "dep_1", Reply(status=401, body={"detail": "expired"}), Reply())
        scripted = client.get(path, headers={"x-api-key": "k"})
        assert (scripted.status_code, scripted.json()) == (401, {"detail": "expired"})
        assert client.get(path).status_code == 200  # a scripted reply skips the auth checks


# -- recording -------------------------------------------------------------------------------------


def test_requests_are_recorded(emu: Emulator, client: httpx.Client) -> None:
    client.get(dep_path("mi_1", "dep_1"), headers={"X-Api-Key": "k", "X-Custom-Thing": "v"})
    client.get("/v4/models/mi_1/deployments", params={"page": "2"})
    client.get("/v4/model-deployments")
    first, second, third = emu.requests
    assert first.method == "GET"
    assert first.headers["x-api-key"] == "k"
    assert first.headers["x-custom-thing"] == "v"
    assert all(name == name.lower() for name in first.headers)
    assert first.route == ("deployment", "mi_1", "dep_1")
    assert second.route == ("list", "mi_1")
    assert second.query == {"page": "2"}
    assert third.route == ("list_all",)
    assert first.time <= second.time <= third.time
    assert emu.requests_for("mi_1", "dep_1") == [first]
    assert emu.requests_for("mi_1", "dep_2") == []
    emu.clear_requests()
    assert emu.requests == []


def test_connection_close_is_honoured(emu: Emulator, client: httpx.Client) -> None:
    response = client.get(dep_path("mi_1", "dep_1"), headers={"connection": "close"})
    assert response.headers["connection"] == "close"
    client.get(dep_path("mi_1", "dep_1"))
    first, second = emu.requests
    assert first.connection_id != second.connection_id


def test_restart_keeps_the_port() -> None:
    emu = Emulator([make_deployment("mi_1", "dep_1")])
    with emu:
        url = emu.url
    with emu, http(emu.url) as client:
        assert emu.url == url
        assert client.get(dep_path("mi_1", "dep_1")).status_code == 200


# -- generated data and separate-process mode ------------------------------------------------------


def test_generate_deployments_is_deterministic() -> None:
    deployments = generate_deployments(250)
    assert deployments == generate_deployments(250)
    assert [d["id"] for d in deployments[:3]] == ["dep_0", "dep_1", "dep_2"]
    assert deployments[199]["model_instance_id"] == "mi_1"
    assert deployments[200]["model_instance_id"] == "mi_2"
    vendors = {d["vendor_configuration"]["vendor"] for d in deployments}
    assert vendors == {"LAUNCH", "LLMENGINE"}
    assert len({(d["model_instance_id"], d["id"]) for d in deployments}) == 250
    json.dumps(deployments, allow_nan=False)


def _start_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(EMULATOR_SCRIPT), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_separate_process_serves_until_terminated() -> None:
    with _start_process("--deployments", "150", "--latency", "0", "--port", "0") as proc:
        assert proc.stdout is not None
        try:
            line = proc.stdout.readline()
            assert line.startswith("READY http://127.0.0.1:")
            url = line.split()[1]
            with http(url, timeout=5.0) as client:
                response = client.get(dep_path("mi_1", "dep_123"))
                assert response.json() == generate_deployments(150)[123]
        finally:
            proc.terminate()
            assert proc.wait(timeout=10) == 0


def test_separate_process_reports_requests_served_on_exit() -> None:
    """The benchmark counts requests per run from the last line (recording is off there)."""
    with _start_process("--deployments", "150") as proc:
        assert proc.stdout is not None
        try:
            url = proc.stdout.readline().split()[1]
            with http(url, timeout=5.0) as client:
                assert client.get(dep_path("mi_1", "dep_123")).status_code == 200
                assert client.get(dep_path("mi_1", "dep_404")).status_code == 404
                assert client.get("/v4/models/mi_0/deployments", params={"limit": 5}).is_success
        finally:
            proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read().splitlines() == ["REQUESTS 3"]


def test_separate_process_stops_when_stdin_closes() -> None:
    with _start_process("--deployments", "1") as proc:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().startswith("READY ")
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read().strip() == "REQUESTS 0"
