"""The nightly audit (#15): --history, --notify against a real receiver, html and prometheus."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from driftcheck.history import report_order
from tests.acceptance.test_environments import check as env_check
from tests.acceptance.test_environments import manifests, prod, staging  # noqa: F401 (fixtures)
from tests.emulator import Emulator, Reply, launch_config, make_deployment
from tests.receiver import Answer, Receiver

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_a
    name: alpha
    vendor_configuration: {vendor: LAUNCH, max_workers: 4}
  - model_instance_id: mi_1
    deployment_id: dep_b
    name: beta
    vendor_configuration: {vendor: LAUNCH, per_worker: 10}
  - model_instance_id: mi_1
    deployment_id: dep_c
"""
SECRET = "T0001/B0002/hooksecret-9f8e7d"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def state(emulator: Emulator, a: int, b: int, c: bool = True) -> None:
    emulator.put(
        make_deployment(
            "mi_1", "dep_a", name="alpha", vendor_configuration=launch_config(max_workers=a)
        )
    )
    emulator.put(
        make_deployment(
            "mi_1", "dep_b", name="beta", vendor_configuration=launch_config(per_worker=b)
        )
    )
    if c:
        emulator.put(make_deployment("mi_1", "dep_c"))
    else:
        emulator.remove("mi_1", "dep_c")


def history_files(folder: Path) -> list[str]:
    """Oldest first, in history order (``X-2.json`` after ``X.json``)."""
    return sorted((p.name for p in folder.iterdir()), key=lambda n: report_order(n) or (n, 0))


def assert_no_secret(folder: Path, *outputs: str) -> None:
    for text in outputs:
        assert SECRET not in text
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path


