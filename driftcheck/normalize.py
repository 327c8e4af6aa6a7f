"""Normalization: what makes two spellings of the same configuration compare equal.

- Kubernetes quantities compare by exact value (``8Gi`` = ``8192Mi`` = ``8589934592``).
- Numbers compare by value (``4`` = ``4.0``); booleans are never numbers (``true`` != ``1``).
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from typing import Any

# ASCII digits only, and no trailing newline (``$`` would accept "8Gi\n").
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|n|u|m|k|M|G|T|P|E)?"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# Enough digits that no quantity a human writes is ever rounded; one that would be is treated
# as unparseable (compared as a string) rather than silently equated with a neighbour.
_CONTEXT = decimal.Context(
    prec=200, Emax=10_000, Emin=-10_000, traps=[decimal.Overflow, decimal.Inexact]
)
_MAX_EXPONENT = 1_000


@dataclass(frozen=True)
class Quantity:
    """An exact quantity value; two spellings of one amount are equal."""

    value: decimal.Decimal

    def __repr__(self) -> str:
        return f"Quantity({self.value})"


def parse_quantity(raw: Any) -> Quantity | None:
    """The exact value of a Kubernetes quantity, or None when ``raw`` is not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Quantity(decimal.Decimal(raw))
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return Quantity(_CONTEXT.create_decimal(repr(raw)).normalize(_CONTEXT))
    if not isinstance(raw, str):
        return None
    match = _QUANTITY.fullmatch(raw)
    if match is None:
        return None
    try:
        number = _CONTEXT.create_decimal(match["number"])
        suffix = match["suffix"] or ""
        if suffix in _BINARY:
            value = _CONTEXT.multiply(number, decimal.Decimal(1024) ** _BINARY[suffix])
        elif suffix[:1] in ("e", "E") and len(suffix) > 1:
            exponent = int(suffix[1:])
            if abs(exponent) > _MAX_EXPONENT:
                return None
            value = _CONTEXT.scaleb(number, exponent)
        else:
            value = _CONTEXT.scaleb(number, _DECIMAL[suffix])
        return Quantity(value.normalize(_CONTEXT))
    except (decimal.DecimalException, ValueError):
        return None


def quantity_key(raw: Any) -> Any:
    """What a quantity field compares as: its exact value, or the raw value if unparseable."""
    parsed = parse_quantity(raw)
    return parsed if parsed is not None else normalize_value(raw)


def normalize_value(value: Any) -> Any:
    """Numbers by value (integral floats become ints), recursively through maps and lists."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: normalize_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize_value(v) for v in value]
    return value


def same(a: Any, b: Any) -> bool:
    """Equality on normalized values that, unlike ``==``, never equates ``True`` with ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, (int, float)) and not isinstance(b, (int, float)):
        return False
    if isinstance(a, str) and not isinstance(b, str):
        return False
    return bool(a == b)
