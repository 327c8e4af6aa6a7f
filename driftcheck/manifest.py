"""Manifest v1: loading, strict validation with file:line:column, and the desired state."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from driftcheck import spec
from driftcheck.ignore import IgnoreRule, Source, rule_from_entry
from driftcheck.paths import PATTERN_REGEX
from driftcheck.yamlload import Document, YamlError, load

MANIFEST_VERSION = 1
UNMANAGED_IGNORE = "unmanaged-ignore"
MANIFEST_SUFFIXES = (".yaml", ".yml")


# ---------------------------------------------------------------------------------------------
# Models: the edge where untrusted YAML becomes typed data. They also produce `driftcheck schema`.


def _whole(value: int | float) -> int | float:
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not a whole number")
    return value


# JSON Schema counts 4.0 as an integer, and DESIGN compares numbers by value, so 4.0 is allowed.
WholeNumber = Annotated[StrictInt | StrictFloat, AfterValidator(_whole)]


def _finite(value: str | int | float) -> str | int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


Quantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(_finite),
    Field(description="Kubernetes quantity such as 8Gi, 8192Mi or 8589934592"),
]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]
GpuType = spec.GpuType
# The pattern grammar is checked by parse_pattern (one message per bad pattern); the regex
# is for editors only, so that the schema never accepts what `validate` rejects.
PatternText = Annotated[StrictStr, Field(json_schema_extra={"pattern": PATTERN_REGEX})]


def optional(description: str, alias: str | None = None) -> Any:
    """An optional key whose explicit ``null`` is still an error: the default is never
    validated, but a declared ``null`` is checked against the (non-null) type."""
    return Field(default=None, description=description, alias=alias)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LaunchVendorConfiguration(_Strict):
    vendor: Literal["LAUNCH"]
    min_workers: WholeNumber = optional("default 0")
    max_workers: WholeNumber = optional("default 1")
    per_worker: WholeNumber = optional("default 10")


class LLMEngineVendorConfiguration(_Strict):
    vendor: Literal["LLMENGINE"]
    cpus: WholeNumber = optional("default 3")
    memory: Quantity = optional("default 8Gi")
    storage: Quantity = optional("default 16Gi")
    gpus: WholeNumber = optional("default 0")
    gpu_type: GpuType = optional("compared only when declared")
    min_workers: WholeNumber = optional("default 0")
    max_workers: WholeNumber = optional("default 1")
    per_worker: WholeNumber = optional("default 10")
    high_priority: StrictBool = optional("default false")
    num_shards: WholeNumber = optional("default 4")
    checkpoint_path: StrictStr = optional("compared only when declared")
    model_name: StrictStr = optional("compared only when declared")
    base_model_name: StrictStr = optional("compared only when declared")
    inference_framework_image_tag: StrictStr = optional("compared only when declared")


VendorConfiguration = Annotated[
    LaunchVendorConfiguration | LLMEngineVendorConfiguration,
    Field(discriminator="vendor"),
]


class IgnoreEntry(_Strict):
    """An accountable ignore; rule_from_entry (driftcheck.ignore) checks it and words the
    messages, this model describes it for `driftcheck schema`."""

    path: PatternText
    reason: NonEmpty = optional("why this path may differ")
    owner: NonEmpty = optional("who answers for it")
    until: Annotated[StrictStr, Field(json_schema_extra={"format": "date"})] = optional(
        "YYYY-MM-DD: silences through this UTC day, then nothing"
    )


Ignores = list[PatternText | IgnoreEntry]


class DeploymentModel(_Strict):
    model_instance_id: NonEmpty
    deployment_id: NonEmpty
    name: StrictStr = optional("compared when given")
    vendor_configuration: VendorConfiguration = optional(
        "a mapping with vendor: LAUNCH or vendor: LLMENGINE"
    )
    model_endpoint_id: StrictStr = optional("compared when given")
    status: StrictStr = optional("expected live status, e.g. READY")
    model_creation_parameters: dict[StrictStr, Any] = optional(
        "free-form map: declared keys are compared"
    )
    deployment_metadata: dict[StrictStr, Any] = optional(
        "free-form map: declared keys are compared"
    )
    ignore: Ignores = optional("path patterns never reported for this deployment")


def _not_bool(value: Any) -> Any:
    # Literal[1] alone accepts `true` (True == 1); YAML and JSON Schema keep them apart.
    if isinstance(value, bool):
        raise ValueError("a boolean is not a version")
    return value


class ManifestModel(_Strict):
    version: Annotated[Literal[1], BeforeValidator(_not_bool)]
    ignore: Ignores = optional("path patterns never reported, for every deployment")
    deployments: list[DeploymentModel]
    unmanaged_ignore: list[NonEmpty] = optional(
        "with --unmanaged: live deployments never reported as unmanaged "
        "(fnmatch patterns on name, id or model_instance_id/id)",
        alias=UNMANAGED_IGNORE,
    )


def json_schema() -> dict[str, Any]:
    schema = ManifestModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "driftcheck manifest v1"
    return schema


# ---------------------------------------------------------------------------------------------
# Results of loading


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ManifestError(Exception):
    """Every problem found in the manifests, reported together."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)


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

    @property
    def key(self) -> tuple[str, str]:
        return (self.model_instance_id, self.deployment_id)

    @property
    def name(self) -> str | None:
        value = self.fields.get("name")
        return value if isinstance(value, str) else None

    def line_for(self, path: tuple[str | int, ...]) -> int:
        """The line that declares ``path``; inside free-form maps the nearest declared parent;
        otherwise (a defaulted field) the deployment's line."""
        if path in self.lines:
            return self.lines[path]
        if path and path[0] in spec.FREEFORM_FIELDS:
            for end in range(len(path) - 1, 0, -1):
                if path[:end] in self.lines:
                    return self.lines[path[:end]]
        return self.line


