"""Desired vs live: build the two comparable trees, let deepdiff find what differs, and turn
its findings into :class:`Difference` records with dotted paths and manifest lines."""

from __future__ import annotations

from typing import Any

from driftcheck import spec
from driftcheck.manifest import DesiredDeployment
from driftcheck.normalize import normalize_value, quantity_key, same
from driftcheck.paths import TreePath, dotted
from driftcheck.result import Difference, DiffKind

_ABSENT = object()
_VC = "vendor_configuration"
_LLMENGINE_ONLY = frozenset(spec.VENDOR_FIELDS[spec.LLMENGINE]) - frozenset(
    spec.VENDOR_FIELDS[spec.LAUNCH]
)
_KIND_BY_REPORT = {
    "dictionary_item_removed": DiffKind.MISSING_LIVE,
    "dictionary_item_added": DiffKind.EXTRA_LIVE,
}


def compare(
    desired: DesiredDeployment,
    live: dict[str, Any],
    *,
    strict: bool = False,
) -> tuple[Difference, ...]:
    """Every difference between one declared deployment and its live body, ignored ones
    included: the ignore policy (driftcheck.ignore) decides what is reported."""
    differences: list[Difference] = []
    want: dict[str, Any] = {}
    have: dict[str, Any] = {}

    for name in spec.SCALAR_FIELDS:
        if name in desired.fields:
            want[name] = normalize_value(desired.fields[name])
            if live.get(name) is not None:
                have[name] = normalize_value(live[name])

    if _VC in desired.fields:
        early = _vendor_trees(desired, live, strict, want, have)
        if early is not None:
            differences.append(early)
    elif strict and isinstance(live.get(_VC), dict):
        # --strict: what live sets and the manifest leaves out, even with no declaration at all
        extra = _undeclared_vendor_fields(live[_VC])
        if extra:
            want[_VC], have[_VC] = {}, extra

    for name in spec.FREEFORM_FIELDS:
        undeclared_but_strict = strict and isinstance(live.get(name), dict)
        if name in desired.fields or undeclared_but_strict:
            declared = desired.fields.get(name, {})
            actual = live.get(name)
            want[name] = normalize_value(declared)
            if actual is None:
                have[name] = {}
            elif isinstance(actual, dict):
                have[name] = _restrict(declared, actual, strict)
            else:
                have[name] = normalize_value(actual)

    if not same(want, have):
        differences.extend(_deepdiff(desired, live, want, have))
    # by path, as terraform plan orders attributes (and as DESIGN's text example reads)
    differences.sort(key=lambda d: d.path)
    return tuple(differences)


def _undeclared_vendor_fields(actual: dict[str, Any]) -> dict[str, Any]:
    """Set no-default fields of a live vendor configuration the manifest does not declare."""
    vendor = actual.get("vendor")
    table = spec.LLMENGINE if vendor is None else str(vendor)
    return {
        name: normalize_value(actual[name])
        for name, field in spec.VENDOR_FIELDS.get(table, {}).items()
        if not field.has_default and actual.get(name) is not None
    }


def _vendor_trees(
    desired: DesiredDeployment,
    live: dict[str, Any],
    strict: bool,
    want: dict[str, Any],
    have: dict[str, Any],
) -> Difference | None:
    """Fill both vendor trees, or return the single difference that makes that pointless."""
    declared: dict[str, Any] = desired.fields[_VC]
    actual = live.get(_VC)
    if actual is None:
        return Difference(
            _VC,
            DiffKind.MISSING_LIVE,
            declared,
            None,
            desired.line_for((_VC,)),
            segments=(_VC,),
            file=desired.file_for((_VC,)),
        )
    vendor = declared["vendor"]
    live_vendor = _live_vendor(actual, vendor)
    if live_vendor is None:
        # The API sent no vendor, and its fields do not fit the declared one: report what was
        # sent (nothing), never a vendor driftcheck guessed as if the API had said it.
        return Difference(
            f"{_VC}.vendor", DiffKind.MISSING_LIVE, vendor, None, desired.line_for((_VC, "vendor"))
        )
    if live_vendor != vendor:
        return Difference(
            f"{_VC}.vendor",
            DiffKind.CHANGED,
            vendor,
            live_vendor,
            desired.line_for((_VC, "vendor")),
            segments=(_VC, "vendor"),
            file=desired.file_for((_VC, "vendor")),
        )
    wanted: dict[str, Any] = {}
    found: dict[str, Any] = {}
    for name, field in spec.VENDOR_FIELDS[vendor].items():
        key = quantity_key if field.kind == "quantity" else normalize_value
        live_value = actual.get(name)
        if field.has_default:
            wanted[name] = key(declared.get(name, field.default))
            found[name] = key(field.default if live_value is None else live_value)
        elif name in declared:
            wanted[name] = key(declared[name])
            if live_value is not None:
                found[name] = key(live_value)
        elif strict and live_value is not None:
            found[name] = key(live_value)
    want[_VC] = wanted
    have[_VC] = found
    return None


