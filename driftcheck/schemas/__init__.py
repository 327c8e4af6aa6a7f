"""JSON Schemas (draft 2020-12) of what driftcheck reads and writes.

The manifest's schema is generated from its pydantic models (one source of truth for
validation and editors); the report's and the snapshot's are hand-written files shipped as
package data, because those documents are written by plain code, not by a model. Tests
validate every JSON document the tool writes against them.
"""

from __future__ import annotations

from typing import Literal

SchemaKind = Literal["manifest", "report", "snapshot"]
KINDS: tuple[SchemaKind, ...] = ("manifest", "report", "snapshot")


def schema_text(kind: SchemaKind) -> str:
    """The schema of ``kind`` as published by ``driftcheck schema --kind KIND``."""
    import json  # imported here: cli.py imports this module even for `driftcheck --version`

    if kind == "manifest":
        from driftcheck.manifest import json_schema

        return json.dumps(json_schema(), indent=2) + "\n"
    from importlib import resources  # here: `driftcheck --version` must not pay for it

    return resources.files(__name__).joinpath(f"{kind}.schema.json").read_text(encoding="utf-8")


def load(kind: SchemaKind) -> dict[str, object]:
    import json

    document = json.loads(schema_text(kind))
    if not isinstance(document, dict):  # pragma: no cover - the shipped files are objects
        raise TypeError(f"the {kind} schema is not a JSON object")
    return document
