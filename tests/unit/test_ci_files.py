"""The CI integration files: the pre-commit hook runs the way pre-commit runs it, the composite
action has the structure GitHub requires and its scripts keep driftcheck's exit code, and the
YAML examples in docs/ci.md parse."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftcheck.live.records import Fetched
from driftcheck.live.snapshot import snapshot_document
from tests.emulator import launch_config, make_deployment

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
DOCS = ROOT / "docs" / "ci.md"
BIN = str(Path(sys.executable).parent)

VALID = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    vendor_configuration:
      vendor: LAUNCH
      max_workers: {max_workers}
"""
INVALID = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_1
    vendor_configuration:
      vendor: LAUNCH
      num_shards: 4
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SGP_", "GITHUB_"))}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


def _manifest(folder: Path, name: str, text: str) -> str:
    path = folder / "manifests" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path.relative_to(folder))


# ---------------------------------------------------------------------------------------------
# pre-commit


def _hook() -> dict[str, Any]:
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    found = [hook for hook in hooks if hook.get("id") == "driftcheck-validate"]
    assert len(found) == 1
    hook: dict[str, Any] = found[0]
    return hook


def _run_hook(cwd: Path, filenames: list[str]) -> subprocess.CompletedProcess[str]:
    """What pre-commit does: shlex-split ``entry``, append ``args``, then the filenames that
    ``files``/``exclude`` select (pre-commit matches them with ``re.search``)."""
    hook = _hook()
    files = re.compile(hook.get("files", ""))
    exclude = re.compile(hook["exclude"]) if hook.get("exclude") else None
    selected = [f for f in filenames if files.search(f) and not (exclude and exclude.search(f))]
    command = [*shlex.split(hook["entry"]), *hook.get("args", [])]
    if hook.get("pass_filenames", True):
        command += selected
    assert shutil.which(command[0], path=BIN), f"{command[0]} is not installed in {BIN}"
    return subprocess.run(
        command, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60, check=False
    )


def test_hook_definition() -> None:
    hook = _hook()
    assert hook["entry"] == "driftcheck validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["name"]
    files = re.compile(hook["files"])
    for path in ("manifests/prod.yaml", "manifests/team/a.yml", "deploy/manifests/x.yaml"):
        assert files.search(path), path
    for path in (".github/workflows/ci.yml", "manifests/README.md", "charts/values.yaml"):
        assert not files.search(path), path


def test_hook_passes_on_a_valid_manifest(tmp_path: Path) -> None:
    name = _manifest(tmp_path, "prod.yaml", VALID.format(max_workers=2))
    done = _run_hook(tmp_path, [name, "README.md", ".github/workflows/ci.yml"])
    assert done.returncode == 0, done.stderr
    assert "ok: 1 deployment in 1 manifest" in done.stdout


def test_hook_fails_on_an_invalid_manifest(tmp_path: Path) -> None:
    good = _manifest(tmp_path, "good.yaml", VALID.format(max_workers=2).replace("mi_1", "mi_0"))
    bad = _manifest(tmp_path, "bad.yaml", INVALID)
    done = _run_hook(tmp_path, [good, bad])
    assert done.returncode == 1
    assert f"{bad}:7:7: 'num_shards' is not valid for vendor LAUNCH" in done.stderr


def test_hook_sees_duplicates_across_changed_files(tmp_path: Path) -> None:
    first = _manifest(tmp_path, "a.yaml", VALID.format(max_workers=1))
    second = _manifest(tmp_path, "b.yaml", VALID.format(max_workers=2))
    done = _run_hook(tmp_path, [first, second])
    assert done.returncode == 1
    assert "duplicate deployment mi_1/dep_1" in done.stderr
    assert _hook()["require_serial"] is True


# ---------------------------------------------------------------------------------------------
# GitHub composite action


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return action


def _step(action: dict[str, Any], name_part: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        s for s in action["runs"]["steps"] if name_part in s.get("name", "")
    ]
    assert len(found) == 1, name_part
    return found[0]


