"""``check --changed-since REF``: the reviewer's view of a manifest change.

The manifests as they were at REF are read with git (``git ls-tree`` to find them, ``git
show REF:path`` to read them; the work tree is never checked out or touched) and loaded by
the same loader as the working tree's, into a temporary directory. Then:

- only deployments whose declaration changed are checked (``--all``: every one);
- each difference is ``this_change`` (the change moves desired away from what live has) or
  ``pre_existing`` (REF's declaration, judged against the same live body, already differed
  there); judging REF's declaration replays the observed responses, so it costs no request;
- deployments declared at REF and no longer declared are listed as ``removed``, with the
  status live still has (removing a declaration deletes nothing).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from driftcheck.errors import DriftcheckError
from driftcheck.live.records import Failed, Fetched, LiveSource, NotFound, Outcome
from driftcheck.manifest import MANIFEST_SUFFIXES, DesiredDeployment, DesiredState, ManifestError
from driftcheck.result import (
    ChangeScope,
    DeploymentResult,
    Origin,
    RemovedDeployment,
    RunResult,
    Status,
)
from driftcheck.wait import ObservingSource, ReplaySource, Slot, slot_of

Key = tuple[str, str]
#: ``check(desired, source)`` with the run's comparison options, by GET, without listing.
Check = Callable[[DesiredState, LiveSource], RunResult]
GIT_TIMEOUT = 60.0


@runtime_checkable
class ByEnvironment(Protocol):
    """A live source made of one source per environment (envrun.EnvironmentSources)."""

    def for_environment(self, name: str | None) -> LiveSource | None: ...


class ChangesError(DriftcheckError):
    """--changed-since cannot be used here; a usage error (exit 1), never a silent full run."""


@dataclasses.dataclass(frozen=True)
class RefState:
    """The declarations at REF, keyed by deployment (and environment)."""

    ref: str
    deployments: dict[Slot, DesiredDeployment]
    # each environment's (base_url, account_id) at REF: a deployment whose environment now
    # points at another account or API is a change, though its own declaration is not
    targets: dict[str, tuple[str | None, str | None]] = dataclasses.field(default_factory=dict)

    def select(self, desired: DesiredState, *, check_all: bool) -> tuple[DesiredState, int]:
        """The deployments to check, and how many were left out as unchanged.

        Only the changed copy of ids that several environments declare: each key names its
        environment, so the source routes it to that environment's account alone."""
        if check_all:
            return desired, 0
        chosen = tuple(
            d
            for d in desired.deployments
            if self.changed(d) or self._moved(d.environment, desired.targets)
        )
        unchanged = len(desired.deployments) - len(chosen)
        return dataclasses.replace(desired, deployments=chosen), unchanged

    def changed(self, deployment: DesiredDeployment) -> bool:
        before = self.deployments.get(slot_of(deployment))
        return before is None or _declaration(before) != _declaration(deployment)

    def _moved(
        self, environment: str | None, now: dict[str, tuple[str | None, str | None]]
    ) -> bool:
        return environment is not None and self.targets.get(environment) != now.get(environment)

    def removed(self, desired: DesiredState) -> list[DesiredDeployment]:
        declared = {slot_of(d) for d in desired.deployments}
        return [d for where, d in self.deployments.items() if where not in declared]


def _declaration(deployment: DesiredDeployment) -> str:
    """Canonical text of what a deployment declares: ``1``, ``1.0`` and ``true`` differ here
    even though Python compares them equal, so a type change counts as a change."""
    ignores = [rule.declaration for rule in deployment.ignore]
    return json.dumps([deployment.fields, ignores], sort_keys=True, default=repr)


def load_ref_state(
    ref: str, paths: Sequence[str], load: Callable[[list[str]], DesiredState]
) -> RefState:
    """Read the manifests under ``paths`` as they were at ``ref`` and load them with ``load``."""
    if not ref or ref.startswith("-"):
        raise ChangesError(f"--changed-since {ref!r}: not a git revision")
    # The repository is the one that holds the manifests, wherever the command runs from.
    anchor = _directory_of(paths[0]) if paths else os.getcwd()
    top = _git(
        ["rev-parse", "--show-toplevel"],
        anchor,
        f"--changed-since needs a git work tree, and the manifests' {anchor} is not inside one",
    )
    root = Path(top.decode("utf-8", "surrogateescape").strip())
    commit = _git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        root,
        f"--changed-since {ref}: unknown git revision",
    )
    sha = commit.decode("ascii").strip()
    files = _files_at(sha, ref, root, paths)
    with tempfile.TemporaryDirectory(prefix="driftcheck-ref-") as tmp:
        copies = []
        for name in files:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git(["show", f"{sha}:{name}"], root, f"cannot read {ref}:{name}"))
            copies.append(str(target))
        try:
            state = load(copies) if copies else DesiredState(())
        except ManifestError as exc:
            first = exc.problems[0]
            where = os.path.relpath(first.file, tmp)
            raise ChangesError(
                f"--changed-since {ref}: the manifests at {ref} do not load "
                f"({len(exc.problems)} problem(s)), first: {ref}:{where}:{first.line}:"
                f"{first.column}: {first.message}"
            ) from None
    return RefState(ref, {slot_of(d): d for d in state.deployments}, dict(state.targets))


def _directory_of(path: str) -> str:
    """An existing directory to ask git from: the path itself, or the file's directory."""
    directory = path if os.path.isdir(path) else os.path.dirname(path)
    return os.path.abspath(directory if directory and os.path.isdir(directory) else os.curdir)


