"""``!`` lines of ``.driftignore`` re-include: they silence nothing, so they cannot expire
(an expired ``!`` would hand the path back to the ignore it overrides and hide drift) and
``--require-ignore-reason`` does not ask them for a reason or a date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.acceptance.conftest import invoke
from tests.emulator import Emulator, make_deployment

MANIFEST = """\
version: 1
deployments:
  - model_instance_id: mi_1
    deployment_id: dep_a
    deployment_metadata: {team: t0}
"""


def test_a_dated_reinclude_is_an_error_at_its_line(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    emulator.put(make_deployment("mi_1", "dep_a", deployment_metadata={"team": "t1"}))
    path = manifest(MANIFEST)
    ignore = tmp_path / ".driftignore"
    ignore.write_text(
        "*/* deployment_metadata.team until=2027-01-01 # rename\n"
        "!mi_1/dep_a deployment_metadata.team until=2026-12-01 # watch this one\n"
    )
    # the day after that until, the drift must not be silenced again: the line is refused
    result = run_check(path, "--today", "2026-12-02")
    assert result.code == 1
    assert f"{ignore}:2: until= cannot date a '!' line" in result.stderr
    assert "Traceback" not in result.stderr
    assert emulator.requests == []
    offline = invoke(["validate", path])
    assert offline.code == 1 and f"{ignore}:2:" in offline.stderr


def test_require_ignore_reason_asks_nothing_of_a_reinclude(
    emulator: Emulator, run_check: Any, manifest: Any, tmp_path: Path
) -> None:
    emulator.put(make_deployment("mi_1", "dep_a", deployment_metadata={"team": "t1"}))
    path = manifest(MANIFEST)
    (tmp_path / ".driftignore").write_text(
        "*/* deployment_metadata.team until=2027-01-01 # rename (PLAT-1)\n"
        "!mi_1/dep_a deployment_metadata.team\n"
    )
    result = run_check(path, "--require-ignore-reason", "--today", "2026-11-27")
    assert result.code == 2, result.stderr  # checked, and the re-included drift is reported
    assert "deployment_metadata.team" in result.stdout
    assert invoke(["validate", path, "--require-ignore-reason"]).code == 0
