"""Emulator rollout sequences: one step per GET, the last one repeating."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.emulator import Emulator, Reply, make_deployment

PATH = "/v4/models/mi_1/deployments/dep_1"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator([make_deployment("mi_1", "dep_1"), make_deployment("mi_1", "dep_2")]) as e:
        yield e
    assert e.errors == []


def statuses(emu: Emulator, count: int) -> list[tuple[int, str | None]]:
    seen = []
    with httpx.Client(base_url=emu.url) as client:
        for _ in range(count):
            response = client.get(PATH)
            body = response.json() if response.content else {}
            seen.append((response.status_code, body.get("status")))
    return seen


def test_body_steps_then_the_last_repeats(emu: Emulator) -> None:
    emu.rollout(
        "mi_1",
        "dep_1",
        make_deployment("mi_1", "dep_1", status="DEPLOYING"),
        make_deployment("mi_1", "dep_1", status="READY"),
    )
    assert statuses(emu, 4) == [(200, "DEPLOYING"), (200, "READY"), (200, "READY"), (200, "READY")]


def test_status_strings_http_codes_and_a_list(emu: Emulator) -> None:
    emu.rollout("mi_1", "dep_1", [404, "DEPLOYING", Reply(status=503), "READY"])
    assert statuses(emu, 5) == [
        (404, None),
        (200, "DEPLOYING"),
        (503, None),
        (200, "READY"),
        (200, "READY"),
    ]


def test_scripts_come_first_and_other_routes_are_untouched(emu: Emulator) -> None:
    emu.rollout("mi_1", "dep_1", "DEPLOYING")
    emu.script("mi_1", "dep_1", Reply(status=500))
    assert statuses(emu, 2) == [(500, None), (200, "DEPLOYING")]
    with httpx.Client(base_url=emu.url) as client:
        assert client.get("/v4/models/mi_1/deployments/dep_2").json()["status"] == "READY"


def test_a_rollout_needs_steps(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="at least one step"):
        emu.rollout("mi_1", "dep_1")