def _live_vendor(actual: dict[str, Any], declared: str) -> Any:
    """The live vendor; when the API leaves it out, the declared one, or None when the live
    fields can only belong to LLMENGINE (a LAUNCH declaration cannot match them)."""
    vendor = actual.get("vendor")
    if vendor is not None:
        return vendor
    if declared == spec.LAUNCH and any(actual.get(f) is not None for f in _LLMENGINE_ONLY):
        return None
    return declared


def _restrict(declared: dict[str, Any], actual: dict[str, Any], strict: bool) -> dict[str, Any]:
    """The live map cut down to the declared keys (recursively), plus the rest under strict."""
    out: dict[str, Any] = {}
    for key, want in declared.items():
        if key not in actual:
            continue
        value = actual[key]
        if isinstance(want, dict) and isinstance(value, dict):
            out[key] = _restrict(want, value, strict)
        else:
            out[key] = normalize_value(value)
    if strict:
        for key, value in actual.items():
            if key not in declared:
                out[key] = normalize_value(value)
    return out


def _deepdiff(
    desired: DesiredDeployment,
    live: dict[str, Any],
    want: dict[str, Any],
    have: dict[str, Any],
) -> list[Difference]:
    from deepdiff import DeepDiff

    # deepdiff >= 8 reports two maps that share few keys as one changed value; driftcheck
    # needs every missing or extra key on its own, so that heuristic is switched off.
    tree = DeepDiff(want, have, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    found: dict[TreePath, DiffKind] = {}
    for report_type, levels in tree.items():
        for level in levels:
            full = tuple(level.path(output_format="list"))
            path = _reported_path(full)
            kind = _KIND_BY_REPORT.get(report_type, DiffKind.CHANGED)
            if path != full:
                kind = DiffKind.CHANGED  # a list or a quantity differs: compared whole
            found.setdefault(path, kind)
    return [
        Difference(
            path=dotted(path),
            kind=kind,
            desired=None if kind is DiffKind.EXTRA_LIVE else _raw(desired.fields, path),
            live=None if kind is DiffKind.MISSING_LIVE else _raw(live, path),
            line=desired.line_for(path),
            segments=path,
            file=desired.file_for(path),
        )
        for path, kind in found.items()
    ]


def _reported_path(path: TreePath) -> TreePath:
    """Where a difference is reported: a vendor field as a whole (deepdiff looks inside
    ``Quantity`` objects), and a list as a whole."""
    if path[:1] == (_VC,) and len(path) > 2:
        return path[:2]
    for index, part in enumerate(path):
        if isinstance(part, int):
            return path[:index]
    return path


def _raw(source: dict[str, Any], path: TreePath) -> Any:
    """The value before normalization; a defaulted vendor field reads as its spec default."""
    value: Any = source
    for part in path:
        if isinstance(value, dict) and part in value and value[part] is not None:
            value = value[part]
        else:
            value = _ABSENT
            break
    if value is not _ABSENT:
        return value
    if len(path) == 2 and path[0] == _VC:
        vendor_config = source.get(_VC) or {}
        vendor = vendor_config.get("vendor") if isinstance(vendor_config, dict) else None
        fields = spec.VENDOR_FIELDS.get(str(vendor), spec.VENDOR_FIELDS[spec.LLMENGINE])
        field = fields.get(str(path[1]))
        if field is not None and field.has_default:
            return field.default
    return None
