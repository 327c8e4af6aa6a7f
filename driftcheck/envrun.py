"""A run over several environments: one desired state, one live source per environment.

The engine sees one ordered list of deployments and one source; this module builds both from a
loaded set. Each environment's deployments go to a source with that environment's base URL and
``x-selected-account-id``, so a run over staging and prod sends prod's account with prod's
requests. A set without environments gives the plain desired state and the plain source.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from driftcheck.errors import DriftcheckError
from driftcheck.live.records import (
    Collected,
    Key,
    Listing,
    ListScope,
    LiveSource,
    Outcome,
    Progress,
)
from driftcheck.live.settings import HttpSettings
from driftcheck.manifest import (
    DesiredState,
    Environment,
    LoadedSet,
    Selection,
    SelectionError,
    load_set,
)

ENVIRONMENT_KEY = "environment"  # additive key of snapshot v1


def desired_of(loaded: LoadedSet) -> DesiredState:
    """Every selected environment's deployments, in order, as one desired state."""
    targets = {
        state.environment.name: (state.environment.base_url, state.environment.account_id)
        for state in loaded.states
        if state.environment is not None
    }
    if len(loaded.states) == 1:
        return replace(loaded.states[0].desired, targets=targets)
    silenced = (p for state in loaded.states for p in state.desired.unmanaged_ignore)
    return DesiredState(
        loaded.deployments, loaded.files, tuple(dict.fromkeys(silenced)), targets=targets
    )


def http_for(http: HttpSettings, environment: Environment | None) -> HttpSettings:
    """The environment's own account and base URL win over the command line's."""
    if environment is None:
        return http
    return replace(
        http,
        base_url=environment.base_url or http.base_url,
        account_id=environment.account_id or http.account_id,
    )


def source_for(loaded: LoadedSet, make: Callable[[Environment | None], LiveSource]) -> LiveSource:
    """One source per selected environment (built by ``make``), behind one ``collect``."""
    parts = [
        (state.name, _made(make, state.environment), [d.key for d in state.desired.deployments])
        for state in loaded.states
    ]
    if len(parts) == 1:
        return parts[0][1]
    return EnvironmentSources(parts)


def _made(
    make: Callable[[Environment | None], LiveSource], environment: Environment | None
) -> LiveSource:
    try:
        return make(environment)
    except DriftcheckError as exc:
        if environment is None:
            raise
        # a base URL or account from the manifest: say which environment set it, and where
        where = environment.origin
        raise DriftcheckError(
            f"environment {environment.name!r} ({where.file}:{where.line}): {exc.message}"
        ) from None


class EnvironmentSources:
    """Answers each key from the source of the environment that declares it.

    A key of a loaded set names its environment (``EnvironmentKey``) and goes to that
    environment's source. A plain key declared in several environments (the same ids in two
    accounts) goes to them in order of appearance, so a caller must ask for every copy of such
    a key, in declared order (the gate does: ``--wait`` and ``--changed-since`` bring the other
    copies along); asked alone, a copy goes to the first environment that declares it.
    """

    def __init__(self, parts: Sequence[tuple[str | None, LiveSource, Sequence[Key]]]) -> None:
        self.parts = list(parts)
        self.description = ", ".join(f"{name}: {source.description}" for name, source, _ in parts)
        self._homes: dict[Key, list[int]] = {}
        # a key that names its environment (EnvironmentKey) goes to that one's source: a
        # subset (--wait, --changed-since) may hold staging's ids without prod's same ids
        self._named = {name: index for index, (name, _, _) in enumerate(self.parts)}
        for index, (_name, _source, keys) in enumerate(self.parts):
            for key in keys:
                self._homes.setdefault(key, []).append(index)

    def for_environment(self, name: str | None) -> LiveSource | None:
        """The source of one environment (a deployment no longer declared has no home key)."""
        return next((source for part, source, _ in self.parts if part == name), None)

    def collect(
        self,
        keys: Sequence[Key],
        *,
        mode: str = "auto",
        scope: ListScope | None = None,
        progress: Progress | None = None,
    ) -> Collected:
        wanted: list[list[tuple[int, Key]]] = [[] for _ in self.parts]
        used: dict[Key, int] = {}
        for position, key in enumerate(keys):
            home = self._named.get(getattr(key, "environment", None))
            if home is None:  # ids without their environment: by order of appearance
                homes = self._homes.get(key) or [0]
                seen = used.get(key, 0)
                used[key] = seen + 1
                home = homes[min(seen, len(homes) - 1)]
            wanted[home].append((position, key))
        outcomes: list[Outcome | None] = [None] * len(keys)
        listings: list[Listing] = []
        done = 0
        for (name, source, _declared), part in zip(self.parts, wanted, strict=True):
            if not part and scope is None:
                continue
            shown = _shifted(progress, done, len(keys))
            collected = source.collect([k for _, k in part], mode=mode, scope=scope, progress=shown)
            for (position, _key), outcome in zip(part, collected.outcomes, strict=True):
                outcomes[position] = outcome
            if collected.listing is not None:
                listings.append(_tagged(collected.listing, name))
            done += len(part)
        return Collected([o for o in outcomes if o is not None], _merged(listings))