def test_action_structure() -> None:
    action = _action()
    assert action["name"] and action["description"]
    inputs = action["inputs"]
    for name in ("manifests", "python-version", "args", "api-key", "version"):
        assert name in inputs, name
        assert inputs[name]["description"]
        assert inputs[name]["required"] is False
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    runs = action["runs"]
    assert runs["using"] == "composite"
    steps = runs["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash", step["name"]  # required in composite actions
            # Expressions only through env: pasted into a script they could inject commands.
            assert "${{" not in step["run"], step["name"]
    install = _step(action, "Install")
    assert install["env"]["DRIFTCHECK_ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$DRIFTCHECK_ACTION_PATH"' in install["run"]
    check = _step(action, "Run driftcheck")
    assert check["id"] == "check"
    for part in (
        "driftcheck check",
        "--format github",
        "--report junit=driftcheck-junit.xml",
        "--report json=driftcheck.json",
    ):
        assert part in check["run"], part
    upload = _step(action, "Upload")
    assert set(upload["with"]["path"].split()) == {"driftcheck-junit.xml", "driftcheck.json"}
    assert steps[-1]["env"]["DRIFTCHECK_EXIT_CODE"] == "${{ steps.check.outputs.exit-code }}"


_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def _resolve(value: str, context: dict[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in context, f"unexpected expression {name}"
        return context[name]

    return _EXPRESSION.sub(lookup, value)


def _run_step(
    step: dict[str, Any], cwd: Path, context: dict[str, str], extra_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a composite step's script the way the runner does: ``bash -e {0}`` with its env."""
    env = _env(**extra_env)
    env.update({k: _resolve(str(v), context) for k, v in step.get("env", {}).items()})
    script = cwd / "step.sh"
    script.write_text(step["run"], encoding="utf-8")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _outputs(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return dict(pairs)


@pytest.mark.parametrize(("declared", "expected"), [(1, 0), (3, 2)])
def test_action_scripts_keep_the_exit_code(tmp_path: Path, declared: int, expected: int) -> None:
    manifest = _manifest(tmp_path, "prod.yaml", VALID.format(max_workers=declared))
    body = make_deployment("mi_1", "dep_1", vendor_configuration=launch_config(max_workers=1))
    snapshot = tmp_path / "live.json"
    document = snapshot_document("test", [("mi_1", "dep_1")], [Fetched(body)], "2026-11-27")
    snapshot.write_text(json.dumps(document), encoding="utf-8")
    outputs, summary = tmp_path / "outputs", tmp_path / "summary.md"
    outputs.touch()
    github = {"GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    context = {
        "inputs.manifests": manifest,
        "inputs.args": f"--live-from {snapshot.name} --no-color",
        "inputs.api-key": "",
    }

    action = _action()
    done = _run_step(_step(action, "Run driftcheck"), tmp_path, context, github)
    assert done.returncode == 0, done.stderr  # the reports must still be uploaded
    code = _outputs(outputs)["exit-code"]
    assert code == str(expected)
    assert (tmp_path / "driftcheck-junit.xml").is_file()
    report = json.loads((tmp_path / "driftcheck.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == expected
    assert "### driftcheck" in summary.read_text(encoding="utf-8")
    if expected == 2:
        assert f"::error file={manifest},line=7" in done.stdout

    context["steps.check.outputs.exit-code"] = code
    final = _run_step(action["runs"]["steps"][-1], tmp_path, context, github)
    assert final.returncode == expected


def test_action_exit_step_fails_without_a_code(tmp_path: Path) -> None:
    context = {"steps.check.outputs.exit-code": ""}
    final = _run_step(_action()["runs"]["steps"][-1], tmp_path, context, {})
    assert final.returncode == 1


def test_action_api_key_input_only_overrides_when_given(tmp_path: Path) -> None:
    # Replace driftcheck with a stub that reports whether it received a key.
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "driftcheck"
    stub.write_text('#!/bin/sh\necho "key=${SGP_API_KEY:-none}"\nexit 2\n', encoding="utf-8")
    stub.chmod(0o755)
    outputs = tmp_path / "outputs"
    outputs.touch()
    step = _step(_action(), "Run driftcheck")
    for given, inherited, seen in (
        ("abc", "", "key=abc"),
        ("", "job", "key=job"),
        ("", "", "key=none"),
    ):
        context = {"inputs.manifests": "m", "inputs.args": "", "inputs.api-key": given}
        extra = {"GITHUB_OUTPUT": str(outputs), "PATH": f"{stub_dir}{os.pathsep}/usr/bin:/bin"}
        if inherited:
            extra["SGP_API_KEY"] = inherited
        done = _run_step(step, tmp_path, context, extra)
        assert done.returncode == 0
        assert seen in done.stdout.splitlines()
        if given:
            assert f"::add-mask::{given}" in done.stdout
    assert _outputs(outputs)["exit-code"] == "2"


# ---------------------------------------------------------------------------------------------
# docs/ci.md


def test_docs_yaml_examples_parse() -> None:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 8
    for block in blocks:
        assert yaml.safe_load(block) is not None, block


def test_docs_cover_the_three_recipes() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for needle in (
        "## GitHub Actions",
        "## GitLab CI",
        "junit: driftcheck-junit.xml",
        "--baseline",
        "--fail-on new",
        "--report json=",
        "17 4 * * *",
        "--history",
        "--notify slack=env:",
        "--report html=",
        "--report prometheus=",
    ):
        assert needle in text, needle
