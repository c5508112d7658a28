"""Decimal text (as MySQL and PostgreSQL print it) to Arrow decimals, exactly, in one cast.

Arrow's string-to-decimal cast is exact for the texts a database prints: it refuses a digit the
target scale would lose and a value beyond the target precision. But it parses the digits into
the decimal's integer without an overflow check, so a text of more digits than the integer
holds wraps silently (`'9' * 29 + '.' + '0' * 10` becomes a negative number in decimal128(38,10),
2**128 becomes 0). Texts are therefore refused unless their digit count is within what the
integer holds without wrapping: 38 digits for decimal128, 76 for decimal256 (a leading `0.`
is no digit of the value).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# Digits that never overflow the integer: 10**38 < 2**127 and 10**76 < 2**255.
SAFE_DIGITS = {16: 38, 32: 76}


def cast_decimal_text(texts: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    """`texts` (a string array of plain decimals: `-12.50`) as `arrow_type` (decimal128 or
    decimal256), exactly.

    Raises pa.ArrowInvalid when a value does not fit exactly, or has too many digits to be parsed
    safely (callers then decide, and name the value, by slower means).

    >>> cast_decimal_text(pa.array(["-12.50", None]), pa.decimal128(5, 2)).to_pylist()
    [Decimal('-12.50'), None]
    """
    safe = SAFE_DIGITS[arrow_type.byte_width]
    lengths = pc.binary_length(texts)
    longest = pc.max(lengths).as_py()
    if longest is not None and longest > safe:  # count the digits: not '-', '.' or '0.'
        marks = pc.add(pc.count_substring(texts, "-"), pc.count_substring(texts, "."))
        zero = pc.or_(pc.starts_with(texts, "0."), pc.starts_with(texts, "-0."))
        digits = pc.subtract(pc.subtract(lengths, marks), pc.cast(zero, pa.int32()))
        most = pc.max(digits).as_py()
        if most > safe:
            raise pa.ArrowInvalid(
                f"a decimal text has {most} digits, more than Arrow parses safely"
            )
    return texts.cast(arrow_type, safe=True)
