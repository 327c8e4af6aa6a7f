"""Desired vs live: manifests are loaded from YAML text, live bodies are plain dicts."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from driftcheck import spec
from driftcheck.diff import compare
from driftcheck.ignore import IgnorePolicy, IgnoreRule, Source, Tally
from driftcheck.manifest import DesiredDeployment, load_manifests
from driftcheck.paths import parse_pattern
from driftcheck.result import Difference, DiffKind

CHANGED, MISSING, EXTRA = DiffKind.CHANGED, DiffKind.MISSING_LIVE, DiffKind.EXTRA_LIVE
DEPLOYMENT_LINE = 3
_counter = itertools.count()


def desired(tmp_path: Path, body: str, top: str = "") -> DesiredDeployment:
    """One deployment on line 3; ``body`` holds its further keys (indented 4), from line 5."""
    text = (
        "version: 1\n"
        f"{top}"
        "deployments:\n"
        "  - model_instance_id: mi\n"
        "    deployment_id: dep\n" + "".join(f"    {line}\n" for line in body.splitlines())
    )
    path = tmp_path / f"m{next(_counter)}.yaml"
    path.write_text(text, encoding="utf-8")
    (deployment,) = load_manifests([str(path)]).deployments
    return deployment


def live(**fields: Any) -> dict[str, Any]:
    return {"id": "dep", "model_instance_id": "mi", "name": "whatever", **fields}


def diffs(
    tmp_path: Path,
    body: str,
    live_body: dict[str, Any],
    *,
    strict: bool = False,
    ignore: tuple[str, ...] = (),
    top: str = "",
) -> list[tuple[str, DiffKind, Any, Any, int]]:
    deployment = desired(tmp_path, body, top)
    options = tuple(IgnoreRule(parse_pattern(p), Source.OPTION) for p in ignore)
    tally = Tally(IgnorePolicy(options=options), (deployment,))
    found = tally.filter(deployment, compare(deployment, live_body, strict=strict))
    assert all(isinstance(d, Difference) for d in found)
    return [(d.path, d.kind, d.desired, d.live, d.line) for d in found]


def other_value(field: spec.VendorField) -> Any:
    if field.kind == "bool":
        return not field.default
    if field.kind == "quantity":
        return "1Ti"
    return field.default + 5


DEFAULTED = [
    (vendor, name, field)
    for vendor, fields in spec.VENDOR_FIELDS.items()
    for name, field in fields.items()
    if field.has_default
]
NO_DEFAULT = [
    name for name, field in spec.VENDOR_FIELDS[spec.LLMENGINE].items() if not field.has_default
]
NO_DEFAULT_VALUES = {
    "gpu_type": ("nvidia-ampere-a100", "nvidia-hopper-h100"),
    "checkpoint_path": ("s3://a/", "s3://b/"),
    "model_name": ("llama", "mistral"),
    "base_model_name": ("llama", "mistral"),
    "inference_framework_image_tag": ("0.9.4", "0.9.5"),
}
DEFAULT_IDS = [f"{vendor}.{name}" for vendor, name, _ in DEFAULTED]


def test_the_tables_cover_the_contract() -> None:
    assert {name: f.default for name, f in spec.VENDOR_FIELDS[spec.LAUNCH].items()} == {
        "min_workers": 0,
        "max_workers": 1,
        "per_worker": 10,
    }
    defaults = {
        n: f.default for n, f in spec.VENDOR_FIELDS[spec.LLMENGINE].items() if f.has_default
    }
    assert defaults == {
        "cpus": 3,
        "memory": "8Gi",
        "storage": "16Gi",
        "gpus": 0,
        "min_workers": 0,
        "max_workers": 1,
        "per_worker": 10,
        "high_priority": False,
        "num_shards": 4,
    }
    assert sorted(NO_DEFAULT) == sorted(NO_DEFAULT_VALUES)


# ---------------------------------------------------------------------------------------------
# Vendor defaults


@pytest.mark.parametrize(("vendor", "name", "field"), DEFAULTED, ids=DEFAULT_IDS)
def test_omitted_field_equals_live_default(
    tmp_path: Path, vendor: str, name: str, field: spec.VendorField
) -> None:
    body = f"vendor_configuration:\n  vendor: {vendor}"
    assert (
        diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor, name: field.default}))
        == []
    )
    assert diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor})) == []


@pytest.mark.parametrize(("vendor", "name", "field"), DEFAULTED, ids=DEFAULT_IDS)
def test_omitted_field_drifts_from_another_live_value(
    tmp_path: Path, vendor: str, name: str, field: spec.VendorField
) -> None:
    body = f"vendor_configuration:\n  vendor: {vendor}"
    value = other_value(field)
    assert diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor, name: value})) == [
        (f"vendor_configuration.{name}", CHANGED, field.default, value, DEPLOYMENT_LINE)
    ]


@pytest.mark.parametrize(("vendor", "name", "field"), DEFAULTED, ids=DEFAULT_IDS)
def test_declared_default_equals_omitted_live_field(
    tmp_path: Path, vendor: str, name: str, field: spec.VendorField
) -> None:
    default = str(field.default).lower() if field.kind == "bool" else field.default
    body = f"vendor_configuration:\n  vendor: {vendor}\n  {name}: {default}"
    assert diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor})) == []
    assert diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor, name: None})) == []


@pytest.mark.parametrize(("vendor", "name", "field"), DEFAULTED, ids=DEFAULT_IDS)
def test_declared_value_drifts_from_omitted_live_field(
    tmp_path: Path, vendor: str, name: str, field: spec.VendorField
) -> None:
    value = other_value(field)
    written = str(value).lower() if field.kind == "bool" else value
    body = f"vendor_configuration:\n  vendor: {vendor}\n  {name}: {written}"
    assert diffs(tmp_path, body, live(vendor_configuration={"vendor": vendor})) == [
        (f"vendor_configuration.{name}", CHANGED, value, field.default, 7)
    ]


# ---------------------------------------------------------------------------------------------
# Fields without a default


@pytest.mark.parametrize("name", NO_DEFAULT)
def test_no_default_field_compared_only_when_declared(tmp_path: Path, name: str) -> None:
    ours, theirs = NO_DEFAULT_VALUES[name]
    plain = "vendor_configuration:\n  vendor: LLMENGINE"
    declared = f"{plain}\n  {name}: '{ours}'"

    def vc(**extra: Any) -> dict[str, Any]:
        return live(vendor_configuration={"vendor": "LLMENGINE", **extra})

    assert diffs(tmp_path, plain, vc(**{name: theirs})) == []
    assert diffs(tmp_path, plain, vc()) == []
    assert diffs(tmp_path, declared, vc(**{name: ours})) == []
    assert diffs(tmp_path, declared, vc(**{name: theirs})) == [
        (f"vendor_configuration.{name}", CHANGED, ours, theirs, 7)
    ]
    missing = [(f"vendor_configuration.{name}", MISSING, ours, None, 7)]
    assert diffs(tmp_path, declared, vc()) == missing
    assert diffs(tmp_path, declared, vc(**{name: None})) == missing


# ---------------------------------------------------------------------------------------------
# Vendor as a whole


LLM_LIVE = {
    "vendor": "LLMENGINE",
    "cpus": 12,
    "memory": "1Ti",
    "gpus": 8,
    "gpu_type": "nvidia-tesla-t4",
    "max_workers": 9,
}


def test_vendor_mismatch_is_one_difference(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LAUNCH\n  max_workers: 3"
    assert diffs(tmp_path, body, live(vendor_configuration=LLM_LIVE), strict=True) == [
        ("vendor_configuration.vendor", CHANGED, "LAUNCH", "LLMENGINE", 6)
    ]


def test_vendor_mismatch_the_other_way(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE\n  gpus: 4"
    live_vc = {"vendor": "LAUNCH", "max_workers": 7}
    assert diffs(tmp_path, body, live(vendor_configuration=live_vc)) == [
        ("vendor_configuration.vendor", CHANGED, "LLMENGINE", "LAUNCH", 6)
    ]


def test_live_without_vendor_is_read_as_the_declared_one(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE\n  gpus: 4"
    assert diffs(tmp_path, body, live(vendor_configuration={"gpus": 4})) == []
    assert diffs(tmp_path, body, live(vendor_configuration={"gpus": 2})) == [
        ("vendor_configuration.gpus", CHANGED, 4, 2, 7)
    ]


def test_launch_declared_but_live_has_only_llmengine_fields(tmp_path: Path) -> None:
    # the API sent no vendor: the report says so, and never shows a vendor it did not send
    body = "vendor_configuration:\n  vendor: LAUNCH"
    assert diffs(tmp_path, body, live(vendor_configuration={"num_shards": 2})) == [
        ("vendor_configuration.vendor", DiffKind.MISSING_LIVE, "LAUNCH", None, 6)
    ]


@pytest.mark.parametrize("live_body", [live(vendor_configuration=None), live()])
def test_live_without_vendor_configuration(tmp_path: Path, live_body: dict[str, Any]) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE\n  gpus: 4"
    assert diffs(tmp_path, body, live_body, strict=True) == [
        ("vendor_configuration", MISSING, {"vendor": "LLMENGINE", "gpus": 4}, None, 5)
    ]


def test_undeclared_vendor_configuration_is_compared_only_under_strict(tmp_path: Path) -> None:
    live_body = live(vendor_configuration=LLM_LIVE)
    assert diffs(tmp_path, "name: whatever", live_body) == []
    assert diffs(tmp_path, "name: whatever", live_body, strict=True) == [
        ("vendor_configuration.gpu_type", EXTRA, None, "nvidia-tesla-t4", DEPLOYMENT_LINE)
    ]


# ---------------------------------------------------------------------------------------------
# Quantities


@pytest.mark.parametrize(
    ("declared", "live_value"),
    [
        ("64Gi", "65536Mi"),
        ("64Gi", 68719476736),
        ("68719476736", "64Gi"),
        ("0.5Ti", "512Gi"),
        ("'8 Gi'", "8 Gi"),  # unparseable on both sides: equal as plain strings
    ],
)
def test_quantities_in_sync(tmp_path: Path, declared: str, live_value: Any) -> None:
    body = f"vendor_configuration:\n  vendor: LLMENGINE\n  memory: {declared}"
    vc = {"vendor": "LLMENGINE", "memory": live_value}
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == []


@pytest.mark.parametrize(
    ("declared", "raw", "live_value"),
    [("1G", "1G", "1Gi"), ("1Mi", "1Mi", "1M"), ("'8 Gi'", "8 Gi", "8Gi"), ("8Gi", "8Gi", "8 Gi")],
)
def test_quantities_drift_with_raw_strings(
    tmp_path: Path, declared: str, raw: str, live_value: str
) -> None:
    body = f"vendor_configuration:\n  vendor: LLMENGINE\n  memory: {declared}"
    vc = {"vendor": "LLMENGINE", "memory": live_value}
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == [
        ("vendor_configuration.memory", CHANGED, raw, live_value, 7)
    ]


def test_quantity_defaults_compare_by_value(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE"
    vc = {"vendor": "LLMENGINE", "memory": 8589934592, "storage": "16384Mi"}
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == []


# ---------------------------------------------------------------------------------------------
# Numbers and types


def test_whole_numbers_compare_by_value(tmp_path: Path) -> None:
    body = (
        "vendor_configuration:\n  vendor: LLMENGINE\n  gpus: 4.0\n  cpus: 4\n"
        "model_creation_parameters:\n  a: 4\n  b: [1.0, 2]"
    )
    live_body = live(
        vendor_configuration={"vendor": "LLMENGINE", "gpus": 4, "cpus": 4.0},
        model_creation_parameters={"a": 4.0, "b": [1, 2.0]},
    )
    assert diffs(tmp_path, body, live_body) == []


def test_true_is_not_one(tmp_path: Path) -> None:
    body = "model_creation_parameters:\n  flag: true\n  n: 1"
    live_body = live(model_creation_parameters={"flag": 1, "n": True})
    assert diffs(tmp_path, body, live_body) == [
        ("model_creation_parameters.flag", CHANGED, True, 1, 6),
        ("model_creation_parameters.n", CHANGED, 1, True, 7),
    ]


def test_high_priority_false_is_not_zero(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE"
    vc = {"vendor": "LLMENGINE", "high_priority": 0}
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == [
        ("vendor_configuration.high_priority", CHANGED, False, 0, DEPLOYMENT_LINE)
    ]


def test_number_is_not_its_string(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LAUNCH\n  max_workers: 4"
    vc = {"vendor": "LAUNCH", "max_workers": "4"}
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == [
        ("vendor_configuration.max_workers", CHANGED, 4, "4", 7)
    ]


# ---------------------------------------------------------------------------------------------
# Top-level scalar fields


def test_scalar_fields(tmp_path: Path) -> None:
    body = "name: prod\nstatus: READY\nmodel_endpoint_id: ep_1"
    assert diffs(tmp_path, body, live(name="prod", status="READY", model_endpoint_id="ep_1")) == []
    assert diffs(tmp_path, body, live(name="canary", status="FAILED")) == [
        ("model_endpoint_id", MISSING, "ep_1", None, 7),
        ("name", CHANGED, "prod", "canary", 5),
        ("status", CHANGED, "READY", "FAILED", 6),
    ]


def test_undeclared_scalar_fields_are_not_compared(tmp_path: Path) -> None:
    assert diffs(tmp_path, "", live(status="FAILED", model_endpoint_id="x"), strict=True) == []


# ---------------------------------------------------------------------------------------------
# Free-form maps

MAP = "model_creation_parameters:\n  a: 1\n  nested:\n    b: x\n    c: [1, 2]"
#       line 5                    6       7           8        9


def test_free_form_map_in_sync_ignores_undeclared_live_keys(tmp_path: Path) -> None:
    live_body = live(
        model_creation_parameters={"a": 1, "nested": {"b": "x", "c": [1, 2], "d": 0}, "z": 9}
    )
    assert diffs(tmp_path, MAP, live_body) == []


def test_free_form_map_drift_recurses(tmp_path: Path) -> None:
    live_body = live(model_creation_parameters={"a": 2, "nested": {"b": "y", "c": [1, 2]}})
    assert diffs(tmp_path, MAP, live_body) == [
        ("model_creation_parameters.a", CHANGED, 1, 2, 6),
        ("model_creation_parameters.nested.b", CHANGED, "x", "y", 8),
    ]


@pytest.mark.parametrize("live_list", [[2, 1], [1], [1, 2, 3], [], "1,2", None])
def test_lists_compare_whole_and_in_order(tmp_path: Path, live_list: Any) -> None:
    live_body = live(model_creation_parameters={"a": 1, "nested": {"b": "x", "c": live_list}})
    assert diffs(tmp_path, MAP, live_body) == [
        ("model_creation_parameters.nested.c", CHANGED, [1, 2], live_list, 9)
    ]


def test_list_of_maps_compares_whole(tmp_path: Path) -> None:
    body = "deployment_metadata:\n  rollouts: [{id: 1, ok: true}]"
    live_body = live(deployment_metadata={"rollouts": [{"id": 1, "ok": False}]})
    assert diffs(tmp_path, body, live_body) == [
        (
            "deployment_metadata.rollouts",
            CHANGED,
            [{"id": 1, "ok": True}],
            [{"id": 1, "ok": False}],
            6,
        )
    ]


def test_declared_keys_missing_live(tmp_path: Path) -> None:
    live_body = live(model_creation_parameters={"nested": {"c": [1, 2]}})
    assert diffs(tmp_path, MAP, live_body) == [
        ("model_creation_parameters.a", MISSING, 1, None, 6),
        ("model_creation_parameters.nested.b", MISSING, "x", None, 8),
    ]


@pytest.mark.parametrize("live_body", [live(model_creation_parameters=None), live()])
def test_null_live_map_reports_each_declared_key(tmp_path: Path, live_body: dict[str, Any]) -> None:
    assert diffs(tmp_path, MAP, live_body) == [
        ("model_creation_parameters.a", MISSING, 1, None, 6),
        ("model_creation_parameters.nested", MISSING, {"b": "x", "c": [1, 2]}, None, 7),
    ]


def test_live_map_with_no_common_key_reports_each_key(tmp_path: Path) -> None:
    # deepdiff >= 8 would call the whole map "changed" when few keys are shared
    body = "deployment_metadata:\n  a: 1\n  b: 2"
    assert diffs(tmp_path, body, live(deployment_metadata={"c": 3}), strict=True) == [
        ("deployment_metadata.a", MISSING, 1, None, 6),
        ("deployment_metadata.b", MISSING, 2, None, 7),
        ("deployment_metadata.c", EXTRA, None, 3, 5),
    ]


def test_live_map_that_is_not_a_map(tmp_path: Path) -> None:
    body = "deployment_metadata:\n  a: 1"
    assert diffs(tmp_path, body, live(deployment_metadata=[1])) == [
        ("deployment_metadata", CHANGED, {"a": 1}, [1], 5)
    ]


def test_declared_nested_map_against_live_scalar(tmp_path: Path) -> None:
    live_body = live(model_creation_parameters={"a": 1, "nested": "flat"})
    assert diffs(tmp_path, MAP, live_body) == [
        ("model_creation_parameters.nested", CHANGED, {"b": "x", "c": [1, 2]}, "flat", 7)
    ]


def test_empty_declared_map_is_in_sync_with_anything(tmp_path: Path) -> None:
    body = "deployment_metadata: {}"
    assert diffs(tmp_path, body, live(deployment_metadata={"a": 1})) == []
    assert diffs(tmp_path, body, live(deployment_metadata=None)) == []


# ---------------------------------------------------------------------------------------------
# --strict


def test_strict_reports_undeclared_free_form_keys_nested_too(tmp_path: Path) -> None:
    live_body = live(
        model_creation_parameters={"a": 1, "nested": {"b": "x", "c": [1, 2], "d": 0}, "z": [9]}
    )
    assert diffs(tmp_path, MAP, live_body) == []
    assert diffs(tmp_path, MAP, live_body, strict=True) == [
        ("model_creation_parameters.nested.d", EXTRA, None, 0, 7),
        ("model_creation_parameters.z", EXTRA, None, [9], 5),
    ]


def test_strict_on_an_empty_declared_map(tmp_path: Path) -> None:
    body = "deployment_metadata: {}"
    assert diffs(
        tmp_path, body, live(deployment_metadata={"a": 1, "b": {"c": 2}}), strict=True
    ) == [
        ("deployment_metadata.a", EXTRA, None, 1, 5),
        ("deployment_metadata.b", EXTRA, None, {"c": 2}, 5),
    ]


def test_strict_reports_keys_of_an_undeclared_map(tmp_path: Path) -> None:
    live_body = live(deployment_metadata={"a": 1})
    assert diffs(tmp_path, "name: whatever", live_body) == []
    assert diffs(tmp_path, "name: whatever", live_body, strict=True) == [
        ("deployment_metadata.a", EXTRA, None, 1, DEPLOYMENT_LINE)
    ]


# What live has where the manifest declares no block at all (neither map nor vendor config).
UNDECLARED_MAPS = {
    "model_creation_parameters": {"z": 1, "nested": {"b": "x", "c": [1]}, "list": [1, 2]},
    "deployment_metadata": {"team": "ml"},
}
UNDECLARED_VC = {
    "vendor": "LLMENGINE",
    "gpu_type": "nvidia-tesla-t4",  # no default, set
    "checkpoint_path": "s3://a/",  # no default, set
    "base_model_name": "llama",  # no default, set
    "inference_framework_image_tag": "0.9.4",  # no default, set
    "model_name": None,  # no default, not set
    "cpus": 12,  # has a default, and differs from it
    "memory": "1Ti",  # has a default, and differs from it
    "num_shards": 4,  # has a default, equal to it
    "brand_new_field": "x",  # unknown to the spec
}


def test_strict_reports_each_live_key_of_undeclared_free_form_maps(tmp_path: Path) -> None:
    # one difference per top-level live key; a nested map is reported whole at that key
    assert diffs(tmp_path, "name: whatever", live(**UNDECLARED_MAPS), strict=True) == [
        ("deployment_metadata.team", EXTRA, None, "ml", DEPLOYMENT_LINE),
        ("model_creation_parameters.list", EXTRA, None, [1, 2], DEPLOYMENT_LINE),
        ("model_creation_parameters.nested", EXTRA, None, {"b": "x", "c": [1]}, DEPLOYMENT_LINE),
        ("model_creation_parameters.z", EXTRA, None, 1, DEPLOYMENT_LINE),
    ]
    empty = live(model_creation_parameters={}, deployment_metadata=None)
    assert diffs(tmp_path, "name: whatever", empty, strict=True) == []


def test_strict_reports_set_no_default_fields_of_an_undeclared_vendor_configuration(
    tmp_path: Path,
) -> None:
    assert diffs(
        tmp_path, "name: whatever", live(vendor_configuration=UNDECLARED_VC), strict=True
    ) == [
        ("vendor_configuration.base_model_name", EXTRA, None, "llama", DEPLOYMENT_LINE),
        ("vendor_configuration.checkpoint_path", EXTRA, None, "s3://a/", DEPLOYMENT_LINE),
        ("vendor_configuration.gpu_type", EXTRA, None, "nvidia-tesla-t4", DEPLOYMENT_LINE),
        (
            "vendor_configuration.inference_framework_image_tag",
            EXTRA,
            None,
            "0.9.4",
            DEPLOYMENT_LINE,
        ),
    ]
    # a live configuration without a vendor is read as LLMENGINE; LAUNCH has no such fields
    no_vendor = live(vendor_configuration={"gpu_type": "nvidia-tesla-t4", "gpus": 2})
    assert diffs(tmp_path, "name: whatever", no_vendor, strict=True) == [
        ("vendor_configuration.gpu_type", EXTRA, None, "nvidia-tesla-t4", DEPLOYMENT_LINE)
    ]
    launch = live(vendor_configuration={"vendor": "LAUNCH", "max_workers": 9, "gpu_type": "x"})
    assert diffs(tmp_path, "name: whatever", launch, strict=True) == []


def test_undeclared_blocks_are_not_compared_without_strict(tmp_path: Path) -> None:
    live_body = live(vendor_configuration=UNDECLARED_VC, **UNDECLARED_MAPS)
    assert diffs(tmp_path, "name: whatever", live_body) == []
    assert [path for path, *_ in diffs(tmp_path, "name: whatever", live_body, strict=True)] == [
        "deployment_metadata.team",
        "model_creation_parameters.list",
        "model_creation_parameters.nested",
        "model_creation_parameters.z",
        "vendor_configuration.base_model_name",
        "vendor_configuration.checkpoint_path",
        "vendor_configuration.gpu_type",
        "vendor_configuration.inference_framework_image_tag",
    ]


def test_strict_reports_set_no_default_vendor_fields_only(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LLMENGINE"
    vc = {
        "vendor": "LLMENGINE",
        "gpu_type": "nvidia-tesla-t4",
        "model_name": "llama",
        "checkpoint_path": None,  # not set
        "cpus": 3,  # has a default, equal to it
        "brand_new_field": "x",  # unknown to the spec
    }
    assert diffs(tmp_path, body, live(vendor_configuration=vc)) == []
    assert diffs(tmp_path, body, live(vendor_configuration=vc), strict=True) == [
        ("vendor_configuration.gpu_type", EXTRA, None, "nvidia-tesla-t4", DEPLOYMENT_LINE),
        ("vendor_configuration.model_name", EXTRA, None, "llama", DEPLOYMENT_LINE),
    ]


def test_strict_does_not_touch_launch_fields(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LAUNCH"
    vc = {"vendor": "LAUNCH", "max_workers": 1, "extra": True}
    assert diffs(tmp_path, body, live(vendor_configuration=vc), strict=True) == []


# ---------------------------------------------------------------------------------------------
# Ignore patterns

DRIFTY = (
    "name: prod\n"  # 5
    "vendor_configuration:\n"  # 6
    "  vendor: LLMENGINE\n"  # 7
    "  max_workers: 4\n"  # 8
    "  memory: 64Gi\n"  # 9
    "deployment_metadata:\n"  # 10
    "  team: {lead: ada, size: 3}"  # 11
)
DRIFTY_LIVE = live(
    name="canary",
    vendor_configuration={"vendor": "LLMENGINE", "max_workers": 2, "memory": "32Gi"},
    deployment_metadata={"team": {"lead": "bob", "size": 4}},
)
ALL_PATHS = [  # sorted by path
    "deployment_metadata.team.lead",
    "deployment_metadata.team.size",
    "name",
    "vendor_configuration.max_workers",
    "vendor_configuration.memory",
]


def paths(found: list[tuple[str, DiffKind, Any, Any, int]]) -> list[str]:
    return [path for path, *_ in found]


def test_all_drift_without_ignores(tmp_path: Path) -> None:
    found = diffs(tmp_path, DRIFTY, DRIFTY_LIVE)
    assert paths(found) == ALL_PATHS
    assert [line for *_, line in found] == [11, 11, 5, 8, 9]
    assert found[4] == ("vendor_configuration.memory", CHANGED, "64Gi", "32Gi", 9)


@pytest.mark.parametrize(
    ("pattern", "left"),
    [
        ("name", [p for p in ALL_PATHS if p != "name"]),
        ("vendor_configuration", ALL_PATHS[:3]),
        ("vendor_configuration.*", ALL_PATHS[:3]),
        ("*.memory", [p for p in ALL_PATHS if p != "vendor_configuration.memory"]),
        ("deployment_metadata.*.lead", [p for p in ALL_PATHS if not p.endswith("lead")]),
        ("deployment_metadata.team", ALL_PATHS[2:]),
        ("*", []),
        ("vendor_configuration.max_workers.deeper", ALL_PATHS),
        ("vendor", ALL_PATHS),
    ],
)
@pytest.mark.parametrize("source", ["top", "deployment", "extra"])
def test_ignore_patterns_from_every_source(
    tmp_path: Path, pattern: str, left: list[str], source: str
) -> None:
    body, top = DRIFTY, ""
    extra: tuple[str, ...] = ()
    if source == "top":
        top = f"ignore: ['{pattern}']\n"
    elif source == "deployment":
        body = f"{DRIFTY}\nignore: ['{pattern}']"
    else:
        extra = (pattern,)
    assert paths(diffs(tmp_path, body, DRIFTY_LIVE, top=top, ignore=extra)) == left


def test_ignore_sources_add_up(tmp_path: Path) -> None:
    found = diffs(
        tmp_path,
        f"{DRIFTY}\nignore: [vendor_configuration.memory]",
        DRIFTY_LIVE,
        top="ignore: [name]\n",
        ignore=("deployment_metadata",),
    )
    assert paths(found) == ["vendor_configuration.max_workers"]


def test_ignored_vendor_configuration_hides_missing_live(tmp_path: Path) -> None:
    body = "vendor_configuration:\n  vendor: LAUNCH\nignore: [vendor_configuration]"
    assert diffs(tmp_path, body, live()) == []


def test_ignored_strict_extras_vanish(tmp_path: Path) -> None:
    body = "deployment_metadata: {}"
    live_body = live(deployment_metadata={"a": 1, "last_rollout": "2026-01-01"})
    found = diffs(
        tmp_path, body, live_body, strict=True, ignore=("deployment_metadata.last_rollout",)
    )
    assert found == [("deployment_metadata.a", EXTRA, None, 1, 5)]


# ---------------------------------------------------------------------------------------------
# Live responses with more than the manifest knows


def test_unknown_live_fields_are_never_reported(tmp_path: Path) -> None:
    body = "name: prod\nvendor_configuration:\n  vendor: LLMENGINE\ndeployment_metadata:\n  a: 1"
    live_body = live(
        name="prod",
        created_at="2026-01-01T00:00:00Z",
        brand_new={"nested": [1, 2]},
        vendor_configuration={"vendor": "LLMENGINE", "future_knob": 7},
        deployment_metadata={"a": 1},
    )
    assert diffs(tmp_path, body, live_body) == []
    assert diffs(tmp_path, body, live_body, strict=True) == []


def test_differences_are_sorted_by_path_not_by_line(tmp_path: Path) -> None:
    body = (
        "name: prod\n"  # 5
        "deployment_metadata:\n"  # 6
        "  b: 1\n"  # 7
        "  a: 2\n"  # 8
        "vendor_configuration:\n"  # 9
        "  vendor: LLMENGINE\n"  # 10
        "  memory: 64Gi\n"  # 11
        "  max_workers: 4"  # 12
    )
    live_body = live(
        name="canary",
        deployment_metadata={"a": 3, "b": 4},
        vendor_configuration={"vendor": "LLMENGINE", "memory": "32Gi", "max_workers": 2, "cpus": 8},
    )
    assert diffs(tmp_path, body, live_body) == [
        ("deployment_metadata.a", CHANGED, 2, 3, 8),
        ("deployment_metadata.b", CHANGED, 1, 4, 7),
        ("name", CHANGED, "prod", "canary", 5),
        ("vendor_configuration.cpus", CHANGED, 3, 8, DEPLOYMENT_LINE),
        ("vendor_configuration.max_workers", CHANGED, 4, 2, 12),
        ("vendor_configuration.memory", CHANGED, "64Gi", "32Gi", 11),
    ]
