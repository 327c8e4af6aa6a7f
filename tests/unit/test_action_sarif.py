"""The composite action's optional SARIF upload (code scanning)."""

from __future__ import annotations

from tests.unit.test_ci_files import _action, _step


def test_sarif_is_written_and_uploaded_only_when_asked() -> None:
    action = _action()
    assert action["inputs"]["upload-sarif"]["default"] == "false"
    assert action["inputs"]["upload-sarif"]["required"] is False
    assert "--report sarif=driftcheck.sarif" in _step(action, "Run driftcheck")["run"]
    send = _step(action, "SARIF to code scanning")
    assert send["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "inputs.upload-sarif == 'true'" in send["if"]
    assert send["with"]["sarif_file"] == "driftcheck.sarif"
    steps = action["runs"]["steps"]
    # before the exit step, which fails the job on drift
    assert steps.index(send) == len(steps) - 2
    assert action["outputs"]["sarif-report"]["value"] == "driftcheck.sarif"
