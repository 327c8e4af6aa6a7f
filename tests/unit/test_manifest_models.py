"""The vendor models are generated from spec's table: a field there is a field here."""

from __future__ import annotations

from typing import Any

import pytest

from driftcheck import spec
from driftcheck.manifest.models import KINDS, VENDOR_MODELS, json_schema


@pytest.mark.parametrize("vendor", spec.VENDORS)
def test_every_spec_field_is_a_model_field_in_order(vendor: str) -> None:
    fields = VENDOR_MODELS[vendor].model_fields
    assert list(fields) == ["vendor", *spec.VENDOR_FIELDS[vendor]]
    for name, field in spec.VENDOR_FIELDS[vendor].items():
        described = fields[name].description or ""
        assert ("default" in described) is field.has_default


def test_schema_describes_the_defaults_from_the_table() -> None:
    defs = json_schema()["$defs"]
    llm = defs["LLMEngineVendorConfiguration"]["properties"]
    assert llm["memory"]["description"] == "default 8Gi"
    assert llm["high_priority"]["description"] == "default false"
    assert llm["gpu_type"]["description"] == "compared only when declared"
    assert defs["LaunchVendorConfiguration"]["properties"]["vendor"]["const"] == "LAUNCH"


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        ("int", 4, None),
        ("int", 4.0, None),
        ("int", 4.5, "not a whole number"),
        ("int", True, "not a whole number"),
        ("quantity", "8Gi", None),
        ("quantity", float("nan"), "not a finite number"),
        ("quantity", [1], "not a quantity such as '8Gi' (a string) or a number"),
        ("bool", "yes", "not true or false"),
        ("gpu_type", "nvidia-ampere-a10", None),
        ("gpu_type", "nvidia-quantum", "not one of " + ", ".join(spec.GPU_TYPES)),
        ("str", 7, "not a string"),
    ],
)
def test_kind_rules(kind: str, value: Any, why: str | None) -> None:
    assert KINDS[kind].why_not(value) == why
