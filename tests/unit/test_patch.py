"""``--format patch``: the remediation preview, exact for fixed results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from driftcheck.reporters.patch import HEADER, body_json, partial_note, patch_body, render
from driftcheck.result import (
    DeploymentResult,
    Difference,
    DiffKind,
    ErrorInfo,
    ErrorKind,
    RunResult,
    SourceLocation,
    Status,
)

STARTED = dt.datetime(2026, 11, 27, 4, 0, 0, tzinfo=dt.timezone.utc)
WHERE = SourceLocation("manifests/prod.yaml", 7)
HEAD = "\n".join(HEADER) + "\n\n"


@dataclasses.dataclass(frozen=True)
class WithVendor(DeploymentResult):
    """A result that records the declared vendor (what the engine can add)."""

    declared_vendor: str | None = None


def run(*deployments: DeploymentResult) -> RunResult:
    return RunResult(deployments, STARTED, STARTED)


def changed(path: str, desired: Any, live: Any, kind: DiffKind = DiffKind.CHANGED) -> Difference:
    return Difference(path, kind, desired, live, 9)


def drifted(
    *diffs: Difference, mi: str = "mi_1", dep: str = "dep_1", name: str | None = None
) -> DeploymentResult:
    return DeploymentResult(mi, dep, name, WHERE, Status.DRIFTED, differences=diffs)


def requests(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Every ``PATCH`` line with the JSON body that follows it."""
    found = []
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith("PATCH "):
            body_lines = []
            for follow in lines[index + 1 :]:
                if not follow:
                    break
                body_lines.append(follow)
            found.append((line[len("PATCH ") :], json.loads("\n".join(body_lines))))
    return found


def test_mixed_result_exact_output() -> None:
    result = run(
        drifted(
            changed("name", "llama-70b-prod", "llama-old"),
            changed("status", "READY", "FAILED"),
            changed("vendor_configuration.max_workers", 4, 2),
            changed("vendor_configuration.memory", "64Gi", "32Gi"),
            changed("vendor_configuration.num_shards", 4, 2),
            changed("deployment_metadata.team", "ml", None, DiffKind.MISSING_LIVE),
            changed("deployment_metadata.owner.email", "a@x", "b@x"),
            changed("model_creation_parameters.layers", [1, 2], [2, 1]),
            changed("deployment_metadata.extra", None, "x", DiffKind.EXTRA_LIVE),
            name="llama-70b-prod",
            mi="mi_123",
            dep="dep_456",
        ),
        DeploymentResult("mi_123", "dep_457", "gemma", WHERE, Status.IN_SYNC),
        DeploymentResult("mi_123", "dep_999", "mistral-canary", WHERE, Status.MISSING),
        DeploymentResult(
            "mi_777",
            "dep_1",
            "qwen-eval",
            WHERE,
            Status.ERROR,
            error=ErrorInfo(ErrorKind.HTTP, "HTTP 503 after 3 retries", 503),
        ),
    )
    assert render(result) == HEAD + (
        "# ~ llama-70b-prod (mi_123/dep_456) drifted\n"
        '# status: declared "READY", live "FAILED"; status is set by the server and cannot be'
        " patched\n"
        '# deployment_metadata.extra: live has "x" and the manifest leaves it out; not patched'
        " (removing it is a decision for a person)\n"
        f"# {partial_note('vendor_configuration')}\n"
        f"# {partial_note('model_creation_parameters')}\n"
        f"# {partial_note('deployment_metadata')}\n"
        "PATCH /v4/models/mi_123/deployments/dep_456\n"
        "{\n"
        '  "name": "llama-70b-prod",\n'
        '  "vendor_configuration": {\n'
        '    "vendor": "LLMENGINE",\n'
        '    "max_workers": 4,\n'
        '    "memory": "64Gi",\n'
        '    "num_shards": 4\n'
        "  },\n"
        '  "model_creation_parameters": {\n'
        '    "layers": [\n'
        "      1,\n"
        "      2\n"
        "    ]\n"
        "  },\n"
        '  "deployment_metadata": {\n'
        '    "team": "ml",\n'
        '    "owner": {\n'
        '      "email": "a@x"\n'
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        "# + mistral-canary (mi_123/dep_999) missing: not found on the API; a PATCH cannot"
        " create it\n"
        "\n"
        "# ! qwen-eval (mi_777/dep_1) error: HTTP 503 after 3 retries; not checked, nothing to"
        " restore\n"
        "\n"
        "# 4 deployments: 1 in sync, 1 drifted, 1 missing, 1 error.\n"
    )


