"""``driftcheck render``: one environment's effective manifest, as plain manifest v1 YAML.

No ``environments`` and no references are left: every value is the one that won, followed by a
``# file:line`` comment saying where it came from. A value from ``${env:NAME}`` is written as
``(sensitive)``; a literal ``${`` is written escaped (``$${``), so the output reads back the
same. A file's top-level ``ignore`` is folded into each of its deployments, because in one
merged file it would otherwise cover the other files' deployments too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from driftcheck.manifest.effective import Effective
from driftcheck.manifest.interpolate import Origin, escape
from driftcheck.manifest.models import UNMANAGED_IGNORE
from driftcheck.manifest.scalars import reads_as_string
from driftcheck.manifest.sets import Selection, effective_set
from driftcheck.manifest.yaml import Path

SENSITIVE = "(sensitive)"
_IDS = ("model_instance_id", "deployment_id")
# Plain scalars are kept to a conservative alphabet; anything else is double-quoted.
_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9_./@()+ -]*\Z")
# JSON leaves these raw; in YAML they break a line or are not allowed.
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")


def render(documents: Sequence[Effective], environment: str | None) -> str:
    lines = [
        f"# driftcheck render{f' --env {environment}' if environment else ''}: the effective "
        "manifest (plain manifest v1; each value's origin in a comment)",
        "version: 1",
    ]
    silenced: list[tuple[Any, Origin | None]] = []
    deployments: list[tuple[Effective, Path, dict[str, Any]]] = []
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            continue
        for index, pattern in enumerate(data.get(UNMANAGED_IGNORE) or ()):
            silenced.append((pattern, document.origins.get((UNMANAGED_IGNORE, index))))
        for index, item in enumerate(data.get("deployments") or ()):
            if isinstance(item, dict):
                deployments.append((document, ("deployments", index), item))
    if silenced:
        lines.append(f"{UNMANAGED_IGNORE}:")
        lines.extend(f"  - {_scalar(p)}{_comment(o)}" for p, o in silenced)
    if not deployments:
        lines.append("deployments: []")
        return "\n".join(lines) + "\n"
    lines.append("deployments:")
    for document, path, item in deployments:
        lines.extend(_deployment(document, path, item))
    return "\n".join(lines) + "\n"


def _deployment(document: Effective, path: Path, item: dict[str, Any]) -> list[str]:
    writer = _Writer(document)
    ordered = {k: item[k] for k in _IDS if k in item}
    ordered.update((k, v) for k, v in item.items() if k not in _IDS and k != "ignore")
    for key, value in ordered.items():
        writer.entry(key, value, (*path, key), 2)
    top = document.data.get("ignore") if isinstance(document.data, dict) else None
    patterns: list[tuple[Any, Path]] = [(p, ("ignore", i)) for i, p in enumerate(top or ())]
    patterns.extend((p, (*path, "ignore", i)) for i, p in enumerate(item.get("ignore") or ()))
    if patterns:
        writer.lines.append("    ignore:")
        for pattern, at in patterns:  # a plain pattern, or a map with its reason and owner
            writer.node("      -", pattern, at, 3)
    lines = writer.lines
    # the first key goes on the list item's own line
    lines[0] = "  - " + lines[0][4:]
    return lines


class _Writer:
    def __init__(self, document: Effective) -> None:
        self.document = document
        self.lines: list[str] = []

    def entry(self, key: Any, value: Any, path: Path, depth: int) -> None:
        self.node(f"{'  ' * depth}{_key(key)}:", value, path, depth)

    def node(self, head: str, value: Any, path: Path, depth: int) -> None:
        comment = _comment(self.document.origins.get(path))
        if path in self.document.sensitive:
            self.lines.append(f"{head} {SENSITIVE}{comment}")
        elif isinstance(value, dict) and value:
            self.lines.append(f"{head}{comment}")
            for key, child in value.items():
                self.entry(key, child, (*path, key), depth + 1)
        elif isinstance(value, list) and value:
            self.lines.append(f"{head}{comment}")
            for index, child in enumerate(value):
                self.node(f"{'  ' * (depth + 1)}-", child, (*path, index), depth + 2)
        else:
            self.lines.append(f"{head} {_scalar(value)}{comment}")


def _comment(origin: Origin | None) -> str:
    if origin is None or origin.line <= 0:
        return "" if origin is None or origin.note is None else f"  # {origin.note}"
    note = f" ({origin.note})" if origin.note else ""
    return f"  # {origin.file}:{origin.line}{note}"


def _key(key: Any) -> str:
    return _text(key) if isinstance(key, str) else _scalar(key)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _text(escape(str(value)))


def _text(text: str) -> str:
    if text and _PLAIN.match(text) and not text.endswith(" ") and reads_as_string(text):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def render_paths(paths: Sequence[str], selection: Selection) -> str:
    """The effective manifest of the set under ``paths`` for its one selected environment."""
    environment, documents = effective_set(paths, selection)
    return render(documents, environment)