@dataclass(frozen=True)
class DesiredState:
    deployments: tuple[DesiredDeployment, ...]
    files: tuple[str, ...] = field(default=())
    # patterns (fnmatch, on name, id or mi/id) for live deployments nobody declares on purpose
    unmanaged_ignore: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# Loading


def discover(paths: Iterable[str]) -> tuple[list[str], list[Problem]]:
    """Expand directories to their ``*.yaml``/``*.yml`` files (sorted); report bad paths."""
    files: list[str] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
            if not found:
                problems.append(Problem(raw, 1, 1, "directory has no *.yaml or *.yml manifests"))
            files.extend(found)
        elif path.is_file():
            files.append(raw)
        elif path.exists():
            problems.append(Problem(raw, 1, 1, "not a regular file or directory"))
        else:
            problems.append(Problem(raw, 1, 1, "no such file or directory"))
    unique: list[str] = []
    seen: set[str] = set()
    for name in files:
        resolved = os.path.realpath(name)
        if resolved not in seen:
            seen.add(resolved)
            unique.append(name)
    return unique, problems


def load_manifests(paths: Iterable[str]) -> DesiredState:
    """Load and validate every manifest; raise :class:`ManifestError` with all problems."""
    files, problems = discover(paths)
    deployments: list[DesiredDeployment] = []
    unmanaged_ignore: list[str] = []
    for name in files:
        loaded, file_problems = _load_file(name, unmanaged_ignore)
        problems.extend(file_problems)
        deployments.extend(loaded)
    problems.extend(_duplicates(deployments))
    if problems:
        raise ManifestError(problems)
    return DesiredState(tuple(deployments), tuple(files), tuple(unmanaged_ignore))