def _files_at(sha: str, ref: str, root: Path, paths: Sequence[str]) -> list[str]:
    """Manifest files at ``sha`` under each path (repository-relative, sorted, unique).

    A file the change renamed or moved into the given paths is read at REF under its old name
    too: a renamed manifest is not a set of new deployments. (One moved out of them is read
    as usual: its deployments are no longer declared here, so they are listed as removed.)"""
    wanted: list[tuple[str, bool]] = []  # (repository-relative path, is an explicit file)
    for raw in paths:
        rel = os.path.relpath(os.path.realpath(raw), os.path.realpath(root))
        if rel == os.pardir or rel.startswith(os.pardir + os.sep):
            raise ChangesError(f"--changed-since {ref}: {raw} is outside the git work tree {root}")
        wanted.append(("" if rel == os.curdir else Path(rel).as_posix(), not os.path.isdir(raw)))

    def chosen(name: str) -> bool:
        for rel, explicit_file in wanted:
            if explicit_file and name == rel:
                return True
            inside = not rel or name.startswith(rel + "/")
            if not explicit_file and inside and name.endswith(MANIFEST_SUFFIXES):
                return True
        return False

    renamed = _renames(sha, ref, root)
    found: dict[str, None] = {}
    for rel, _ in wanted:
        listing = _git(
            ["ls-tree", "-r", "-z", "--full-tree", sha, "--", rel or "."],
            root,
            f"cannot list {ref}:{rel}",
        )
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, name_bytes = record.partition(b"\t")
            mode, kind = meta.split(b" ")[:2]
            name = name_bytes.decode("utf-8", "surrogateescape")
            if kind != b"blob" or mode == b"120000":
                continue  # submodules and symlinks hold no manifest text of their own
            if chosen(name):
                found[name] = None
    for old, new in renamed.items():
        if chosen(new):
            found[old] = None
    return sorted(found)


def _renames(sha: str, ref: str, root: Path) -> dict[str, str]:
    """Files renamed between ``sha`` and the work tree: old name -> new name."""
    out = _git(
        ["diff", "--no-ext-diff", "--find-renames", "--name-status", "-z", sha, "--"],
        root,
        f"cannot compare {ref} with the work tree",
    )
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    renamed: dict[str, str] = {}
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        if status.startswith("R") and index + 2 < len(fields):
            renamed[fields[index + 1]] = fields[index + 2]
            index += 3
        else:
            index += 3 if status.startswith("C") else 2
    return renamed


def _git(args: list[str], cwd: str | Path, failure: str) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise ChangesError("--changed-since needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise ChangesError(f"{failure}: git did not answer in {GIT_TIMEOUT:.0f}s") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangesError(f"{failure} ({detail[-1]})" if detail else failure)
    return done.stdout


# ---------------------------------------------------------------------------------------------
# Marking a finished run


def mark_origins(
    result: RunResult,
    ref_state: RefState,
    desired: DesiredState,
    observed: ObservingSource,
    check: Check,
    *,
    unchanged: int,
    check_all: bool,
) -> RunResult:
    """Mark each finding ``this_change`` / ``pre_existing`` and list the removed deployments."""
    slots = {slot_of(d) for d in result.deployments}
    before = tuple(
        d for where, d in ref_state.deployments.items() if where in slots and where in observed.last
    )
    replay = ReplaySource(observed, [slot_of(d) for d in before])
    judged = check(DesiredState(before), replay).deployments if before else ()
    at_ref = {slot_of(d): d for d in judged}
    deployments = tuple(_marked(d, at_ref.get(slot_of(d))) for d in result.deployments)
    return dataclasses.replace(
        result,
        deployments=deployments,
        changed_since=ChangeScope(ref_state.ref, unchanged, check_all),
        removed=_removed(ref_state.removed(desired), observed),
    )


def _marked(now: DeploymentResult, then: DeploymentResult | None) -> DeploymentResult:
    """``then``: REF's declaration judged against the same live state (None: new here)."""
    if then is None:
        findings: set[tuple[str, str]] = set()
        was_missing = False
    else:
        findings = {(d.path, d.kind.value) for d in then.differences}
        was_missing = then.status is Status.MISSING
    differences = tuple(
        dataclasses.replace(
            diff,
            origin=Origin.PRE_EXISTING
            if (diff.path, diff.kind.value) in findings
            else Origin.THIS_CHANGE,
        )
        for diff in now.differences
    )
    origin = None
    if now.status is Status.MISSING:
        origin = Origin.PRE_EXISTING if was_missing else Origin.THIS_CHANGE
    return dataclasses.replace(now, differences=differences, origin=origin)


def _removed(
    gone: list[DesiredDeployment], observed: ObservingSource
) -> tuple[RemovedDeployment, ...]:
    """What live still has for each deployment the change stops declaring. Fetched through
    the inner source: these are not declared, so they get no ``checks`` count."""
    if not gone:
        return ()
    outcomes: list[Outcome] = []
    # one environment at a time, from its own source: a key no longer declared has no home
    for environment, group in itertools.groupby(gone, key=lambda d: d.environment):
        source = observed.inner
        if isinstance(source, ByEnvironment):
            source = source.for_environment(environment) or source
        keys = [d.key for d in group]
        outcomes.extend(source.collect(keys, mode="get").outcomes)
    removed = []
    for deployment, outcome in zip(gone, outcomes, strict=True):
        status: Any = None
        name: Any = deployment.name
        if isinstance(outcome, Fetched) and isinstance(outcome.body, dict):
            status = outcome.body.get("status")
            name = name or outcome.body.get("name")
        removed.append(
            RemovedDeployment(
                model_instance_id=deployment.model_instance_id,
                deployment_id=deployment.deployment_id,
                name=name if isinstance(name, str) else None,
                live_status=status if isinstance(status, str) else None,
                found=not isinstance(outcome, NotFound),
                error=outcome.error if isinstance(outcome, Failed) else None,
                environment=deployment.environment,
            )
        )
    return tuple(removed)
