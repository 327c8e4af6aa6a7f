"""notify.py: option parsing, when to notify, the two bodies, and redaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from driftcheck.baseline import Baseline, mark
from driftcheck.notify import (
    NotifyOptionError,
    Target,
    _redact,
    change_of,
    parse_target,
    should_notify,
    slack_body,
    webhook_body,
)
from driftcheck.result import (
    BaselineEntry,
    DeploymentResult,
    Difference,
    DiffKind,
    EntryKey,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)

NOW = dt.datetime(2026, 11, 27, 4, 0, 0, tzinfo=dt.timezone.utc)
HERE = SourceLocation("m.yaml", 3)
DRIFTED = DeploymentResult(
    "mi_1",
    "dep_a",
    "alpha",
    HERE,
    Status.DRIFTED,
    differences=(Difference("vendor_configuration.max_workers", DiffKind.CHANGED, 4, 2, 5),),
)
BROKEN = DeploymentResult(
    "mi_1", "dep_b", None, HERE, Status.ERROR, error=ErrorInfo(ErrorKind.TIMEOUT, "timed out")
)
IN_SYNC = DeploymentResult("mi_1", "dep_c", None, HERE, Status.IN_SYNC)


def run(*deployments: DeploymentResult) -> RunResult:
    return RunResult(deployments, NOW, NOW)


def with_baseline(result: RunResult, *keys: EntryKey) -> RunResult:
    baseline = Baseline(
        "old.json", "2026-11-26T04:00:00Z", {k: BaselineEntry(k, "x") for k in keys}
    )
    marks = mark(result.deployments, result.unmanaged, baseline, "2026-11-27T04:00:00Z")
    return dataclasses.replace(result, marks=marks)


A_KEY = EntryKey.difference("mi_1", "dep_a", "vendor_configuration.max_workers", DiffKind.CHANGED)
B_KEY = EntryKey.error("mi_1", "dep_b", ErrorKind.TIMEOUT)


@pytest.mark.parametrize(
    ("value", "url"),
    [
        (
            "slack=https://hooks.example.com/services/T/B/x",
            "https://hooks.example.com/services/T/B/x",
        ),
        ("webhook=http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
        ("webhook=http://[::1]:8080/x?a=b=c", "http://[::1]:8080/x?a=b=c"),
        ("webhook=env:HOOK", "https://from.env/secret"),
    ],
)
def test_parse_target(value: str, url: str) -> None:
    target = parse_target(value, {"HOOK": "https://from.env/secret"})
    assert target.url == url
    assert url not in repr(target)


def test_parse_target_refuses_plain_http_elsewhere() -> None:
    with pytest.raises(NotifyOptionError) as caught:
        parse_target("slack=http://10.0.0.8/hooks/s3cret", {})
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://[bad/s3cret",
        "https://exa mple.com/s3cret",
        "https://a..b/s3cret",
        "https://[::zz]/s3cret",
        "https://host%2Fname/s3cret",
    ],
)
def test_parse_target_refuses_a_bad_host_before_any_request(url: str) -> None:
    """httpx percent-encodes such a host instead of refusing it; delivery would then look the
    garbage up in DNS at the end of the run instead of a usage error at the start."""
    with pytest.raises(NotifyOptionError, match="not a valid URL") as caught:
        parse_target(f"webhook={url}", {})
    assert "s3cret" not in str(caught.value)


def test_parse_target_accepts_names_and_addresses() -> None:
    for url in ("https://xn--bcher-kva.example/x", "https://hooks.slack.com./x", "http://[::1]/x"):
        assert parse_target(f"slack={url}", {}).url == url
    assert parse_target("slack=https://bücher.example/x", {}).kind == "slack"


def test_first_run_notifies_on_any_finding() -> None:
    assert should_notify(change_of(run(DRIFTED)), "change")
    assert should_notify(change_of(run(BROKEN)), "change")
    assert not should_notify(change_of(run(IN_SYNC)), "change")
    assert should_notify(change_of(run(IN_SYNC)), "always")


def test_change_against_a_baseline() -> None:
    same = with_baseline(run(DRIFTED, BROKEN), A_KEY, B_KEY)
    assert not should_notify(change_of(same), "change")
    fixed = dataclasses.replace(DRIFTED, status=Status.IN_SYNC, differences=())
    resolved = with_baseline(run(fixed, BROKEN), A_KEY, B_KEY)
    change = change_of(resolved)
    assert should_notify(change, "change") and change.new == () and len(change.resolved) == 1
    new_error = with_baseline(run(DRIFTED, BROKEN), A_KEY)
    change = change_of(new_error)
    assert [item["type"] for item in change.new] == ["error"]
    assert change.errors[0]["state"] == "new"


def test_webhook_body() -> None:
    result = with_baseline(run(DRIFTED, BROKEN, IN_SYNC), B_KEY)
    body = webhook_body(result, change_of(result), "https://ci/run")
    assert body == {
        "notification_version": 1,
        "summary": {"total": 3, "in_sync": 1, "drifted": 1, "missing": 0, "error": 1},
        "new": [
            {
                "type": "difference",
                "model_instance_id": "mi_1",
                "deployment_id": "dep_a",
                "name": "alpha",
                "path": "vendor_configuration.max_workers",
                "kind": "changed",
                "desired": 4,
                "live": 2,
            }
        ],
        "resolved": [],
        "errors": [
            {
                "model_instance_id": "mi_1",
                "deployment_id": "dep_b",
                "name": None,
                "kind": "timeout",
                "message": "timed out",
                "http_status": None,
                "state": "persisting",
            }
        ],
        "report_url": "https://ci/run",
    }


def test_sensitive_values_never_reach_a_body() -> None:
    @dataclasses.dataclass(frozen=True)
    class SensitiveDifference(Difference):
        sensitive: bool = True

    secret = SensitiveDifference(
        "deployment_metadata.hf_token", DiffKind.CHANGED, "hf_AAA", "hf_BBB", 9
    )
    result = run(dataclasses.replace(DRIFTED, differences=(secret,)))
    change = change_of(result)
    for body in (webhook_body(result, change, None), slack_body(result, change, None)):
        text = repr(body)
        assert "hf_AAA" not in text and "hf_BBB" not in text
    assert change.new[0]["desired"] == {"sensitive": True}


def test_slack_body_without_link() -> None:
    result = run(DRIFTED)
    body = slack_body(result, change_of(result), None)
    assert body["text"].startswith("driftcheck: 1 new, 0 resolved.")
    assert body["blocks"][0]["type"] == "header"
    assert not any("Open the report" in repr(block) for block in body["blocks"])
    listing = body["blocks"][2]["text"]["text"]
    assert listing == (
        "*Findings (first run, no baseline) (1)*\n"
        "• alpha (mi_1/dep_a): vendor_configuration.max_workers 4 -&gt; 2"
    )


def test_redact_removes_url_and_path() -> None:
    url = "https://hooks.example.com/services/T0/B0/XyZsecret"
    text = f"failed for {url} and /services/T0/B0/XyZsecret"
    assert "XyZsecret" not in _redact(text, url)
    assert Target("slack", url).label == "slack notification"