def _load_file(
    name: str, unmanaged_ignore: list[str]
) -> tuple[list[DesiredDeployment], list[Problem]]:
    try:
        with open(name, "rb") as handle:
            raw = handle.read(_yaml_limit() + 1)
    except OSError as exc:
        return [], [Problem(name, 1, 1, f"cannot read: {exc.strerror or exc}")]
    if len(raw) > _yaml_limit():
        # only the first limit+1 bytes were read: never decode or parse a truncated file
        return [], [Problem(name, 1, 1, f"file is too large (over {_yaml_limit()} bytes)")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [Problem(name, 1, 1, f"not UTF-8 text (byte {exc.start})")]
    try:
        document = load(text)
    except YamlError as exc:
        return [], [Problem(name, exc.line, exc.column, exc.message)]
    return _validate(name, document, unmanaged_ignore)


def _yaml_limit() -> int:
    from driftcheck.yamlload import MAX_FILE_BYTES

    return MAX_FILE_BYTES


def _validate(
    name: str, document: Document, unmanaged_ignore: list[str]
) -> tuple[list[DesiredDeployment], list[Problem]]:
    data = document.data

    def problem(path: tuple[str | int, ...], message: str) -> Problem:
        line, column = document.position(path)
        return Problem(name, line, column, message)

    if data is None:
        return [], [problem((), "empty manifest: expected 'version: 1' and 'deployments'")]
    if not isinstance(data, dict):
        return [], [problem((), "a manifest must be a mapping with 'version' and 'deployments'")]

    problems: list[Problem] = []
    try:
        ManifestModel.model_validate(data)
    except ValidationError as exc:
        explained: set[tuple[tuple[str | int, ...], str]] = set()
        for error in exc.errors():
            if error["loc"] and str(error["loc"][-1]).endswith("[key]"):
                continue  # non-string map keys: _map_keys reports them, at every depth
            if _inside_ignore(tuple(error["loc"])):
                continue  # each ignore item: _ignores reports it in plain words
            path, message = _explain(error, data)
            if (path, message) not in explained:  # a union reports once per member
                explained.add((path, message))
                problems.append(problem(path, message))

    top_ignore = _ignores(document, name, ("ignore",), Source.MANIFEST, problems)
    deployments: list[DesiredDeployment] = []
    items = data.get("deployments")
    if not isinstance(items, list):
        return [], problems
    # one pass over the positions, not one per deployment (that was quadratic in the file)
    lines_by_item: dict[int, dict[tuple[str | int, ...], int]] = {}
    for path, position in document.locations.items():
        if len(path) > 2 and path[0] == "deployments" and isinstance(path[1], int):
            lines_by_item.setdefault(path[1], {})[path[2:]] = position[0]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        base = ("deployments", index)
        own = _ignores(document, name, (*base, "ignore"), Source.DEPLOYMENT, problems)
        for freeform in spec.FREEFORM_FIELDS:
            if isinstance(item.get(freeform), dict):
                _map_keys(item[freeform], (*base, freeform), problem, problems)
        mi, dep = item.get("model_instance_id"), item.get("deployment_id")
        if not (isinstance(mi, str) and mi and isinstance(dep, str) and dep):
            continue
        lines = lines_by_item.get(index, {})
        declared = {
            k: v
            for k, v in item.items()
            if k not in ("model_instance_id", "deployment_id", "ignore")
        }
        line, column = document.position(base)
        deployments.append(
            DesiredDeployment(
                model_instance_id=mi,
                deployment_id=dep,
                fields=declared,
                file=name,
                line=line,
                lines=lines,
                ignore=(*top_ignore, *own),
                column=column,
            )
        )
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))  # stable: same place keeps its order
        # still returned, so that a duplicate across files is reported with the rest
        return deployments, problems
    silenced = data.get(UNMANAGED_IGNORE) or []
    unmanaged_ignore.extend(p for p in silenced if isinstance(p, str))
    return deployments, problems


