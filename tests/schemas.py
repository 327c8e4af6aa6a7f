"""Validate driftcheck's JSON output against the schemas it publishes (``driftcheck schema``).

Reusable from any test::

    from tests.schemas import assert_valid_report, assert_valid_snapshot
    assert_valid_report(json.loads(result.stdout))

``OutputWatch`` is what the acceptance tests' ``invoke`` uses to validate, after every CLI run,
each JSON report or snapshot that run wrote (stdout with ``--format json``, ``--report
json=PATH``, ``--history DIR``'s report files, ``snapshot -o PATH``): a file is checked only
when the run changed it, so a test that proves a failed run keeps a user's old file is not
affected.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from driftcheck.schemas import SchemaKind, load


@functools.cache
def validator(kind: SchemaKind) -> Draft202012Validator:
    schema = load(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(kind: SchemaKind, document: Any) -> list[str]:
    """Every way ``document`` breaks the ``kind`` schema, as ``path: message`` lines."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator(kind).iter_errors(document), key=lambda e: e.json_path)
    ]


def assert_valid(kind: SchemaKind, document: Any, what: str = "document") -> None:
    found = problems(kind, document)
    assert not found, f"{what} does not match the {kind} schema:\n" + "\n".join(found)


def assert_valid_report(document: Any, what: str = "JSON report") -> None:
    assert_valid("report", document, what)


def assert_valid_snapshot(document: Any, what: str = "snapshot") -> None:
    assert_valid("snapshot", document, what)


def _option_values(args: Sequence[str], *names: str) -> list[str]:
    """Values of a repeatable option given as ``--opt V`` or ``--opt=V``."""
    values = []
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                values.append(args[index + 1])
            elif name.startswith("--") and arg.startswith(name + "="):
                values.append(arg[len(name) + 1 :])
    return values


def _json_files(directory: str) -> list[str]:
    return sorted(str(path) for path in Path(directory).glob("*.json"))


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None


class OutputWatch:
    """Notes the JSON outputs a CLI run will write, then validates what it wrote."""

    def __init__(self, args: Sequence[str]) -> None:
        self.args = list(args)
        command = self.args[0] if self.args else ""
        self.stdout_kind: SchemaKind | None = None
        self.files: dict[str, SchemaKind] = {}
        self.history: list[str] = []  # --history DIRs: the run adds a report file to each
        if command == "check":
            if "json" in _option_values(self.args, "--format", "-f"):
                self.stdout_kind = "report"
            for target in _option_values(self.args, "--report"):
                fmt, _, path = target.partition("=")
                if fmt == "json" and path:
                    self.files[path] = "report"
            self.history = _option_values(self.args, "--history")
            for directory in self.history:  # what is there already is checked only if changed
                self.files.update(dict.fromkeys(_json_files(directory), "report"))
        elif command == "snapshot" and "--as-manifest" not in self.args:
            for path in _option_values(self.args, "-o", "--output"):
                if path == "-":
                    self.stdout_kind = "snapshot"
                else:
                    self.files[path] = "snapshot"
        self.before = {path: _read(path) for path in self.files}

    def check(self, stdout: str) -> None:
        if self.stdout_kind is not None and stdout.strip():
            assert_valid(self.stdout_kind, json.loads(stdout), f"stdout of {self.args}")
        files = dict(self.files)
        for directory in self.history:
            files.update({path: "report" for path in _json_files(directory) if path not in files})
        for path, kind in files.items():
            after = _read(path)
            if after is not None and after != self.before.get(path):
                assert_valid(kind, json.loads(after), f"{path} written by {self.args}")
