"""Accountable ignores against the emulator: dated, owned, explained ignores; what expired,
expires soon or silences nothing; ``driftcheck ignores``; quoted dotted keys; ``validate``
reading ``.driftignore``. "Today" is always injected (``--today`` / DRIFTCHECK_TODAY)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.acceptance.conftest import invoke
from tests.emulator import Emulator, Reply, make_deployment

TODAY = "2026-11-27"

MANIFEST = """\
version: 1
ignore:
  - path: deployment_metadata.rollout
    reason: rollout stamp
    owner: "@ml"
    until: 2026-11-20
  - path: deployment_metadata.team
    reason: team rename (PLAT-1)
    until: 2026-12-05
  - path: deployment_metadata.owner
    reason: owners rotate
    owner: "@platform"
    until: 2027-06-30
  - deployment_metadata.never_differs
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_a
    deployment_metadata:
      rollout: r1
      team: t1
      owner: o1
      "k.dot": 1
      k: {dot: 1}
    ignore:
      - deployment_metadata."k.dot"
"""
LINES = {"rollout": 3, "team": 7, "owner": 10, "never_differs": 14, "k.dot": 25}


def live(**metadata: Any) -> dict[str, Any]:
    values = {"rollout": "r2", "team": "t2", "owner": "o2", "k.dot": 2, "k": {"dot": 1}}
    values.update(metadata)
    return make_deployment("mi_1", "dep_a", deployment_metadata=values)


def statuses(report: dict[str, Any]) -> dict[str, tuple[str, int]]:
    return {i["pattern"]: (i["status"], i["silenced"]) for i in report["ignores"]}


def test_expired_expiring_active_unused_and_the_resurfaced_difference(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(live())
    path = manifest(MANIFEST)
    result = run_check(path, "--format", "json", "--today", TODAY)
    report = json.loads(result.stdout)
    # the expired ignore silences nothing: its difference counts, so the gate sees drift
    assert result.code == 2
    (deployment,) = report["deployments"]
    (resurfaced,) = deployment["differences"]
    assert resurfaced["path"] == "deployment_metadata.rollout"
    assert resurfaced["note"] == f"ignore expired 2026-11-20 ({path}:{LINES['rollout']})"
    assert statuses(report) == {
        "deployment_metadata.rollout": ("expired", 0),
        "deployment_metadata.team": ("expiring", 1),
        "deployment_metadata.owner": ("active", 1),
        "deployment_metadata.never_differs": ("unused", 0),
        'deployment_metadata."k.dot"': ("active", 1),
    }
    first = report["ignores"][0]
    assert first == {
        "pattern": "deployment_metadata.rollout",
        "file": path,
        "line": LINES["rollout"],
        "reason": "rollout stamp",
        "owner": "@ml",
        "until": "2026-11-20",
        "status": "expired",
        "silenced": 0,
    }
    assert [i["line"] for i in report["ignores"]] == list(LINES.values())


def test_the_day_before_expiry_it_still_silences(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(live())
    result = run_check(
        manifest(MANIFEST), "--format", "json", env={"DRIFTCHECK_TODAY": "2026-11-20"}
    )
    report = json.loads(result.stdout)
    assert result.code == 0
    assert statuses(report)["deployment_metadata.rollout"] == ("expiring", 1)
    # more than 14 days before its until, an ignore is simply active
    assert statuses(report)["deployment_metadata.team"] == ("active", 1)


def test_text_github_and_markdown_speak_of_ignores_needing_attention(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.put(live())
    path = manifest(MANIFEST)
    text = run_check(path, "--today", TODAY)
    assert text.code == 2
    assert (
        f'    ~ deployment_metadata.rollout: "r1" -> "r2"  '
        f"[ignore expired 2026-11-20 ({path}:3)]" in text.stdout.splitlines()
    )
    assert "Ignores: 1 expired, 1 expiring, 1 unused." in text.stdout
    assert f"ignore expiring 2026-12-05: deployment_metadata.team ({path}:7)" in text.stdout
    assert "reason: team rename (PLAT-1)" in text.stdout
    assert f"ignore unused: deployment_metadata.never_differs ({path}:14)" in text.stdout
    assert "owners rotate" not in text.stdout  # an active ignore needs nobody's attention

    github = run_check(path, "--format", "github", "--today", TODAY).stdout.splitlines()
    escaped = path.replace(":", "%3A").replace(",", "%2C")
    assert any(
        line.startswith(f"::warning file={escaped},line=7,title=ignore expiring::")
        for line in github
    )
    assert any(
        line.startswith(f"::notice file={escaped},line=14,title=ignore unused::") for line in github
    )
    assert any("ignore expired 2026-11-20" in line for line in github if line.startswith("::error"))

    markdown = run_check(path, "--format", "markdown", "--today", TODAY).stdout
    assert "**Ignores: 1 expired, 1 expiring, 1 unused.**" in markdown
    assert "ignore expired 2026-11-20" in markdown


def test_an_ignore_is_not_unused_when_its_deployment_was_not_compared(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    emulator.script("mi_1", "dep_a", *[Reply(status=500)] * 5)
    result = run_check(manifest(MANIFEST), "--format", "json", "--retries", "0", "--today", TODAY)
    assert result.code == 1
    found = statuses(json.loads(result.stdout))
    assert found["deployment_metadata.never_differs"] == ("active", 0)
    assert found["deployment_metadata.rollout"] == ("expired", 0)


def test_quoted_dotted_key_silences_only_that_key(
    emulator: Emulator, run_check: Any, manifest: Any
) -> None:
    text = MANIFEST.replace("k: {dot: 1}", "k: {dot: 1, other: 1}")
    emulator.put(live(rollout="r1", k={"dot": 2, "other": 2}))
    result = run_check(manifest(text), "--format", "json", "--today", TODAY)
    (deployment,) = json.loads(result.stdout)["deployments"]
    segments = [d["segments"] for d in deployment["differences"]]
    # "k.dot" (one key) is silenced; the nested k -> dot is not the same path
    assert segments == [["deployment_metadata", "k", "dot"], ["deployment_metadata", "k", "other"]]
    assert result.code == 2


def test_driftignore_dates_owner_and_reason(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    emulator.put(live(rollout="r1", team="t1", owner="o1", **{"k.dot": 1}))
    path = manifest(
        "version: 1\ndeployments:\n  - {model_instance_id: mi_1, deployment_id: dep_a,"
        " deployment_metadata: {team: t0, owner: o0}}\n"
    )
    ignore = tmp_path / ".driftignore"
    ignore.write_text(
        "# team rename\n"
        "mi_1/* deployment_metadata.team until=2026-11-26 owner=@ml # PLAT-2 rename\n"
        "*/* deployment_metadata.owner until=2026-12-31\n"
        "gone/* name\n"
    )
    result = run_check(path, "--format", "json", "--today", TODAY)
    report = json.loads(result.stdout)
    assert result.code == 2
    (diff,) = report["deployments"][0]["differences"]
    assert diff["path"] == "deployment_metadata.team"
    assert diff["note"] == f"ignore expired 2026-11-26 ({ignore}:2)"
    assert report["ignores"] == [
        {
            "pattern": "deployment_metadata.team",
            "file": str(ignore),
            "line": 2,
            "reason": "PLAT-2 rename",
            "owner": "@ml",
            "until": "2026-11-26",
            "status": "expired",
            "silenced": 0,
        },
        {
            "pattern": "deployment_metadata.owner",
            "file": str(ignore),
            "line": 3,
            "reason": None,
            "owner": None,
            "until": "2026-12-31",
            "status": "active",
            "silenced": 1,
        },
        # its selector matches no declared deployment, and everything was compared
        {
            "pattern": "name",
            "file": str(ignore),
            "line": 4,
            "reason": None,
            "owner": None,
            "until": None,
            "status": "unused",
            "silenced": 0,
        },
    ]


def test_command_line_ignore_has_no_file(emulator: Emulator, run_check: Any, manifest: Any) -> None:
    emulator.put(make_deployment("mi_1", "dep_a"))
    path = manifest(
        "version: 1\ndeployments:\n  - {model_instance_id: mi_1, deployment_id: dep_a}\n"
    )
    result = run_check(path, "--format", "json", "--ignore", "name", "--today", TODAY)
    assert json.loads(result.stdout)["ignores"] == [
        {
            "pattern": "name",
            "file": None,
            "line": None,
            "reason": None,
            "owner": None,
            "until": None,
            "status": "unused",
            "silenced": 0,
        }
    ]
    assert "ignore unused: name (--ignore)" in run_check(path, "--ignore", "name").stdout
    # no ignore at all: no "ignores" key (reports without ignores stay as they were)
    assert "ignores" not in json.loads(run_check(path, "--format", "json").stdout)


def test_invalid_dates_are_validation_errors_at_their_line(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST.replace("until: 2026-12-05", "until: 2026-13-05"))
    result = run_check(path, "--today", TODAY)
    assert result.code == 1
    assert f"{path}:9:" in result.stderr and "invalid date '2026-13-05'" in result.stderr
    assert emulator.requests == []
    good = manifest(MANIFEST, "good.yaml")
    (tmp_path / ".driftignore").write_text("*/* name until=tomorrow\n")
    bad_file = run_check(good, "--today", TODAY)
    assert bad_file.code == 1
    assert f"{tmp_path / '.driftignore'}:1: invalid date 'tomorrow'" in bad_file.stderr
    assert emulator.requests == []
    wrong_today = run_check(good, "--today", "2026-02-30")
    assert wrong_today.code == 1 and "--today" in wrong_today.stderr


def test_require_ignore_reason_in_validate_and_check(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    path = manifest(MANIFEST)
    checked = run_check(path, "--require-ignore-reason", "--today", TODAY)
    assert checked.code == 1
    assert (
        f"{path}:14: ignore 'deployment_metadata.never_differs' has no reason and no until"
        in checked.stderr
    )
    assert f"{path}:25: ignore 'deployment_metadata.\"k.dot\"'" in checked.stderr
    assert f"{path}:3:" not in checked.stderr  # reason and until given
    assert emulator.requests == []
    validated = invoke(["validate", path, "--require-ignore-reason"])
    assert validated.code == 1 and f"{path}:14:" in validated.stderr
    assert invoke(["validate", path]).code == 0

    (tmp_path / ".driftignore").write_text("*/* name until=2027-01-01\n")
    accountable = manifest(
        "version: 1\ndeployments:\n  - {model_instance_id: mi_1, deployment_id: dep_a}\n", "b.yaml"
    )
    result = invoke(["validate", accountable, "--require-ignore-reason"])
    assert result.code == 1
    assert f"{tmp_path / '.driftignore'}:1: ignore 'name' has no reason" in result.stderr
    option = run_check(accountable, "--require-ignore-reason", "--ignore", "name")
    assert option.code == 1 and "--ignore cannot give a reason" in option.stderr


def test_validate_reads_the_driftignore_check_would_read(manifest: Any, tmp_path: Path) -> None:
    path = manifest("version: 1\ndeployments:\n  - {model_instance_id: mi_1, deployment_id: d}\n")
    assert invoke(["validate", path]).code == 0
    ignore = tmp_path / ".driftignore"
    ignore.write_text("*/* name\nonly-a-selector\n")
    result = invoke(["validate", path])
    assert result.code == 1
    assert f"{ignore}:2:" in result.stderr
    assert invoke(["validate", str(tmp_path)]).code == 1  # a directory argument: same file
    other = tmp_path / "other.ignore"
    other.write_text("*/* name\n")
    assert invoke(["validate", path, "--ignore-file", str(other)]).code == 0


def test_ignores_command_lists_every_source_offline(manifest: Any, tmp_path: Path) -> None:
    path = manifest(MANIFEST)
    (tmp_path / ".driftignore").write_text("mi_1/* name owner=@ops # display only\n")
    env = {"DRIFTCHECK_TODAY": TODAY, "SGP_CLIENT_BASE_URL": "http://127.0.0.1:9"}
    result = invoke(["ignores", path, "--ignore", "status", "--format", "json"], env)
    assert result.code == 0
    document = json.loads(result.stdout)
    assert document["today"] == TODAY
    listed = [(i["pattern"], i["file"], i["line"], i["status"]) for i in document["ignores"]]
    assert listed == [
        ("deployment_metadata.rollout", path, 3, "expired"),
        ("deployment_metadata.team", path, 7, "expiring"),
        ("deployment_metadata.owner", path, 10, "active"),
        ("deployment_metadata.never_differs", path, 14, "active"),  # unused needs a run
        ('deployment_metadata."k.dot"', path, 25, "active"),
        ("status", None, None, "active"),
        ("name", str(tmp_path / ".driftignore"), 1, "active"),
    ]
    text = invoke(["ignores", path], env)
    assert text.code == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["STATUS", "UNTIL", "OWNER", "SOURCE", "APPLIES", "TO", "PATTERN"]
    # one line per ignore: status, until, owner, source, scope, pattern, then the reason
    assert lines[1].split() == [
        "expired",
        "2026-11-20",
        "@ml",
        f"{path}:3",
        "deployments",
        "of",
        "this",
        "manifest",
        "deployment_metadata.rollout",
        "#",
        "rollout",
        "stamp",
    ]
    assert lines[5].split()[:5] == ["active", "-", "-", f"{path}:25", "mi_1/dep_a"]
    assert lines[6].split() == [
        "active",
        "-",
        "@ops",
        f"{tmp_path / '.driftignore'}:1",
        "mi_1/*",
        "name",
        "#",
        "display",
        "only",
    ]
    assert text.stdout.endswith(f"\n\n6 ignores on {TODAY}: 4 active, 1 expiring, 1 expired.\n")


def test_changed_since_does_not_call_the_ignores_of_unchecked_deployments_unused(
    emulator: Emulator, run_check: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from tests.acceptance.test_changed_since import git

    def declared(name: str, workers: int) -> str:
        return (
            f"  - model_instance_id: mi_1\n    deployment_id: {name}\n"
            f"    vendor_configuration: {{vendor: LAUNCH, max_workers: {workers}}}\n"
            "    ignore: [name]\n"
        )

    root = tmp_path / "repo"
    (root / "manifests").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    prod = root / "manifests" / "prod.yaml"
    prod.write_text("version: 1\ndeployments:\n" + declared("dep_a", 1) + declared("dep_b", 1))
    (root / "manifests" / ".driftignore").write_text("mi_1/dep_b deployment_metadata\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "before")
    prod.write_text("version: 1\ndeployments:\n" + declared("dep_a", 2) + declared("dep_b", 1))
    monkeypatch.chdir(root)
    for dep in ("dep_a", "dep_b"):
        emulator.put(make_deployment("mi_1", dep, vendor_configuration={"vendor": "LAUNCH"}))
    result = run_check("manifests", "--changed-since", "HEAD", "--format", "json", "--today", TODAY)
    report = json.loads(result.stdout)
    assert [d["deployment_id"] for d in report["deployments"]] == ["dep_a"]
    found = [(i["pattern"], i["line"], i["status"]) for i in report["ignores"]]
    assert found == [
        ("name", 6, "unused"),  # dep_a was compared and its name matched
        ("name", 10, "active"),  # dep_b was not checked: not tried, so not unused
        ("deployment_metadata", 1, "active"),
    ]