def _shifted(progress: Progress | None, done_before: int, total: int) -> Progress | None:
    if progress is None:
        return None
    return lambda done, _count: progress(done_before + done, total)


class ListedItem(dict[str, Any]):
    """A listed live deployment that knows whose account listed it: the same ids declared in
    prod do not make staging's deployment managed."""

    environment: str | None = None


def _tagged(listing: Listing, environment: str | None) -> Listing:
    items: list[dict[str, Any]] = []
    for item in listing.items:
        tagged = ListedItem(item)
        tagged.environment = environment
        items.append(tagged)
    return replace(listing, items=items)


def _merged(listings: list[Listing]) -> Listing | None:
    """Every environment's live deployments; the first listing error stands for the run."""
    if not listings:
        return None
    error = next((listing.error for listing in listings if listing.error is not None), None)
    items = [item for listing in listings for item in listing.items]
    return Listing(items, listings[0].scope, error)


def check_snapshot_environment(loaded: LoadedSet, path: str) -> None:
    """``--live-from`` must read a snapshot of the environment being checked."""
    names = [state.name for state in loaded.states]
    if len(names) > 1:
        raise DriftcheckError(
            "--live-from reads one environment's snapshot: choose one with --env NAME "
            f"(selected: {', '.join(str(n) for n in names)})"
        )
    wanted = names[0]
    recorded = _recorded_environment(path)
    if recorded == wanted:
        return
    if wanted is None:
        raise DriftcheckError(
            f"{path} is a snapshot of environment {recorded!r}, but the manifests define "
            "no environments"
        )
    if recorded is None:
        raise DriftcheckError(
            f"{path} records no environment, so it cannot stand for environment {wanted!r}; "
            f"record it with: driftcheck snapshot --env {wanted}"
        )
    raise DriftcheckError(
        f"{path} is a snapshot of environment {recorded!r}, not {wanted!r}: "
        f"record one with: driftcheck snapshot --env {wanted}"
    )


def _recorded_environment(path: str) -> str | None:
    # SnapshotSource reports every other problem of the file; only the name is needed here.
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    value = data.get(ENVIRONMENT_KEY) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def single_environment(loaded: LoadedSet, command: str) -> Environment | None:
    """A snapshot records one environment (one account, one base URL)."""
    if len(loaded.states) > 1:
        names = ", ".join(str(state.name) for state in loaded.states)
        raise DriftcheckError(
            f"{command} records one environment at a time: choose one with --env NAME "
            f"(selected: {names})"
        )
    return loaded.states[0].environment


def state_at_ref(files: list[str], selection: Selection) -> DesiredState:
    """The manifests at ``--changed-since REF`` for the same environments. A REF that predates
    the selected environments declared nothing for them: everything there is this change."""
    try:
        return desired_of(load_set(files, selection))
    except SelectionError:
        return DesiredState(())