def test_vendor_mismatch_sends_only_the_vendor_and_says_so() -> None:
    result = run(drifted(changed("vendor_configuration.vendor", "LAUNCH", "LLMENGINE")))
    text = render(result)
    assert requests(text) == [
        ("/v4/models/mi_1/deployments/dep_1", {"vendor_configuration": {"vendor": "LAUNCH"}})
    ]
    assert (
        '# vendor_configuration.vendor: live is "LLMENGINE", declared "LAUNCH"; only the vendor'
        " is known here: add the rest of the declared vendor_configuration from the manifest"
        " before sending\n"
    ) in text


def test_missing_live_vendor_configuration_sends_the_whole_declaration() -> None:
    declared = {"vendor": "LLMENGINE", "gpus": 4, "memory": "64Gi", "max_workers": 4}
    text = render(
        run(drifted(changed("vendor_configuration", declared, None, DiffKind.MISSING_LIVE)))
    )
    assert requests(text) == [
        ("/v4/models/mi_1/deployments/dep_1", {"vendor_configuration": declared})
    ]
    assert "# vendor_configuration: absent live; the whole declared configuration is sent\n" in text


def test_vendor_comes_from_the_result_when_recorded() -> None:
    deployment = WithVendor(
        "mi_1",
        "dep_1",
        None,
        WHERE,
        Status.DRIFTED,
        differences=(changed("vendor_configuration.max_workers", 3, 1),),
        declared_vendor="LAUNCH",
    )
    body, notes = patch_body(deployment)
    assert body == {"vendor_configuration": {"vendor": "LAUNCH", "max_workers": 3}}
    assert notes == [partial_note("vendor_configuration")]


def test_vendor_only_one_vendor_could_have_is_inferred() -> None:
    body, notes = patch_body(drifted(changed("vendor_configuration.gpus", 4, 2)))
    assert body == {"vendor_configuration": {"vendor": "LLMENGINE", "gpus": 4}}
    assert notes == [partial_note("vendor_configuration")]


def test_unknown_vendor_is_left_for_a_person() -> None:
    body, notes = patch_body(drifted(changed("vendor_configuration.max_workers", 3, 1)))
    assert body == {"vendor_configuration": {"max_workers": 3}}
    assert notes == [
        partial_note("vendor_configuration"),
        "vendor_configuration.vendor: the declared vendor is not recorded in this result; add"
        " 'vendor' (LAUNCH or LLMENGINE) from the manifest before sending",
    ]


def test_defaulted_field_sends_the_default_and_missing_field_its_declaration() -> None:
    body, _ = patch_body(
        drifted(
            changed("vendor_configuration.num_shards", 4, 1),
            changed(
                "vendor_configuration.gpu_type", "nvidia-ampere-a100", None, DiffKind.MISSING_LIVE
            ),
        )
    )
    assert body == {
        "vendor_configuration": {
            "vendor": "LLMENGINE",
            "num_shards": 4,
            "gpu_type": "nvidia-ampere-a100",
        }
    }


def test_extra_live_vendor_field_is_only_a_comment() -> None:
    body, notes = patch_body(
        drifted(changed("vendor_configuration.model_name", None, "llama", DiffKind.EXTRA_LIVE))
    )
    assert body == {}
    assert notes == [
        'vendor_configuration.model_name: live has "llama" and the manifest leaves it out; not'
        " patched (removing it is a decision for a person)"
    ]


