"""What loading the manifests produces: the desired state, or every problem found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from driftcheck import spec
from driftcheck.errors import DriftcheckError, Problem
from driftcheck.ignore import IgnoreRule
from driftcheck.paths import PathPattern


class ManifestError(DriftcheckError):
    """Every problem found in the manifests, reported together."""

    headline_prefix = "driftcheck: "

    def __init__(self, problems: Sequence[Problem]) -> None:
        count = len(problems)
        plural = "s" if count != 1 else ""
        super().__init__(f"{count} manifest problem{plural}; nothing was checked", problems)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class EnvironmentKey(tuple[str, str]):
    """``(model_instance_id, deployment_id)`` that also says which environment declares it.

    Equal to (and hashed as) the plain pair, so everything keyed by ids works as before; what
    serves several environments reads ``environment``: the same ids may exist in two accounts,
    and a request must go to the account of the declaration it is for."""

    environment: str

    def __new__(cls, ids: tuple[str, str], environment: str = "") -> EnvironmentKey:
        key = super().__new__(cls, ids)
        key.environment = environment
        return key


Scoped = tuple[str | None, str, str]


def scoped(key: tuple[str, str]) -> Scoped:
    """The ids with their environment (None without environments): tells apart the same ids
    declared in two environments."""
    return (getattr(key, "environment", None), key[0], key[1])


@dataclass(frozen=True)
class DesiredDeployment:
    """One declared deployment: raw declared fields plus where each came from."""

    model_instance_id: str
    deployment_id: str
    fields: dict[str, Any]
    file: str
    line: int
    lines: dict[tuple[str | int, ...], int]
    ignore: tuple[IgnoreRule, ...] = ()  # the manifest's own: top-level, then this deployment's
    column: int = 1
    # With environments: which one this is, and the file of each path whose winning value
    # sits in another file than the deployment (a `vars` entry); None/empty without them.
    environment: str | None = None
    files: dict[tuple[str | int, ...], str] = field(default_factory=dict)
    # patterns from the manifest's `sensitive:` lists (sensitive.py masks what they cover)
    sensitive: tuple[PathPattern, ...] = ()
    # Paths whose value came from ${env:NAME}: sensitive, whatever their name (the seam for
    # sensitive-value masking).
    sensitive_paths: frozenset[tuple[str | int, ...]] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        ids = (self.model_instance_id, self.deployment_id)
        return ids if self.environment is None else EnvironmentKey(ids, self.environment)

    @property
    def name(self) -> str | None:
        value = self.fields.get("name")
        return value if isinstance(value, str) else None

    def line_for(self, path: tuple[str | int, ...]) -> int:
        """The line that declares ``path``; inside free-form maps the nearest declared parent;
        otherwise (a defaulted field) the deployment's line."""
        declared = self._declared(path)
        return self.line if declared is None else self.lines[declared]

    def file_for(self, path: tuple[str | int, ...]) -> str | None:
        """With environments, the file of :meth:`line_for`'s line; None without them (the
        deployment's own file is the report's ``manifest.file``)."""
        if self.environment is None:
            return None
        declared = self._declared(path)
        return self.file if declared is None else self.files.get(declared, self.file)

    def _declared(self, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
        if path in self.lines:
            return path
        if path and path[0] in spec.FREEFORM_FIELDS:
            for end in range(len(path) - 1, 0, -1):
                if path[:end] in self.lines:
                    return path[:end]
        return None


@dataclass(frozen=True)
class DesiredState:
    deployments: tuple[DesiredDeployment, ...]
    files: tuple[str, ...] = field(default=())
    # patterns (fnmatch, on name, id or mi/id) for live deployments nobody declares on purpose
    unmanaged_ignore: tuple[str, ...] = ()
    environment: str | None = None
    # with environments: where each one's deployments live, (base_url, account_id) as the
    # manifests say; --changed-since re-checks a deployment whose environment moved
    targets: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
