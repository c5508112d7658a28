"""Canonical text: every rule of the module's table, value by value, and the join's guarantees."""

from __future__ import annotations

import hashlib
import math
import struct
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import (
    HALF_BITS,
    HALF_MASK,
    HASH_BITS,
    canonical_decimal,
    canonical_float,
    canonical_value,
    escape_text,
    hash60,
    join_canonical,
    readable_float,
    split_canonical,
    split_checksum,
)

INTEGER = LogicalType(Kind.INTEGER)
FLOAT = LogicalType(Kind.FLOAT)
BOOLEAN = LogicalType(Kind.BOOLEAN)
STRING = LogicalType(Kind.STRING)
BINARY = LogicalType(Kind.BINARY)
DATE = LogicalType(Kind.DATE)
TIMESTAMP = LogicalType(Kind.TIMESTAMP)
ZONED = LogicalType(Kind.TIMESTAMP, tz="UTC")
PLUS_TWO = timezone(timedelta(hours=2))


def _decimal(precision: int, scale: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, precision, scale)


@pytest.mark.parametrize(
    ("value", "logical", "text"),
    [
        # integer: decimal digits, `-` for negatives
        (42, INTEGER, "42"),
        (-7, INTEGER, "-7"),
        (0, INTEGER, "0"),
        (2**63 - 1, INTEGER, "9223372036854775807"),
        (-(2**63), INTEGER, "-9223372036854775808"),
        # decimal: fixed point at the column's scale, no exponent; -0.00 is 0.00
        (Decimal("1.5"), _decimal(12, 2), "1.50"),
        (Decimal("-12.5"), _decimal(12, 2), "-12.50"),
        (Decimal("-0.00"), _decimal(12, 2), "0.00"),
        (Decimal("-0"), _decimal(10, 0), "0"),
        (Decimal("-0E-5"), _decimal(12, 2), "0.00"),
        (Decimal("1E-10"), _decimal(38, 10), "0.0000000001"),
        (Decimal("-1E-10"), _decimal(38, 10), "-0.0000000001"),
        (Decimal("1E+30"), _decimal(38, 2), "1" + "0" * 30 + ".00"),
        (Decimal("1E+30"), _decimal(38, 0), "1" + "0" * 30),
        (
            Decimal("1234567890123456789012345678.0123456789"),
            _decimal(38, 10),
            "1234567890123456789012345678.0123456789",
        ),
        (Decimal("-" + "9" * 38), _decimal(38, 0), "-" + "9" * 38),
        (Decimal("1.500"), _decimal(12, 2), "1.50"),
        (7, _decimal(12, 3), "7.000"),
        (0.1, _decimal(12, 2), "0.10"),
        # float: the IEEE-754 bits in hex, big-endian; 0 and -0 are 0; every NaN is NaN
        (1.0, FLOAT, "3ff0000000000000"),
        (-2.5, FLOAT, "c004000000000000"),
        (0.1, FLOAT, "3fb999999999999a"),
        (1 / 3, FLOAT, "3fd5555555555555"),
        (5e-324, FLOAT, "0000000000000001"),
        (-1.7976931348623157e308, FLOAT, "ffefffffffffffff"),
        (float("inf"), FLOAT, "7ff0000000000000"),
        (float("-inf"), FLOAT, "fff0000000000000"),
        (0.0, FLOAT, "0"),
        (-0.0, FLOAT, "0"),
        (float("nan"), FLOAT, "NaN"),
        (3, FLOAT, "4008000000000000"),
        # boolean: 1 or 0
        (True, BOOLEAN, "1"),
        (False, BOOLEAN, "0"),
        (1, BOOLEAN, "1"),
        # string: escaped, never trimmed
        ("plain", STRING, "plain"),
        ("a|b", STRING, "a\\|b"),
        ("back\\slash", STRING, "back\\\\slash"),
        ("\\N", STRING, "\\\\N"),
        ("  padded  ", STRING, "  padded  "),
        ("", STRING, ""),
        ("NULL", STRING, "NULL"),
        ("Zürich 東京", STRING, "Zürich 東京"),
        # binary: lowercase hex
        (b"\x00\xffA", BINARY, "00ff41"),
        (b"", BINARY, ""),
        (bytearray(b"\xab"), BINARY, "ab"),
        # date: YYYY-MM-DD
        (date(2024, 2, 29), DATE, "2024-02-29"),
        (date(5, 1, 1), DATE, "0005-01-01"),
        (datetime(2024, 2, 29, 23, 59), DATE, "2024-02-29"),
        # timestamp: YYYY-MM-DD HH:MM:SS.ffffff, in UTC when zoned
        (datetime(2024, 1, 5, 6, 7, 8, 9), TIMESTAMP, "2024-01-05 06:07:08.000009"),
        (datetime(2024, 1, 5, 6, 7, 8), TIMESTAMP, "2024-01-05 06:07:08.000000"),
        (datetime(2024, 1, 5, 6, 7, 8, 999999), TIMESTAMP, "2024-01-05 06:07:08.999999"),
        (datetime(999, 12, 31, 23, 0), TIMESTAMP, "0999-12-31 23:00:00.000000"),
        (datetime(2024, 1, 1, 1, 30, 0, 5, tzinfo=PLUS_TWO), ZONED, "2023-12-31 23:30:00.000005"),
        (datetime(2024, 1, 1, 1, 30, tzinfo=UTC), ZONED, "2024-01-01 01:30:00.000000"),
        (datetime(999, 1, 1, 1, 0, tzinfo=PLUS_TWO), ZONED, "0998-12-31 23:00:00.000000"),
    ],
)
def test_canonical_text_follows_the_table(value: Any, logical: LogicalType, text: str) -> None:
    assert canonical_value(value, logical) == text