def test_three_nights_notify_on_change_only(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    history = tmp_path / "history"
    args = [path, "--history", str(history), "--notify", f"webhook={hook.url('/' + SECRET)}"]

    state(emulator, a=2, b=10)  # night 1: alpha drifted, no baseline yet
    first = run_check(*args, "--report-url", "https://ci.example/run/1")
    assert first.code == 2
    assert len(hook.posts) == 1
    body = hook.posts[0].json()
    assert list(body) == [
        "notification_version",
        "summary",
        "new",
        "resolved",
        "errors",
        "report_url",
    ]
    assert body["notification_version"] == 1
    assert body["summary"] == {"total": 3, "in_sync": 2, "drifted": 1, "missing": 0, "error": 0}
    assert [(n["type"], n["deployment_id"], n["path"]) for n in body["new"]] == [
        ("difference", "dep_a", "vendor_configuration.max_workers")
    ]
    assert (body["new"][0]["desired"], body["new"][0]["live"]) == (4, 2)
    assert body["resolved"] == [] and body["errors"] == []
    assert body["report_url"] == "https://ci.example/run/1"
    assert hook.posts[0].headers["content-type"] == "application/json"
    assert len(history_files(history)) == 1

    second = run_check(*args)  # night 2: nothing changed
    assert second.code == 2
    assert len(hook.posts) == 1
    assert "no notification" in second.stderr
    assert len(history_files(history)) == 2
    newest = json.loads((history / history_files(history)[-1]).read_text())
    assert newest["baseline"]["file"] == str(history / history_files(history)[0])

    state(emulator, a=4, b=20, c=False)  # night 3: alpha fixed, beta drifted, dep_c gone
    third = run_check(*args)
    assert third.code == 2
    assert len(hook.posts) == 2
    body = hook.posts[1].json()
    assert {(n["type"], n["deployment_id"]) for n in body["new"]} == {
        ("difference", "dep_b"),
        ("missing", "dep_c"),
    }
    assert [(r["deployment_id"], r["path"]) for r in body["resolved"]] == [
        ("dep_a", "vendor_configuration.max_workers")
    ]
    assert body["report_url"] is None
    assert len(history_files(history)) == 3
    assert_no_secret(tmp_path, *(r.stdout + r.stderr for r in (first, second, third)))


def test_notify_always_and_a_new_error(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    history = str(tmp_path / "history")
    state(emulator, a=4, b=10)
    url = hook.url("/" + SECRET)
    in_sync = run_check(path, "--history", history, "--notify", f"webhook={url}")
    assert in_sync.code == 0 and hook.posts == []  # a quiet first night sends nothing
    always = run_check(
        path, "--history", history, "--notify", f"webhook={url}", "--notify-on", "always"
    )
    assert always.code == 0 and len(hook.posts) == 1
    assert hook.posts[0].json()["new"] == []

    emulator.script("mi_1", "dep_b", Reply(status=422, body={"detail": "bad"}))
    errored = run_check(path, "--history", history, "--notify", f"webhook={url}")
    assert errored.code == 1
    body = hook.posts[-1].json()
    assert [(e["deployment_id"], e["kind"], e["state"]) for e in body["errors"]] == [
        ("dep_b", "http", "new")
    ]
    assert [n["type"] for n in body["new"]] == ["error"]


def test_failing_webhook_turns_the_run_red_after_every_report(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10)
    hook.script(*[Answer(503, "down")] * 3)
    out = tmp_path / "out"
    out.mkdir()
    result = run_check(
        path,
        "--retries",
        "2",
        "--history",
        str(out / "history"),
        "--notify",
        f"slack={hook.url('/services/' + SECRET)}",
        "--report",
        f"json={out / 'report.json'}",
        "--report",
        f"html={out / 'report.html'}",
        "--report",
        f"prometheus={out / 'drift.prom'}",
    )
    assert result.code == 1  # drift alone would be 2: the lost alert wins
    assert len(hook.posts) == 3  # the first try and two retries
    assert "slack notification failed: HTTP 503: down after 2 retries" in result.stderr
    assert json.loads((out / "report.json").read_text())["exit_code"] == 2
    assert "alpha" in (out / "report.html").read_text()
    assert (out / "drift.prom").read_text().startswith("# HELP")
    assert len(list((out / "history").iterdir())) == 1
    assert_no_secret(tmp_path, result.stdout, result.stderr)


def test_retry_after_then_delivered(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10)
    hook.script(Answer(429, "slow down", {"retry-after": "0"}))
    result = run_check(path, "--notify", f"webhook={hook.url()}")
    assert result.code == 2
    assert len(hook.posts) == 2
    assert hook.posts[0].body == hook.posts[1].body
    assert "webhook notification sent" in result.stderr


@pytest.mark.parametrize(
    ("answer", "posts", "message"),
    [
        (Answer(404, "no_service"), 1, "HTTP 404: no_service"),  # never retried
        (Answer(302, "", {"location": "http://127.0.0.1:9/x"}), 1, "redirect not followed"),
        (Answer(500, "", {"x-should-retry": "false"}), 1, "HTTP 500"),
    ],
)
def test_refused_notifications_are_not_retried(
    emulator: Emulator,
    run_check: Any,
    manifest: Any,
    hook: Receiver,
    answer: Answer,
    posts: int,
    message: str,
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=4, b=10)
    hook.script(answer)
    result = run_check(path, "--notify-on", "always", "--notify", f"slack={hook.url()}")
    assert result.code == 1
    assert len(hook.posts) == posts
    assert message in result.stderr


def test_slack_body_lists_at_most_twenty(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver
) -> None:
    lines = ["version: 1", "deployments:"]
    for index in range(25):
        lines += [
            "  - model_instance_id: mi_1",
            f"    deployment_id: dep_{index:02d}",
            f"    name: <b>svc-{index}</b> & co",
        ]
    path = manifest("\n".join(lines) + "\n")
    result = run_check(
        path,
        "--notify",
        f"slack={hook.url()}",
        "--report-url",
        "https://ci.example/run/7",
    )
    assert result.code == 2  # all 25 missing
    body = hook.posts[0].json()
    assert set(body) == {"text", "blocks"}
    assert "25 new, 0 resolved" in body["text"]
    assert "25 missing" in body["text"]
    texts = [json.dumps(block) for block in body["blocks"]]
    listing = next(b["text"]["text"] for b in body["blocks"] if "Findings" in json.dumps(b))
    assert listing.count("\n• ") == 20 and listing.endswith("…and 5 more")
    assert "&lt;b&gt;svc-0&lt;/b&gt; &amp; co" in listing and "<b>" not in listing
    assert any("<https://ci.example/run/7|Open the report>" in text for text in texts)
    assert all(
        len(b["text"]["text"]) <= 3000
        for b in body["blocks"]
        if b["type"] == "section" and "text" in b
    )


def test_notify_url_from_the_environment(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10)
    env = {"HOOK_URL": hook.url("/" + SECRET)}
    result = run_check(path, "--notify", "webhook=env:HOOK_URL", env=env)
    assert result.code == 2 and len(hook.posts) == 1
    assert hook.posts[0].path == "/" + SECRET
    unset = run_check(path, "--notify", "webhook=env:NOPE_UNSET")
    assert unset.code == 1 and "NOPE_UNSET is not set" in unset.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"slack=http://hooks.example.com/{SECRET}", "the slack URL uses plain http"),
        (f"https://hooks.example.com/{SECRET}", "expected slack=URL or webhook=URL"),
        (f"teams=https://hooks.example.com/{SECRET}", "unknown notification kind 'teams'"),
        (f"webhook=ftp://x/{SECRET}", "the webhook URL must start with https://"),
        # was accepted, then looked up in DNS after the run (R6)
        (f"webhook=https://[bad/{SECRET}", "the webhook URL is not a valid URL"),
    ],
)
def test_bad_notify_values_are_usage_errors_without_the_url(
    run_check: Any, manifest: Any, value: str, message: str
) -> None:
    result = run_check(manifest(MANIFEST), "--notify", value)
    assert result.code == 1
    assert message in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_first_run_in_sync_sends_nothing_and_says_why(
    emulator: Emulator, run_check: Any, manifest: Any, hook: Receiver, tmp_path: Path
) -> None:
    state(emulator, a=4, b=10)
    result = run_check(
        manifest(MANIFEST), "--history", str(tmp_path / "h"), "--notify", f"webhook={hook.url()}"
    )
    assert result.code == 0
    assert hook.posts == []
    # there is no baseline yet: "nothing changed since the baseline" would be untrue (R6)
    assert "no findings (no baseline); no notification" in result.stderr


