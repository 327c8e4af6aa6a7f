"""--unmanaged, coverage and --fetch list against the emulator's paginated list endpoints."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator import Emulator, Reply, make_deployment

DECLARED = """\
version: 1
unmanaged-ignore:
  - "scratch-*"
deployments:
  - model_instance_id: mi_a
    deployment_id: dep_1
  - model_instance_id: mi_a
    deployment_id: dep_2
  - model_instance_id: mi_b
    deployment_id: dep_3
"""


def populate(emulator: Emulator) -> None:
    for mi, dep in [("mi_a", "dep_1"), ("mi_a", "dep_2"), ("mi_b", "dep_3")]:
        emulator.put(make_deployment(mi, dep))
    emulator.put(make_deployment("mi_a", "dep_x", name="rogue", created_by_user_id="eve"))
    emulator.put(make_deployment("mi_c", "dep_y", name="other-rogue"))
    emulator.put(make_deployment("mi_c", "dep_z", name="scratch-42"))


def report(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_unmanaged_found_across_pages(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    populate(emulator)
    result = run_check(
        manifest(DECLARED), "--unmanaged", "--page-size", "2", "--format", "json", "--fetch", "list"
    )
    data = report(result)
    assert result.code == 2  # everything declared is in sync; unmanaged counts as drift
    assert data["summary"]["in_sync"] == 3
    assert data["summary"]["unmanaged"] == 2
    assert data["summary"]["coverage"] == 50.0  # 3 of 6 live deployments declared
    assert data["summary"]["live_total"] == 6
    assert [(u["model_instance_id"], u["deployment_id"]) for u in data["unmanaged"]] == [
        ("mi_a", "dep_x"),
        ("mi_c", "dep_y"),
    ]
    assert data["unmanaged"][0]["name"] == "rogue"
    assert data["unmanaged"][0]["created_by"] == "eve"
    pages = [r.query.get("page") for r in emulator.requests if r.path == "/v4/model-deployments"]
    assert pages == ["1", "2", "3"]
    # the declared ones came from the same pages: no GET at all
    assert not any(r.route and r.route[0] == "deployment" for r in emulator.requests)


def test_text_report_shows_unmanaged_and_coverage(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    result = run_check(manifest(DECLARED), "--unmanaged")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("? rogue (mi_a/dep_x) unmanaged: not declared in any manifest")
    assert "by eve" in lines[0]
    assert lines[-2] == "3 deployments: 3 in sync, 0 drifted, 0 missing, 0 errors, 2 unmanaged."
    assert lines[-1] == "Coverage: 3 of 6 live deployments declared (50.0%)."


def test_without_unmanaged_flag_nothing_is_listed_as_unmanaged(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    result = run_check(manifest(DECLARED), "--format", "json")
    assert result.code == 0
    assert "unmanaged" not in report(result)
    assert "unmanaged" not in report(result)["summary"]


def test_model_instance_scope_uses_per_model_endpoint(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    result = run_check(
        manifest(DECLARED), "--unmanaged", "--model-instance-id", "mi_c", "--format", "json"
    )
    data = report(result)
    assert [u["deployment_id"] for u in data["unmanaged"]] == ["dep_y"]
    assert data["summary"]["coverage"] == 0.0
    listed = {r.path for r in emulator.requests if r.route and r.route[0] == "list"}
    assert listed >= {"/v4/models/mi_c/deployments"}
    assert not any(r.path == "/v4/model-deployments" for r in emulator.requests)


def test_unmanaged_ignore_silences_known_ones(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    text = DECLARED.replace('  - "scratch-*"', '  - "scratch-*"\n  - "rogue"\n  - "mi_c/*"')
    result = run_check(manifest(text), "--unmanaged", "--format", "json")
    assert result.code == 0
    assert report(result)["unmanaged"] == []


def test_empty_account(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    result = run_check(manifest(DECLARED), "--unmanaged", "--format", "json")
    data = report(result)
    assert result.code == 2
    assert data["summary"]["missing"] == 3
    assert data["unmanaged"] == []
    assert data["summary"]["live_total"] == 0


def test_failing_page_fails_closed(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    populate(emulator)
    emulator.script_list(None, 2, *[Reply(status=503)] * 4)
    result = run_check(manifest(DECLARED), "--unmanaged", "--page-size", "2", "--format", "json")
    data = report(result)
    assert result.code == 1
    assert data["listing_error"]["kind"] == "http"
    assert "could not list live deployments (account)" in data["listing_error"]["message"]
    # the declared deployments are still checked, one GET each
    assert data["summary"]["in_sync"] == 3


@pytest.mark.parametrize(
    "page",
    [
        {"current_page": 2, "items": [], "items_per_page": 2, "total_item_count": 6},
        {"current_page": 2, "items": [{"id": "x"}], "items_per_page": 2, "total_item_count": 9},
        {"current_page": 7, "items": [{"id": "x"}], "items_per_page": 2, "total_item_count": 6},
        {"current_page": 2, "items": "nope", "items_per_page": 2, "total_item_count": 6},
    ],
)
def test_inconsistent_page_fails_closed(
    emulator: Emulator, run_check: Any, manifest: Any, page: dict[str, Any]
) -> None:
    populate(emulator)
    emulator.script_list(None, 2, Reply(body=page))
    result = run_check(manifest(DECLARED), "--unmanaged", "--page-size", "2", "--format", "json")
    data = report(result)
    assert result.code == 1
    assert data["listing_error"]["kind"] == "invalid_response"
    assert "inconsistent list page 2" in data["listing_error"]["message"]


def test_listed_but_404_on_get_is_missing_and_never_unmanaged(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    emulator.script("mi_a", "dep_2", Reply(status=404, body={"detail": "Not Found"}))
    result = run_check(manifest(DECLARED), "--unmanaged", "--fetch", "get", "--format", "json")
    data = report(result)
    assert [d["status"] for d in data["deployments"]] == ["in_sync", "missing", "in_sync"]
    assert "dep_2" not in [u["deployment_id"] for u in data["unmanaged"]]


def test_fetch_modes_give_identical_verdicts(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    emulator.put(make_deployment("mi_a", "dep_2", status="FAILED"))
    text = (
        DECLARED.replace("deployment_id: dep_2", "deployment_id: dep_2\n    status: READY")
        + "  - model_instance_id: mi_b\n    deployment_id: dep_gone\n"
    )
    path = manifest(text)

    def verdicts(mode: str) -> tuple[Any, int]:
        emulator.clear_requests()
        result = run_check(path, "--fetch", mode, "--format", "json")
        data = report(result)
        return [(d["status"], d["differences"]) for d in data["deployments"]], len(
            emulator.requests
        )

    by_get, get_requests = verdicts("get")
    by_list, list_requests = verdicts("list")
    by_auto, _ = verdicts("auto")
    assert by_get == by_list == by_auto
    assert [v[0] for v in by_get] == ["in_sync", "drifted", "in_sync", "missing"]
    assert get_requests == 4
    assert list_requests == 3  # one page per declared model instance + a GET for dep_gone


def test_account_id_is_sent_to_list_endpoint(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    populate(emulator)
    run_check(manifest(DECLARED), "--unmanaged", "--account-id", "acct_emulator")
    listed = [r for r in emulator.requests if r.path == "/v4/model-deployments"]
    assert listed and all(r.query.get("account_id") == "acct_emulator" for r in listed)
    assert all(r.headers.get("x-selected-account-id") == "acct_emulator" for r in listed)


def test_model_instance_id_without_unmanaged_is_usage_error(run_check: Any, manifest: Any) -> None:
    result = run_check(manifest(DECLARED), "--model-instance-id", "mi_a")
    assert result.code == 1
    assert "--model-instance-id scopes --unmanaged" in result.stderr


def test_auto_uses_gets_for_small_sets_and_lists_at_scale(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    lines = ["version: 1", "deployments:"]
    for i in range(120):
        mi = f"mi_{i % 2}"
        emulator.put(make_deployment(mi, f"dep_{i}"))
        lines.append(f"  - {{model_instance_id: {mi}, deployment_id: dep_{i}}}")
    small = manifest("\n".join(lines[:7]) + "\n", "small.yaml")
    assert run_check(small).code == 0
    assert len(emulator.requests) == 5  # one GET each: the canonical read
    emulator.clear_requests()
    large = manifest("\n".join(lines) + "\n", "large.yaml")
    assert run_check(large).code == 0
    assert sorted(r.path for r in emulator.requests) == [
        "/v4/models/mi_0/deployments",
        "/v4/models/mi_1/deployments",
    ]


def _one_instance_each(emulator: Emulator, manifest: Any, count: int = 120) -> str:
    lines = ["version: 1", "deployments:"]
    for i in range(count):
        emulator.put(make_deployment(f"mi_{i}", f"dep_{i}"))
        lines.append(f"  - {{model_instance_id: mi_{i}, deployment_id: dep_{i}}}")
    path: str = manifest("\n".join(lines) + "\n", "spread.yaml")
    return path


def test_auto_reads_the_account_list_when_model_instances_are_spread(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    path = _one_instance_each(emulator, manifest)
    assert run_check(path).code == 0
    assert [r.path for r in emulator.requests] == ["/v4/model-deployments"]


def test_auto_skips_an_account_list_much_larger_than_the_manifests(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    path = _one_instance_each(emulator, manifest)
    huge = {"current_page": 1, "items": [], "items_per_page": 10000, "total_item_count": 10**6}
    emulator.script_list(None, 1, Reply(body=huge))
    assert run_check(path).code == 0
    gets = [r for r in emulator.requests if r.route and r.route[0] == "deployment"]
    assert len(emulator.requests) == 121 and len(gets) == 120


def test_a_list_the_key_may_not_read_does_not_stop_the_gets(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    path = _one_instance_each(emulator, manifest)
    emulator.script_list(None, 1, Reply(status=403, body={"detail": "Forbidden"}))
    result = run_check(path, "--format", "json")
    assert result.code == 0
    assert json.loads(result.stdout)["summary"]["in_sync"] == 120