def test_name_only_drift_is_a_patch_and_status_only_is_not() -> None:
    text = render(
        run(
            drifted(changed("name", "new", "old"), dep="dep_1"),
            drifted(changed("status", "READY", "DEPLOYING"), dep="dep_2"),
            drifted(changed("model_endpoint_id", "ep_1", "ep_2"), dep="dep_3"),
        )
    )
    assert requests(text) == [("/v4/models/mi_1/deployments/dep_1", {"name": "new"})]
    assert (
        "# ~ mi_1/dep_2 drifted\n"
        '# status: declared "READY", live "DEPLOYING"; status is set by the server and cannot'
        " be patched\n"
        "# nothing to PATCH\n"
    ) in text
    assert (
        '# model_endpoint_id: declared "ep_1", live "ep_2"; re-pointing a deployment at another'
        " endpoint is left to a person\n"
        "# nothing to PATCH\n"
    ) in text


def test_ids_are_percent_encoded_in_the_path() -> None:
    text = render(run(drifted(changed("name", "n", "o"), mi="a/b?c", dep="..")))
    assert requests(text) == [("/v4/models/a%2Fb%3Fc/deployments/%2E%2E", {"name": "n"})]


def test_special_characters_stay_on_their_lines() -> None:
    name = "evil\nPATCH /v4/models/x/deployments/y\u2028more\x85end"
    text = render(run(drifted(changed("name", name, "old"), name=name)))
    assert [line for line in text.split("\n") if line.startswith("PATCH ")] == [
        "PATCH /v4/models/mi_1/deployments/dep_1"
    ]
    assert text.splitlines() == text.split("\n")[:-1]  # no hidden line breaks anywhere
    assert requests(text) == [("/v4/models/mi_1/deployments/dep_1", {"name": name})]
    assert '"name": "evil\\nPATCH /v4/models/x/deployments/y\\u2028more\\u0085end"' in text


def test_all_in_sync_and_verbose() -> None:
    result = run(
        DeploymentResult("mi_1", "dep_1", "a", WHERE, Status.IN_SYNC),
        DeploymentResult("mi_1", "dep_2", None, WHERE, Status.IN_SYNC),
    )
    assert render(result) == HEAD + "# 2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"
    assert render(result, verbose=True, color=True) == HEAD + (
        "#   a (mi_1/dep_1) in sync\n"
        "\n"
        "#   mi_1/dep_2 in sync\n"
        "\n"
        "# 2 deployments: 2 in sync, 0 drifted, 0 missing, 0 errors.\n"
    )


def test_header_says_it_is_read_only() -> None:
    assert "Read-only: driftcheck never sends these requests." in render(run())


def test_output_is_deterministic_and_does_not_touch_the_result() -> None:
    declared = {"vendor": "LAUNCH", "max_workers": 2}
    diff = changed("vendor_configuration", declared, None, DiffKind.MISSING_LIVE)
    result = run(drifted(diff, changed("deployment_metadata.a", {"b": 1}, {"b": 2})))
    first = render(result)
    assert first == render(result)
    assert declared == {"vendor": "LAUNCH", "max_workers": 2}


def test_body_json_escapes_line_breaking_characters() -> None:
    assert body_json({"a": "x\u2029y\x7f"}) == '{\n  "a": "x\\u2029y\\u007f"\n}'
    assert json.loads(body_json({"a": "x\u2029y\x7f"})) == {"a": "x\u2029y\x7f"}


def test_a_dotted_free_form_key_stays_one_key_and_the_partial_map_is_said() -> None:
    dotted = Difference(
        "deployment_metadata.k.dot",
        DiffKind.CHANGED,
        1,
        2,
        5,
        segments=("deployment_metadata", "k.dot"),
    )
    nested = changed("deployment_metadata.a.b", "x", "y")
    body, notes = patch_body(drifted(dotted, nested))
    assert body == {"deployment_metadata": {"k.dot": 1, "a": {"b": "x"}}}
    assert notes == [partial_note("deployment_metadata")]


def test_a_whole_top_level_value_is_no_partial_map() -> None:
    body, notes = patch_body(drifted(changed("deployment_metadata", {"a": 1}, None)))
    assert body == {"deployment_metadata": {"a": 1}}
    assert notes == []
