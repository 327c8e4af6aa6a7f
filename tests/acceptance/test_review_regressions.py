"""Regressions found by the adversarial review: each test failed before its fix."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator import Emulator, Reply, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    deployment_metadata: {a: 1}
  - model_instance_id: mi_1
    deployment_id: dep_2
"""


def _nested(depth: int) -> str:
    return '{"b":' * depth + "1" + "}" * depth


def test_deeply_nested_live_body_is_one_error_not_a_crashed_run(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    # 300 levels is valid JSON that the decoder accepts, but comparing it used to raise
    # RecursionError and abort the whole run without any report.
    emulator.put(make_deployment("mi_1", "dep_1"))
    emulator.put(make_deployment("mi_1", "dep_2"))
    body = make_deployment("mi_1", "dep_1")
    body.pop("deployment_metadata")
    raw = json.dumps(body)[:-1] + ', "deployment_metadata": {"a": ' + _nested(300) + "}}"
    emulator.script("mi_1", "dep_1", Reply(body=raw))
    result = run_check("--format", "json", manifest(MANIFEST))
    assert result.code == 1
    report = json.loads(result.stdout)
    first, second = report["deployments"]
    assert first["status"] == "error"
    assert first["error"]["kind"] == "invalid_response"
    assert "nested deeper" in first["error"]["message"]
    assert second["status"] == "in_sync"  # the other deployment is still checked


def test_deep_nesting_in_a_field_never_compared_is_tolerated(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    """Unknown live fields are never reported, so their depth does not matter either."""
    emulator.put(make_deployment("mi_1", "dep_1"))
    emulator.put(make_deployment("mi_1", "dep_2"))
    body = make_deployment("mi_1", "dep_1")
    raw = json.dumps(body)[:-1] + ', "x_unknown": {"a": ' + _nested(300) + "}}"
    emulator.script("mi_1", "dep_1", Reply(body=raw))
    result = run_check("--format", "json", "--strict", manifest(MANIFEST))
    report = json.loads(result.stdout)
    assert report["deployments"][0]["error"] is None


def test_moderately_nested_live_body_is_still_compared(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(
        make_deployment("mi_1", "dep_1", deployment_metadata={"a": json.loads(_nested(100))})
    )
    emulator.put(make_deployment("mi_1", "dep_2"))
    result = run_check("--format", "json", "--strict", manifest(MANIFEST))
    report = json.loads(result.stdout)
    assert result.code == 2
    # Neither deployment declares a vendor_configuration, so --strict also reports the set
    # no-default fields of the live one (llmengine_config) as extra_live, on both.
    vendor_extras = [
        ("vendor_configuration.gpu_type", "extra_live"),
        ("vendor_configuration.inference_framework_image_tag", "extra_live"),
        ("vendor_configuration.model_name", "extra_live"),
    ]
    first, second = report["deployments"]
    assert [d["status"] for d in report["deployments"]] == ["drifted", "drifted"]
    assert [(d["path"], d["kind"]) for d in first["differences"]] == [
        ("deployment_metadata.a", "changed"),
        *vendor_extras,
    ]
    assert first["differences"][0]["live"] == json.loads(_nested(100))
    assert [(d["path"], d["kind"]) for d in second["differences"]] == vendor_extras
