"""One run over several environments: each key goes to its own environment's source."""

from __future__ import annotations

from collections.abc import Sequence

from driftcheck.envrun import EnvironmentSources
from driftcheck.live.records import Collected, Fetched, Key, ListScope, Progress


class Recorder:
    def __init__(self, name: str) -> None:
        self.description = name
        self.asked: list[list[Key]] = []

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        self.asked.append(list(keys))
        return Collected([Fetched({"from": self.description, "key": k}) for k in keys])


def test_full_list_and_subsets_go_to_the_declaring_environment() -> None:
    prod, staging = Recorder("prod"), Recorder("staging")
    shared, only_prod, only_staging = ("m", "same"), ("m", "p"), ("m", "s")
    sources = EnvironmentSources(
        [("prod", prod, [only_prod, shared]), ("staging", staging, [shared, only_staging])]
    )
    assert sources.description == "prod: prod, staging: staging"
    full = sources.collect([only_prod, shared, shared, only_staging])
    assert [o.body["from"] for o in full.outcomes] == ["prod", "prod", "staging", "staging"]
    assert prod.asked == [[only_prod, shared]] and staging.asked == [[shared, only_staging]]
    # a re-check of a subset (--wait), in another order: outcomes come back in that order
    subset = sources.collect([only_staging, only_prod])
    assert [(o.body["from"], o.body["key"]) for o in subset.outcomes] == [
        ("staging", only_staging),
        ("prod", only_prod),
    ]
