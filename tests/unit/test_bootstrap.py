"""``snapshot --as-manifest``: the generated manifest loads and checks in sync with its source.

The round trip is the contract: whatever live bodies go in, the YAML that comes out validates
with the real manifest loader and every deployment in it is judged ``in_sync`` against the
very body it was generated from, with and without ``--strict``. A body that manifest v1 cannot
express in full is in sync without ``--strict``; under ``--strict`` exactly what was left out
of a vendor configuration or a free-form map is reported as ``extra_live``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from driftcheck.bootstrap import (
    GENERATOR,
    comment_text,
    declaration,
    manifest_from_bodies,
    manifest_from_outcomes,
    vendor_declaration,
)
from driftcheck.cli import cli
from driftcheck.engine import judge
from driftcheck.live.records import Failed, Fetched, NotFound
from driftcheck.live.snapshot import snapshot_document
from driftcheck.manifest import DesiredDeployment, load_manifests
from driftcheck.result import DiffKind, ErrorInfo, ErrorKind, Status
from tests.emulator import OMIT, launch_config, llmengine_config, make_deployment

SOURCE = "https://api.egp.scale.com"
CAPTURED = "2026-11-27T04:00:00Z"

ALL_DEFAULT_LLMENGINE = llmengine_config(
    gpus=0, num_shards=4, gpu_type=OMIT, model_name=OMIT, inference_framework_image_tag=OMIT
)
# Strings that YAML 1.1 would read as something else unless they are quoted.
TRICKY_STRINGS = [
    "yes",
    "No",
    "on",
    "off",
    "true",
    "null",
    "~",
    "",
    "123",
    "1e3",
    "0x1F",
    "0o17",
    "017",
    "1_000",
    ".inf",
    "-.nan",
    "12:30",
    "2024-05-01",
    "<<",
    "=",
    "# not a comment",
    "- not a list",
    ": colon",
    "a: b",
    "{x: 1}",
    "[1]",
    "!tag",
    "&anchor",
    "*alias",
    "%directive",
    "@at",
    "`tick",
    " leading space",
    "trailing space ",
    "line\nbreak",
    "\ttab",
    "nel\x85ls\u2028ps\u2029",
    "bell\x07",
    "名前",
    "emoji 🚀",
]


def _variants() -> list[tuple[str, str, dict[str, Any]]]:
    """Live bodies covering defaults, quantities, odd values and odd ids."""
    bodies: list[tuple[str, str, dict[str, Any]]] = []

    def add(mi: str, dep: str, **fields: Any) -> None:
        bodies.append((mi, dep, make_deployment(mi, dep, **fields)))

    add("mi_full", "dep_full")
    add("mi_default", "dep_llm", vendor_configuration=ALL_DEFAULT_LLMENGINE)
    add("mi_default", "dep_launch", vendor_configuration=launch_config())
    add("mi_launch", "dep_1", vendor_configuration=launch_config(max_workers=4, per_worker=2))
    add("mi_q", "dep_8192mi", vendor_configuration=llmengine_config(memory="8192Mi"))
    add("mi_q", "dep_bytes", vendor_configuration=llmengine_config(memory=8589934592))
    add("mi_q", "dep_bytes_str", vendor_configuration=llmengine_config(storage="17179869184"))
    add("mi_q", "dep_1g", vendor_configuration=llmengine_config(memory="1G", storage="32Gi"))
    add("mi_q", "dep_text", vendor_configuration=llmengine_config(memory="lots"))
    add("mi_q", "dep_float", vendor_configuration=llmengine_config(memory=1.5e9, storage=0.5))
    add("mi_q", "dep_milli", vendor_configuration=llmengine_config(memory="8192000m"))
    add("mi_num", "dep_floats", vendor_configuration=llmengine_config(cpus=3.0, max_workers=4.0))
    add("mi_num", "dep_big", vendor_configuration=llmengine_config(per_worker=10**20))
    add("mi_num", "dep_neg", vendor_configuration=launch_config(min_workers=-1))
    add(
        "mi_bool",
        "dep_high",
        vendor_configuration=llmengine_config(high_priority=True, checkpoint_path="s3://b/k"),
    )
    add("mi_none", "dep_null_vc", vendor_configuration=None)
    add("mi_none", "dep_no_vc", vendor_configuration=OMIT)
    add(
        "mi_none",
        "dep_null_fields",
        vendor_configuration=llmengine_config(cpus=None, memory=None, gpu_type=None),
    )
    add("mi_none", "dep_sparse", vendor_configuration={"vendor": "LLMENGINE"})
    add("mi_none", "dep_empty_launch", vendor_configuration={"vendor": "LAUNCH"})
    add(
        "mi_unknown",
        "dep_fields",
        vendor_configuration=llmengine_config(new_field="x", nested={"a": 1}),
    )
    # LLMENGINE-only fields under LAUNCH are unknown to LAUNCH and dropped.
    add("mi_unknown", "dep_launch_gpus", vendor_configuration=launch_config(gpus=4, cpus=8))
    add("mi_unknown", "dep_top", extra_top_level={"x": 1}, another=[1, 2])
    add(
        "mi_free",
        "dep_maps",
        model_creation_parameters={
            "source": "hugging_face",
            "nested": {"deep": {"deeper": [1, {"x": None}, "s"]}},
            "empty": {},
            "list": [],
            "null": None,
            "float": 0.1,
            "int_float": 2.0,
            "bool": False,
            "big": 10**30,
        },
        deployment_metadata={"last_rollout": "2024-05-01T12:00:00Z", "team": "ml"},
    )
    add(
        "mi_free",
        "dep_tricky_keys",
        deployment_metadata={text: text for text in TRICKY_STRINGS},
        model_creation_parameters={"values": TRICKY_STRINGS},
    )
    add("mi_free", "dep_null_maps", model_creation_parameters=None, deployment_metadata=OMIT)
    add("mi_free", "dep_deep_ok", deployment_metadata=_nested(55))
    for index, text in enumerate(TRICKY_STRINGS):
        add(
            "mi_names",
            f"dep_{index}",
            name=text,
            status=text,
            model_endpoint_id=text,
            vendor_configuration=llmengine_config(model_name=text, checkpoint_path=text),
        )
    add("mi_names", "dep_no_name", name=OMIT, status=OMIT, model_endpoint_id=None)
    for index, weird in enumerate(["a/b", "../x", "a b", "名前", "#x", "- y", "yes", "123", "*"]):
        add(weird, f"{weird}/{index}?q=1#f")
    return bodies


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"child": value}
    return value


def _llmengine_extras(
    gpu_type: Any = "nvidia-ampere-a10", model_name: Any = "llama-2-7b"
) -> list[tuple[str, DiffKind, Any]]:
    """What ``--strict`` reports for an ``llmengine_config()`` left out of the manifest: its set
    fields without a default (defaulted and unknown fields are not reported)."""
    return [
        ("vendor_configuration.gpu_type", DiffKind.EXTRA_LIVE, gpu_type),
        ("vendor_configuration.inference_framework_image_tag", DiffKind.EXTRA_LIVE, "0.9.4"),
        ("vendor_configuration.model_name", DiffKind.EXTRA_LIVE, model_name),
    ]


NAN = float("nan")  # one object, so that the expected live value is the very one in the body
DEEP = _nested(70)

# Bodies manifest v1 cannot express in full: (body fields, the part left out, words in the note,
# the differences --strict reports as (path, kind, live value); desired is always None and the
# line the deployment's). Without --strict every one of them is in sync.
UNEXPRESSIBLE: list[tuple[dict[str, Any], str, str, list[tuple[str, DiffKind, Any]]]] = [
    # an unknown vendor has no fields driftcheck knows of; this one names no set no-default field
    ({"vendor_configuration": {"vendor": "OTHER", "x": 1}}, "vendor_configuration", "'OTHER'", []),
    ({"vendor_configuration": {"min_workers": 1}}, "vendor_configuration", "does not name", []),
    (
        {"vendor_configuration": llmengine_config(gpus="4")},
        "vendor_configuration",
        "gpus",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(gpus=True)},
        "vendor_configuration",
        "whole",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(cpus=2.5)},
        "vendor_configuration",
        "2.5",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(gpu_type="nvidia-quantum")},
        "vendor_configuration",
        "gpu_type",
        _llmengine_extras(gpu_type="nvidia-quantum"),
    ),
    (
        {"vendor_configuration": llmengine_config(high_priority="yes")},
        "vendor_configuration",
        "true or false",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(memory=True)},
        "vendor_configuration",
        "quantity",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(memory=float("nan"))},
        "vendor_configuration",
        "finite",
        _llmengine_extras(),
    ),
    (
        {"vendor_configuration": llmengine_config(model_name=7)},
        "vendor_configuration",
        "string",
        _llmengine_extras(model_name=7),
    ),
    # LAUNCH has no fields without a default
    ({"vendor_configuration": launch_config(max_workers=[1])}, "vendor_configuration", "whole", []),
    # undeclared scalar fields are never compared, --strict or not
    ({"name": 5}, "name", "not a string", []),
    ({"status": {"phase": "READY"}}, "status", "not a string", []),
    ({"model_endpoint_id": 12}, "model_endpoint_id", "not a string", []),
    # a live "map" that is not a mapping has no keys to report
    ({"model_creation_parameters": ["a"]}, "model_creation_parameters", "not a mapping", []),
    ({"deployment_metadata": "text"}, "deployment_metadata", "not a mapping", []),
    (
        {"deployment_metadata": {"x": NAN}},
        "deployment_metadata",
        "non-finite",
        [("deployment_metadata.x", DiffKind.EXTRA_LIVE, NAN)],
    ),
    (
        {"deployment_metadata": {"x": [float("inf")]}},
        "deployment_metadata",
        "non-finite",
        [("deployment_metadata.x", DiffKind.EXTRA_LIVE, [float("inf")])],
    ),
    (
        {"deployment_metadata": DEEP},
        "deployment_metadata",
        "nested deeper",
        [("deployment_metadata.child", DiffKind.EXTRA_LIVE, DEEP["child"])],
    ),
    # JSON cannot carry a non-string key; compare() reads the int key as a list index and so
    # reports the whole map as changed rather than the key as extra_live
    (
        {"deployment_metadata": {1: "a"}},
        "deployment_metadata",
        "string keys",
        [("deployment_metadata", DiffKind.CHANGED, {1: "a"})],
    ),
]


def _write(tmp_path: Path, text: str, name: str = "generated.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _round_trip(
    tmp_path: Path, entries: list[tuple[str, str, dict[str, Any]]]
) -> tuple[str, dict[tuple[str, str], DesiredDeployment]]:
    text = manifest_from_bodies(entries, source=SOURCE, captured_at=CAPTURED)
    desired = load_manifests([str(_write(tmp_path, text))])
    return text, {d.key: d for d in desired.deployments}


def _assert_in_sync(
    deployment: DesiredDeployment, body: dict[str, Any], stricts: tuple[bool, ...] = (True, False)
) -> None:
    for strict in stricts:
        result = judge(deployment, Fetched(body), strict=strict)
        assert result.status is Status.IN_SYNC, (strict, result.differences, result.error)


# ---------------------------------------------------------------------------------------------
# Round trip


def test_every_variant_round_trips_in_sync(tmp_path: Path) -> None:
    entries = _variants()
    _, declared = _round_trip(tmp_path, entries)
    assert list(declared) == [(mi, dep) for mi, dep, _ in entries]
    for mi, dep, body in entries:
        _assert_in_sync(declared[(mi, dep)], body)


@pytest.mark.parametrize(("fields", "part", "words", "strict_differences"), UNEXPRESSIBLE)
def test_unexpressible_part_is_left_out_with_a_comment(
    tmp_path: Path,
    fields: dict[str, Any],
    part: str,
    words: str,
    strict_differences: list[tuple[str, DiffKind, Any]],
) -> None:
    body = make_deployment("mi_x", "dep_x", **fields)
    text, declared = _round_trip(tmp_path, [("mi_x", "dep_x", body)])
    deployment = declared[("mi_x", "dep_x")]
    assert part not in deployment.fields
    comments = [line for line in text.splitlines() if line.startswith("  # mi_x/dep_x: ")]
    assert len(comments) == 1
    assert f"{part} left out" in comments[0]
    assert words in comments[0]
    # The rest of the deployment is still declared and in sync.
    if part != "model_endpoint_id":
        assert deployment.fields["model_endpoint_id"] == "ep_dep_x"
    _assert_in_sync(deployment, body, stricts=(False,))
    # --strict reports what was left out of a vendor configuration or a free-form map.
    result = judge(deployment, Fetched(body), strict=True)
    assert result.status is (Status.DRIFTED if strict_differences else Status.IN_SYNC)
    assert [(d.path, d.kind, d.desired, d.live, d.line) for d in result.differences] == [
        (path, kind, None, value, deployment.line) for path, kind, value in strict_differences
    ]


def test_defaults_are_left_out_and_everything_else_is_declared() -> None:
    body = make_deployment(
        "mi_1",
        "dep_1",
        vendor_configuration=llmengine_config(
            cpus=3,
            memory="8192Mi",
            storage="32Gi",
            gpus=0,
            max_workers=4.0,
            num_shards=4,
            high_priority=False,
            checkpoint_path="s3://bucket/ckpt",
            base_model_name=None,
            surprise="dropped",
        ),
        model_creation_parameters={"a": 1},
        deployment_metadata={},
    )
    declared, notes = declaration("mi_1", "dep_1", body)
    assert notes == []
    assert declared == {
        "model_instance_id": "mi_1",
        "deployment_id": "dep_1",
        "name": "mi_1-dep_1",
        "model_endpoint_id": "ep_dep_1",
        "status": "READY",
        "vendor_configuration": {
            "vendor": "LLMENGINE",
            "storage": "32Gi",
            "gpu_type": "nvidia-ampere-a10",
            "max_workers": 4.0,
            "checkpoint_path": "s3://bucket/ckpt",
            "model_name": "llama-2-7b",
            "inference_framework_image_tag": "0.9.4",
        },
        "model_creation_parameters": {"a": 1},
    }


def test_server_managed_fields_are_never_declared(tmp_path: Path) -> None:
    body = make_deployment("mi_1", "dep_1")
    text, declared = _round_trip(tmp_path, [("mi_1", "dep_1", body)])
    for name in (
        "id",
        "created_at",
        "account_id",
        "created_by_user_id",
        "created_by_identity_type",
    ):
        assert name not in declared[("mi_1", "dep_1")].fields
        assert f"\n    {name}:" not in text


def test_all_default_vendor_configuration_declares_only_the_vendor() -> None:
    assert vendor_declaration(ALL_DEFAULT_LLMENGINE) == ({"vendor": "LLMENGINE"}, None)
    assert vendor_declaration(launch_config()) == ({"vendor": "LAUNCH"}, None)
    assert vendor_declaration(None) == (None, None)


def test_body_that_is_not_a_deployment_keeps_its_ids_and_says_why(tmp_path: Path) -> None:
    wrong_id = make_deployment("mi_1", "dep_other")
    entries: list[tuple[str, str, Any]] = [
        ("mi_1", "dep_1", wrong_id),
        ("mi_1", "dep_2", ["not", "a", "deployment"]),
    ]
    text, declared = _round_trip(tmp_path, entries)
    assert declared[("mi_1", "dep_1")].fields == {}
    assert declared[("mi_1", "dep_2")].fields == {}
    assert (
        "  # mi_1/dep_1: only the ids are declared: the live response is not a deployment" in text
    )
    assert "  # mi_1/dep_2: only the ids are declared" in text
    # Checking it still says what is wrong, rather than in_sync.
    result = judge(declared[("mi_1", "dep_1")], Fetched(wrong_id))
    assert result.status is Status.ERROR


# ---------------------------------------------------------------------------------------------
# Text of the file


def test_header_says_where_it_came_from() -> None:
    text = manifest_from_bodies(
        [("mi_1", "dep_1", make_deployment("mi_1", "dep_1"))], source=SOURCE, captured_at=CAPTURED
    )
    lines = text.splitlines()
    assert lines[0] == f"# {GENERATOR}"
    assert lines[1] == f"# source: {SOURCE}"
    assert lines[2] == f"# captured_at: {CAPTURED}"
    assert "version: 1" in lines
    assert text.endswith("\n")


def test_comments_cannot_inject_yaml(tmp_path: Path) -> None:
    source = "https://x\nversion: 2\ndeployments: []"
    body = make_deployment("mi_1", "dep_1", vendor_configuration={"vendor": "X\u2028version: 3"})
    text = manifest_from_bodies(
        [("mi_1", "dep_1", body)],
        source=source,
        captured_at="now\r\n- evil",
        omitted=[("mi\n2", "dep\x852", "not found\nversion: 4")],
    )
    assert "# source: https://x\\u000aversion: 2\\u000adeployments: []" in text
    assert "\\u2028" in text
    desired = load_manifests([str(_write(tmp_path, text))])
    assert [d.key for d in desired.deployments] == [("mi_1", "dep_1")]


def test_omitted_and_empty_ids_are_listed_not_dropped(tmp_path: Path) -> None:
    body = make_deployment("mi_1", "dep_1")
    text = manifest_from_bodies(
        [("mi_1", "dep_1", body), ("", "dep_2", make_deployment("", "dep_2"))],
        source=SOURCE,
        captured_at=CAPTURED,
        omitted=[("mi_9", "dep_9", "not found on the API (HTTP 404) when captured")],
    )
    assert "# Not declared:" in text
    assert "#   /dep_2: an empty model_instance_id or deployment_id is not allowed" in text
    assert "#   mi_9/dep_9: not found on the API (HTTP 404) when captured" in text
    desired = load_manifests([str(_write(tmp_path, text))])
    assert [d.key for d in desired.deployments] == [("mi_1", "dep_1")]


def test_no_entries_is_still_a_valid_manifest(tmp_path: Path) -> None:
    text = manifest_from_bodies([], source=SOURCE, captured_at=CAPTURED)
    assert "deployments: []" in text
    assert load_manifests([str(_write(tmp_path, text))]).deployments == ()


def test_output_is_deterministic_and_readable() -> None:
    entries = _variants()
    first = manifest_from_bodies(entries, source=SOURCE, captured_at=CAPTURED)
    assert first == manifest_from_bodies(entries, source=SOURCE, captured_at=CAPTURED)
    # No anchors even when a body reuses one object, and multi-line strings stay on one line.
    shared = {"k": "v"}
    body = make_deployment(
        "mi_1", "dep_1", name="two\nlines", model_creation_parameters={"a": shared, "b": shared}
    )
    text = manifest_from_bodies([("mi_1", "dep_1", body)], source=SOURCE, captured_at=CAPTURED)
    assert "&" not in text and "*" not in text
    assert '    name: "two\\nlines"\n' in text


def test_indentation_matches_the_documented_style() -> None:
    body = make_deployment("mi_1", "dep_1", vendor_configuration=launch_config(max_workers=2))
    text = manifest_from_bodies([("mi_1", "dep_1", body)], source=SOURCE, captured_at=CAPTURED)
    assert text.endswith(
        "version: 1\n"
        "deployments:\n"
        "  - model_instance_id: mi_1\n"
        "    deployment_id: dep_1\n"
        "    name: mi_1-dep_1\n"
        "    model_endpoint_id: ep_dep_1\n"
        "    status: READY\n"
        "    vendor_configuration:\n"
        "      vendor: LAUNCH\n"
        "      max_workers: 2\n"
    )


def test_comment_text_escapes_line_breaks() -> None:
    assert comment_text("a\nb\rc\x85d\u2028e\u2029f\x1bg") == (
        "a\\u000ab\\u000dc\\u0085d\\u2028e\\u2029f\\u001bg"
    )
    assert comment_text("plain ünïcode") == "plain ünïcode"


# ---------------------------------------------------------------------------------------------
# Through the CLI: snapshot -> manifest -> check --live-from the snapshot


def test_snapshot_to_manifest_to_check_exits_zero(tmp_path: Path) -> None:
    entries = _variants()
    keys = [(mi, dep) for mi, dep, _ in entries]
    outcomes: list[Any] = [Fetched(body) for _, _, body in entries]
    # Not found and failed deployments have no state to declare; they are listed as comments.
    keys += [("mi_gone", "dep_gone"), ("mi_fail", "dep_fail")]
    outcomes += [
        NotFound({"detail": "Not Found"}),
        Failed(ErrorInfo(ErrorKind.HTTP, "HTTP 503 after 3 retries", 503)),
    ]
    snapshot = tmp_path / "live.json"
    document = snapshot_document(SOURCE, keys, outcomes, CAPTURED)
    snapshot.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")

    text = manifest_from_outcomes(keys, outcomes, source=SOURCE, captured_at=CAPTURED)
    assert "#   mi_gone/dep_gone: not found on the API (HTTP 404) when captured" in text
    assert "#   mi_fail/dep_fail: could not be fetched: HTTP 503 after 3 retries" in text
    manifest = _write(tmp_path, text)

    runner = CliRunner()
    for extra in ([], ["--strict"]):
        outcome = runner.invoke(
            cli,
            ["check", str(manifest), "--live-from", str(snapshot), "--no-color", *extra],
            catch_exceptions=False,
        )
        assert outcome.exit_code == 0, outcome.output
        assert f"{len(entries)} deployments: {len(entries)} in sync" in outcome.output