@pytest.mark.parametrize(
    "logical", [INTEGER, _decimal(12, 2), FLOAT, BOOLEAN, STRING, BINARY, DATE, TIMESTAMP, ZONED]
)
def test_null_is_none_for_every_type(logical: LogicalType) -> None:
    assert canonical_value(None, logical) is None


def test_floats_one_bit_apart_differ() -> None:
    # 15 significant digits, the rule before, could not tell these apart.
    assert canonical_float(0.1 + 0.2) != canonical_float(0.3)
    assert canonical_float(1.0) != canonical_float(math.nextafter(1.0, 2.0))
    assert canonical_float(5e-324) != canonical_float(1e-323)
    assert canonical_float(-1.5) != canonical_float(1.5)


def test_a_float_read_through_a_single_precision_column_differs_from_the_double() -> None:
    widened = struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert canonical_float(widened) != canonical_float(0.1)


@given(st.floats(allow_nan=False).filter(lambda v: v != 0))
def test_float_text_is_the_double_itself(value: float) -> None:
    text = canonical_float(value)
    assert len(text) == 16
    assert struct.unpack(">d", bytes.fromhex(text))[0] == value
    assert float(readable_float(text)) == value


def test_readable_float_shows_a_text_that_is_not_bits_as_it_came() -> None:
    assert [readable_float(t) for t in ("1.0E-001", "3fb9", "")] == ["1.0E-001", "3fb9", ""]


def test_readable_float_shows_zero_nan_and_infinity() -> None:
    assert [readable_float(canonical_float(v)) for v in (-0.0, math.nan, -math.inf, 0.1)] == [
        "0.0",
        "nan",
        "-inf",
        "0.1",
    ]


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**31), max_value=10**31
    )
)
def test_decimal_text_is_fixed_point_and_reads_back_to_the_value(value: Decimal) -> None:
    text = canonical_decimal(value, 6)
    assert "e" not in text.lower()
    assert len(text.split(".")[1]) == 6
    assert Decimal(text) == value
    assert not text.startswith("-") or value < 0


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=12, min_value=-(10**6), max_value=10**6
    )
)
def test_a_decimal_with_more_places_than_the_scale_keeps_them_all(value: Decimal) -> None:
    """Never rounded into the text of another value at that scale: the source may have changed
    after an upload that refused such values."""
    text = canonical_decimal(value, 6)
    assert Decimal(text) == value
    if value != value.quantize(Decimal("0.000001")):
        assert len(text.split(".")[1]) > 6
        assert text != canonical_decimal(value.quantize(Decimal("0.000001")), 6)
    assert canonical_decimal(Decimal("2.00000000001"), 10) == "2.00000000001"
    assert canonical_decimal(Decimal("2.000000000000"), 10) == "2.0000000000"


# joined rows


def _texts() -> st.SearchStrategy[str]:
    """Canonical texts of every kind, strings as users write them (escaped before the join)."""
    return st.one_of(
        st.text(alphabet=st.sampled_from("ab|\\N \n"), max_size=8),
        st.text(max_size=8),
        st.sampled_from(["", "NULL", "\\N", "\\", "|", "\\|", "N", "null"]),
        st.integers().map(str),
        st.floats().map(canonical_float),
        st.binary(max_size=4).map(bytes.hex),
    )


_rows = st.lists(st.one_of(st.none(), _texts()), min_size=1, max_size=6)


def _join(values: list[str | None]) -> str:
    return join_canonical([None if v is None else escape_text(v) for v in values])


@given(_rows)
def test_split_inverts_join(values: list[str | None]) -> None:
    assert split_canonical(_join(values)) == values


@given(_rows, _rows)
def test_distinct_rows_of_one_width_give_distinct_texts(
    a: list[str | None], b: list[str | None]
) -> None:
    if len(a) == len(b) and a != b:
        assert _join(a) != _join(b)


@pytest.mark.parametrize(
    "values",
    [
        [None],
        [""],
        ["NULL"],
        ["\\N"],
        ["\\"],
        ["N"],
        [None, None],
        ["", ""],
        ["|"],
        ["\\|"],
        ["a|", "b"],
        ["a", "|b"],
        ["a\\", "b"],
    ],
)
def test_null_and_lookalike_strings_never_collide(values: list[str | None]) -> None:
    others = [
        [None],
        [""],
        ["NULL"],
        ["\\N"],
        ["\\"],
        ["N"],
        [None, None],
        ["", ""],
        ["|"],
        ["\\|"],
        ["a|", "b"],
        ["a", "|b"],
        ["a\\", "b"],
    ]
    joined = {repr(other): _join(other) for other in others}
    assert list(joined.values()).count(_join(values)) == 1


def test_join_writes_null_as_backslash_n() -> None:
    assert join_canonical(["1", None, ""]) == "1|\\N|"


# hashes and checksums


@given(st.text())
def test_hash60_is_the_first_15_hex_digits_of_md5(text: str) -> None:
    expected = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:15], 16)
    assert hash60(text) == expected
    assert 0 <= hash60(text) < 2**HASH_BITS


def test_hash60_of_a_known_text() -> None:
    # md5("") = d41d8cd98f00b204e9800998ecf8427e
    assert hash60("") == 0xD41D8CD98F00B20


@given(st.lists(st.integers(0, 2**HASH_BITS - 1), max_size=50))
def test_split_checksum_recombines_the_half_sums_exactly(hashes: list[int]) -> None:
    high = sum(h >> HALF_BITS for h in hashes)
    low = sum(h & HALF_MASK for h in hashes)
    assert split_checksum(high, low) == sum(hashes)


def test_split_checksum_accepts_engine_decimals() -> None:
    assert split_checksum(Decimal(3), Decimal(5)) == 3 * 2**HALF_BITS + 5  # type: ignore[arg-type]