def test_keep_needs_history(run_check: Any, manifest: Any) -> None:
    result = run_check(manifest(MANIFEST), "--keep", "3")
    assert result.code == 1 and "add --history" in result.stderr


def old_report(folder: Path, name: str, drifted: int) -> None:
    report = {
        "report_version": 1,
        "started_at": name[:10] + "T04:00:00Z",
        "summary": {
            "total": 3,
            "in_sync": 3 - drifted,
            "drifted": drifted,
            "missing": 0,
            "error": 0,
        },
        "deployments": [],
    }
    (folder / name).write_text(json.dumps(report), encoding="utf-8")


def test_history_prunes_oldest_and_keeps_unreadable_files(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10)
    history = tmp_path / "history"
    history.mkdir()
    for day, drifted in ((1, 0), (2, 1), (3, 2)):
        old_report(history, f"2020-01-0{day}T04-00-00Z.json", drifted)
    (history / "2020-01-02T04-00-00Z-2.json").write_text("{not json", encoding="utf-8")
    (history / "notes.txt").write_text("mine", encoding="utf-8")
    html = tmp_path / "report.html"

    result = run_check(path, "--history", str(history), "--keep", "2", "--report", f"html={html}")
    assert result.code == 2
    assert "history: skipped" in result.stderr and "2020-01-02T04-00-00Z-2.json" in result.stderr
    names = history_files(history)
    assert "2020-01-02T04-00-00Z-2.json" in names  # unreadable: warned about, never deleted
    assert "notes.txt" in names  # not a history file: left alone
    assert "2020-01-03T04-00-00Z.json" in names
    assert "2020-01-01T04-00-00Z.json" not in names and "2020-01-02T04-00-00Z.json" not in names
    assert len(names) == 4
    page = html.read_text()
    assert page.count('class="run"') == 4  # three earlier runs and this one
    assert "2020-01-01T04:00:00Z" in page