def _map_keys(
    value: Any,
    path: tuple[str | int, ...],
    problem: Any,
    problems: list[Problem],
) -> None:
    """Report every non-string key inside a free-form map, nested maps and lists included:
    the API speaks JSON, so a key such as ``1`` or ``yes`` (read as true) could never match."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            _map_keys(item, (*path, index), problem, problems)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                _map_keys(item, (*path, key), problem, problems)
                continue
            where = (*path, key if isinstance(key, int) else str(key))
            problems.append(
                problem(
                    where,
                    f"{_dotted(path)}: map keys must be strings, got {_describe(key)} "
                    "(put the key in quotes)",
                )
            )


def _ignores(
    document: Document,
    name: str,
    path: tuple[str | int, ...],
    source: Source,
    problems: list[Problem],
) -> tuple[IgnoreRule, ...]:
    value = _get(document.data, path)
    if not isinstance(value, list):
        return ()
    rules: list[IgnoreRule] = []
    for index, item in enumerate(value):
        line, column = document.position((*path, index))
        if not isinstance(item, (str, dict)):
            message = f"{_dotted((*path, index))}: expected an ignore pattern (a string) or a "
            problems.append(Problem(name, line, column, f"{message}mapping, got {_describe(item)}"))
            continue
        rule, found = rule_from_entry(item, source, name, line)
        if rule is not None:
            rules.append(rule)
        for where, message in found:
            problems.append(Problem(name, *document.position((*path, index, *where)), message))
    return tuple(rules)


def _inside_ignore(loc: tuple[str | int, ...]) -> bool:
    """An error about one item of a top-level or deployment ``ignore`` list."""
    start = 1 if loc[:1] == ("ignore",) else 3 if loc[2:3] == ("ignore",) else 0
    return start > 0 and len(loc) > start


def _duplicates(deployments: list[DesiredDeployment]) -> list[Problem]:
    first: dict[tuple[str, str], DesiredDeployment] = {}
    problems = []
    for deployment in deployments:
        earlier = first.setdefault(deployment.key, deployment)
        if earlier is not deployment:
            problems.append(
                Problem(
                    deployment.file,
                    deployment.line,
                    deployment.column,
                    f"duplicate deployment {deployment.model_instance_id}/"
                    f"{deployment.deployment_id}: already declared at "
                    f"{earlier.file}:{earlier.line}:{earlier.column}",
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Turning pydantic's errors into plain messages


_EXPECTED = {
    "int": "a whole number",
    "quantity": "a quantity such as '8Gi' (a string) or a number",
    "bool": "true or false",
    "gpu_type": "one of " + ", ".join(spec.GPU_TYPES),
    "str": "a string",
}
_TOP_EXPECTED = {
    "version": "1",
    "ignore": "a list of path patterns (strings)",
    "deployments": "a list of deployments",
    "model_instance_id": "a non-empty string",
    "deployment_id": "a non-empty string",
    "name": "a string",
    "model_endpoint_id": "a string",
    "status": "a string such as READY",
    "model_creation_parameters": "a mapping",
    "deployment_metadata": "a mapping",
    "vendor_configuration": "a mapping with 'vendor: LAUNCH' or 'vendor: LLMENGINE'",
}
_DEPLOYMENT_KEYS = tuple(DeploymentModel.model_fields)
_TOP_KEYS = tuple(f.alias or n for n, f in ManifestModel.model_fields.items())


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _describe_default(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _clean_loc(loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Drop the discriminator tag pydantic inserts after ``vendor_configuration``."""
    cleaned: list[str | int] = []
    for index, part in enumerate(loc):
        if part in spec.VENDORS and index > 0 and loc[index - 1] == "vendor_configuration":
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}allowed keys: {', '.join(choices)}"


