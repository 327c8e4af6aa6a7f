"""Pure parts of live/: retry decisions, settings checks, JSON strictness, redaction."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from driftcheck.live.bodies import JsonProblem, parse_json
from driftcheck.live.records import SourceError
from driftcheck.live.redact import Redactor
from driftcheck.live.retry import backoff_delay, retry_after, should_retry
from driftcheck.live.settings import HttpSettings, check_settings
from driftcheck.live.snapshot import SnapshotSource


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1e400"}, None),  # not the cap on every attempt
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "-5"}, None),  # not a delay a server can mean
        ({"retry-after": "999"}, None),  # beyond the cap: backoff, not the cap every time
        ({"retry-after": "99999999999"}, None),
        ({"retry-after": "60"}, 60.0),
        ({"retry-after-ms": "-100"}, None),
        ({"retry-after-ms": "61000", "retry-after": "2"}, 2.0),
        ({"retry-after": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0),  # a past date is "now"
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "1e400", "retry-after": "2"}, 2.0),
        ({"retry-after-ms": "soon"}, None),
        ({"retry-after": "Fri, 27 Nov 2026 21:00:10 GMT"}, 10.0),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = 1_795_813_200.0  # 2026-11-27T21:00:00Z
    assert retry_after(headers, 60.0, now=now) == expected


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (503, {}, True),
        (429, {}, True),
        (409, {}, True),
        (400, {}, False),
        (400, {"x-should-retry": "true"}, True),
        (503, {"x-should-retry": "false"}, False),
    ],
)
def test_should_retry(status: int, headers: dict[str, str], expected: bool) -> None:
    assert should_retry(status, headers) is expected


def test_backoff_doubles_to_its_ceiling_with_jitter() -> None:
    assert [backoff_delay(n, 0.5, 8.0, 0.0) for n in (1, 2, 3, 6)] == [0.5, 1.0, 2.0, 8.0]
    assert backoff_delay(1, 0.5, 8.0, 0.999) == pytest.approx(0.375, abs=1e-3)


@pytest.mark.parametrize(
    "changes",
    [
        {"timeout": math.nan},
        {"timeout": math.inf},
        {"timeout": 0.0},
        {"backoff": math.nan},
        {"backoff": -1.0},
        {"max_rps": 0},
    ],
)
def test_unusable_numbers_are_refused(changes: dict[str, float]) -> None:
    settings = HttpSettings(base_url="http://127.0.0.1:1", api_key="k" * 12, **changes)  # type: ignore[arg-type]
    with pytest.raises(SourceError):
        check_settings(settings)


@pytest.mark.parametrize("text", ["NaN", "-Infinity", "1e400", "[1e999]"])
def test_json_is_strict_about_non_finite_numbers(text: str) -> None:
    with pytest.raises(JsonProblem):
        parse_json(text.encode())


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '[{"x": {"b": 1, "b": 1}}]'])
def test_json_refuses_a_repeated_key(text: str) -> None:
    with pytest.raises(JsonProblem, match="repeats a key"):
        parse_json(text.encode())


def test_json_keeps_ordinary_numbers() -> None:
    assert parse_json(b'{"a": 1.5, "b": 10, "c": -0.0}') == {"a": 1.5, "b": 10, "c": -0.0}


def test_redactor_masks_keys_and_values_and_escaped_spellings() -> None:
    redactor = Redactor(["sk-secret-123", ""])
    raw = b'{"sk-secret-123": "a sk-secret-123 b", "x": ["\\u0073k-secret-123"], "n": 1}'
    value = parse_json(raw)
    assert redactor.body(value, raw) == {"***": "a *** b", "x": ["***"], "n": 1}
    clean = b'{"a": "b"}'
    parsed = parse_json(clean)
    assert redactor.body(parsed, clean) is parsed  # nothing to mask: not even walked
    assert redactor.text("HTTP 422: sk-secret-123") == "HTTP 422: ***"


def test_redactor_masks_a_key_in_another_case() -> None:
    # a URL's host comes back lowercased: a key echoed as a redirect host must not leak
    redactor = Redactor(["sk-Secret-ABC123"])
    assert redactor.text("to http://sk-secret-abc123.example") == "to http://***.example"
    raw = b'{"note": "SK-SECRET-ABC123"}'
    assert redactor.body(parse_json(raw), raw) == {"note": "***"}


def test_snapshot_with_a_nan_is_refused_not_compared(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(
        '{"snapshot_version": 1, "deployments": [{"model_instance_id": "mi", '
        '"deployment_id": "d", "http_status": 200, "body": {"x": NaN}}]}'
    )
    with pytest.raises(SourceError, match="NaN is not a JSON value"):
        SnapshotSource(str(snap))