def test_history_folder_that_is_a_file(run_check: Any, manifest: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "history"
    blocker.write_text("x", encoding="utf-8")
    result = run_check(manifest(MANIFEST), "--history", str(blocker))
    assert result.code == 1 and "is a file" in result.stderr


def test_prometheus_report_parses(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    state(emulator, a=2, b=10, c=False)
    target = tmp_path / "driftcheck.prom"
    result = run_check(path, "--report", f"prometheus={target}")
    assert result.code == 2
    families = {f.name: f for f in text_string_to_metric_families(target.read_text())}
    by_status = {s.labels["status"]: s.value for s in families["driftcheck_deployments"].samples}
    assert by_status == {"in_sync": 1.0, "drifted": 1.0, "missing": 1.0, "error": 0.0}
    drifted = {
        (s.labels["deployment_id"], s.labels["name"], s.labels["environment"]): s.value
        for s in families["driftcheck_deployment_drifted"].samples
    }
    assert drifted == {
        ("dep_a", "alpha", ""): 1.0,
        ("dep_b", "beta", ""): 0.0,
        ("dep_c", "", ""): 1.0,
    }
    assert families["driftcheck_run_success"].samples[0].value == 1.0
    assert families["driftcheck_last_run_timestamp_seconds"].samples[0].value > 0
    assert os.path.getsize(target) > 0


def test_html_report_lists_accountable_ignores(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    text = MANIFEST.replace(
        "version: 1\n",
        "version: 1\nignore:\n"
        "  - path: vendor_configuration.max_workers\n"
        "    reason: scaled by hand <PLAT-1>\n"
        '    owner: "@ml-platform"\n'
        "    until: 2999-12-31\n"
        "  - deployment_metadata.never_there\n",
    )
    path = manifest(text)
    state(emulator, a=2, b=10)
    page = tmp_path / "report.html"
    result = run_check(path, "--report", f"html={page}")
    assert result.code == 0  # the only drift is silenced
    html = page.read_text()
    section = html[html.index('id="ignores-title"') :]
    assert "vendor_configuration.max_workers" in section
    assert "scaled by hand &lt;PLAT-1&gt;" in section and "@ml-platform" in section
    assert "2999-12-31" in section and ">active<" in section and ">unused<" in section


def test_environments_in_metrics_html_and_notifications(
    manifests: Path,  # noqa: F811 - the fixtures of test_environments
    staging: Emulator,  # noqa: F811
    prod: Emulator,  # noqa: F811
    hook: Receiver,
    tmp_path: Path,
) -> None:
    staging.put(
        make_deployment("mi_s", "dep_s", name="llama-70b", vendor_configuration=launch_config())
    )
    metrics, page = tmp_path / "m.prom", tmp_path / "r.html"
    result = env_check(
        manifests,
        "--env",
        "all",
        "--notify",
        f"webhook={hook.url()}",
        "--report",
        f"prometheus={metrics}",
        "--report",
        f"html={page}",
    )
    assert result.code == 2, result.stderr
    families = {f.name: f for f in text_string_to_metric_families(metrics.read_text())}
    drifted = {
        (s.labels["environment"], s.labels["deployment_id"]): s.value
        for s in families["driftcheck_deployment_drifted"].samples
    }
    assert drifted == {("staging", "dep_s"): 1.0, ("prod", "dep_p"): 0.0, ("prod", "dep_only"): 0.0}
    body = hook.posts[0].json()
    assert {(n["environment"], n["deployment_id"]) for n in body["new"]} == {("staging", "dep_s")}
    assert '<th scope="col">Environment</th>' in page.read_text()
    # the ${env:HF_TOKEN} value differs too (absent live): shown nowhere, in no output
    from tests.acceptance.test_environments import HF_TOKEN

    for text in (hook.posts[0].body.decode(), page.read_text(), metrics.read_text(), result.stdout):
        assert HF_TOKEN not in text
