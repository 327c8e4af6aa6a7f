"""Normalization: quantities, number/boolean equality, ``same()``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from driftcheck.normalize import (
    Quantity,
    normalize_value,
    parse_quantity,
    quantity_key,
    same,
)

# ---------------------------------------------------------------------------------------------
# Quantities

EQUAL_QUANTITIES = [
    ("8Gi", "8192Mi"),
    ("8Gi", "8589934592"),
    ("8Gi", 8589934592),
    ("8192Mi", 8589934592),
    ("0.5", "500m"),
    ("1k", "1000"),
    ("1e3", "1k"),
    ("1E3", "1000"),
    ("1e+3", "1k"),
    ("1Ki", "1024"),
    ("1.5Gi", "1536Mi"),
    ("+1Gi", "1Gi"),
    ("1Gi", 1073741824.0),
    (0.5, "500m"),
    ("1M", "1000k"),
    ("1E", "1e18"),
    (".5", "0.5"),
    ("5.", "5"),
    ("1000m", "1"),
    ("-1", "-1000m"),
    ("1n", "0.001u"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL_QUANTITIES)
def test_quantity_spellings_of_one_amount_compare_equal(a: Any, b: Any) -> None:
    assert parse_quantity(a) is not None
    assert same(quantity_key(a), quantity_key(b))
    assert same(quantity_key(b), quantity_key(a))


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("8Gi", Decimal(8 * 1024**3)),
        ("500m", Decimal("0.5")),
        ("1.5Gi", Decimal(1536 * 1024**2)),
        ("1e3", Decimal(1000)),
        (8589934592, Decimal(8589934592)),
    ],
)
def test_quantity_value_is_exact(raw: Any, value: Decimal) -> None:
    parsed = parse_quantity(raw)
    assert parsed is not None
    assert parsed.value == value


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1G", "1Gi"),
        ("1M", "1Mi"),
        ("1m", "1M"),
        ("1k", "1Ki"),
        ("8Gi", "8Mi"),
        ("1", "1001m"),
        ("8Gi", 8589934593),
    ],
)
def test_different_quantities_differ(a: Any, b: Any) -> None:
    assert not same(quantity_key(a), quantity_key(b))


@pytest.mark.parametrize(
    "raw",
    ["8 Gi", "abc", "1Q", "", "1e99999999", "1K", "Gi", "1e", "1.2.3", "8Gi\n", "\u0668Gi", True],
)
def test_unparseable_quantity_stays_raw(raw: Any) -> None:
    assert parse_quantity(raw) is None
    assert quantity_key(raw) == raw
    assert type(quantity_key(raw)) is type(raw)


def test_unparseable_quantities_compare_as_plain_strings() -> None:
    assert same(quantity_key("8 Gi"), quantity_key("8 Gi"))
    assert not same(quantity_key("8 Gi"), quantity_key("8Gi"))
    assert not same(quantity_key("abc"), quantity_key("ABC"))
    # a bool is never a quantity, and never equal to one
    assert not same(quantity_key(True), quantity_key(1))


def test_quantity_too_precise_to_represent_is_not_rounded_into_a_neighbour() -> None:
    a, b = "1" * 250, "1" * 249 + "2"
    assert not same(quantity_key(a), quantity_key(b))
    assert same(quantity_key(a), quantity_key(a))


def test_quantity_repr_shows_value() -> None:
    assert repr(Quantity(Decimal(5))) == "Quantity(5)"


# ---------------------------------------------------------------------------------------------
# Numbers and strict types


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (4, 4.0, True),
        (4.0, 4, True),
        (4.5, 4.5, True),
        (4, 4.5, False),
        (True, 1, False),
        (1, True, False),
        (False, 0, False),
        (0, False, False),
        (True, True, True),
        (False, False, True),
        (True, False, False),
        (4, "4", False),
        ("4", 4, False),
        (None, 0, False),
        (0, None, False),
        (None, None, True),
        ("", None, False),
        ("a", "a", True),
    ],
)
def test_scalars(a: Any, b: Any, equal: bool) -> None:
    assert same(normalize_value(a), normalize_value(b)) is equal


def test_normalize_value_turns_whole_floats_into_ints_recursively() -> None:
    value = normalize_value({"a": [1.0, {"b": 2.0}], "c": 2.5, "d": True})
    assert value == {"a": [1, {"b": 2}], "c": 2.5, "d": True}
    assert type(value["a"][0]) is int
    assert type(value["a"][1]["b"]) is int
    assert type(value["c"]) is float
    assert value["d"] is True


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ({"a": [1, {"b": 2.0}]}, {"a": [1, {"b": 2}]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": [1, 2]}, {"a": [1, 2, 3]}, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1, "b": 2}, {"a": 1}, False),
        ({"a": {"b": True}}, {"a": {"b": 1}}, False),
        ({"a": [True]}, {"a": [1]}, False),
        ({"a": "4"}, {"a": 4}, False),
        ({}, {}, True),
        ({}, [], False),
        ([], {}, False),
        ([1], [1.0], True),
        ({"a": None}, {}, False),
    ],
)
def test_same_on_nested_structures(a: Any, b: Any, equal: bool) -> None:
    assert same(normalize_value(a), normalize_value(b)) is equal
    assert same(normalize_value(b), normalize_value(a)) is equal
