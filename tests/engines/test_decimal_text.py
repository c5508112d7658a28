"""Decimal text to Arrow decimals: exact, and never wrapped by Arrow's unchecked digit parsing."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from lakeshift.engines.decimal_text import cast_decimal_text


@pytest.mark.parametrize(
    ("text", "arrow_type"),
    [
        ("-" + "9" * 28 + "." + "9" * 10, pa.decimal128(38, 10)),
        ("0." + "9" * 38, pa.decimal128(38, 38)),  # a leading '0.' is no digit of the value
        ("-0." + "0" * 37 + "1", pa.decimal128(38, 38)),
        ("9" * 38, pa.decimal128(38, 0)),
        ("-0.00", pa.decimal128(5, 2)),
        ("1" + "0" * 64 + ".5", pa.decimal256(66, 1)),
    ],
)
def test_values_that_fit_convert_exactly(text: str, arrow_type: pa.DataType) -> None:
    converted = cast_decimal_text(pa.array([text, None]), arrow_type).to_pylist()
    assert converted == [Decimal(text), None]


@pytest.mark.parametrize(
    ("text", "arrow_type"),
    [
        # Arrow's own cast returns -2084710076281539039012382230.5304634368 for this one...
        ("9" * 29 + "." + "0" * 10, pa.decimal128(38, 10)),
        ("340282366920938463463374607431768211456", pa.decimal128(38, 0)),  # ...and 0 for 2**128
        ("0." + "9" * 39, pa.decimal128(38, 38)),
        ("9" * 77, pa.decimal256(76, 0)),
        ("12.345", pa.decimal128(5, 2)),  # a digit the scale would lose
        ("1000.00", pa.decimal128(5, 2)),  # beyond the precision
        ("NaN", pa.decimal128(5, 2)),
    ],
)
def test_values_that_do_not_fit_or_could_wrap_are_refused(
    text: str, arrow_type: pa.DataType
) -> None:
    with pytest.raises(pa.ArrowInvalid):
        cast_decimal_text(pa.array(["1", text]), arrow_type)