def _explain(error: Any, data: Any) -> tuple[tuple[str | int, ...], str]:
    loc = _clean_loc(tuple(error["loc"]))
    kind = error["type"]
    key = loc[-1] if loc else ""
    value = error.get("input")
    where = _dotted(loc)
    in_vendor = len(loc) >= 4 and loc[0] == "deployments" and loc[2] == "vendor_configuration"
    if in_vendor:
        # a vendor field as a whole: drop the union member pydantic appends ("int", "str")
        loc = loc[:4]
        key = loc[3]
        where = _dotted(loc)

    if kind == "missing":
        return loc[:-1], f"missing required key {key!r}"
    if kind == "extra_forbidden":
        return loc, _unknown_key(loc, data)
    if kind in ("union_tag_not_found", "model_attributes_type") and loc[-1:] == (
        "vendor_configuration",
    ):
        if isinstance(value, dict):
            return loc, "vendor_configuration needs 'vendor: LAUNCH' or 'vendor: LLMENGINE'"
        return loc, f"vendor_configuration: expected a mapping, got {_describe(value)}"
    if kind == "union_tag_invalid":
        vendor_loc = (*loc, "vendor")
        vendor = _get(data, vendor_loc)
        if not isinstance(vendor, str):
            return vendor_loc, f"vendor: expected LAUNCH or LLMENGINE, got {_describe(vendor)}"
        close = difflib.get_close_matches(vendor.upper(), spec.VENDORS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return vendor_loc, f"unknown vendor {vendor!r}{hint}: expected LAUNCH or LLMENGINE"
    if in_vendor and isinstance(key, str):
        vendor = _get(data, (*loc[:3], "vendor"))
        field_spec = spec.VENDOR_FIELDS.get(str(vendor), {}).get(key)
        if key == "gpu_type" and isinstance(value, str):
            close = difflib.get_close_matches(value, spec.GPU_TYPES, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return loc, (
                f"unknown gpu_type {value!r}{hint}; expected one of " + ", ".join(spec.GPU_TYPES)
            )
        if field_spec is not None and value is None:
            hint = (
                f"leave the key out to use the default {_describe_default(field_spec.default)}"
                if field_spec.has_default
                else "leave the key out if it should not be compared"
            )
            return loc, f"{where}: null is not allowed; {hint}"
        if field_spec is not None:
            return loc, f"{where}: expected {_EXPECTED[field_spec.kind]}, got {_describe(value)}"
    if loc == ("version",):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return loc, (
                f"unsupported manifest version {value!r}: "
                f"this driftcheck reads version {MANIFEST_VERSION}"
            )
        return loc, f"version: expected the number {MANIFEST_VERSION}, got {_describe(value)}"
    if kind == "string_too_short":
        return loc, f"{where}: must not be empty"
    if len(loc) >= 2 and loc[-2] == "ignore" and isinstance(loc[-1], int):
        return loc, f"{where}: expected an ignore pattern (a string), got {_describe(value)}"
    if isinstance(key, str) and key in _TOP_EXPECTED and (len(loc) <= 3):
        return loc, f"{where}: expected {_TOP_EXPECTED[key]}, got {_describe(value)}"
    if kind == "dict_type" or kind == "model_type" or kind == "model_attributes_type":
        return loc, f"{where}: expected a mapping, got {_describe(value)}"
    if kind == "list_type":
        return loc, f"{where}: expected a list, got {_describe(value)}"
    return loc, f"{where}: {error['msg']}"


def _unknown_key(loc: tuple[str | int, ...], data: Any) -> str:
    key = str(loc[-1])
    if len(loc) == 1:
        return f"unknown key {key!r}: {_suggest(key, _TOP_KEYS)}"
    if len(loc) == 3 and loc[0] == "deployments":
        if key in spec.SERVER_MANAGED:
            return f"{key!r} is server-managed and cannot be declared"
        return f"unknown key {key!r}: {_suggest(key, _DEPLOYMENT_KEYS)}"
    if len(loc) == 4 and loc[2] == "vendor_configuration":
        vendor = str(_get(data, (*loc[:3], "vendor")))
        other = spec.vendor_of_other_field(key, vendor)
        if other is not None:
            return f"{key!r} is not valid for vendor {vendor} (it belongs to {other})"
        allowed = ("vendor", *spec.VENDOR_FIELDS.get(vendor, {}))
        return f"unknown key {key!r} for vendor {vendor}: {_suggest(key, allowed)}"
    return f"unknown key {key!r}"


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "manifest"
