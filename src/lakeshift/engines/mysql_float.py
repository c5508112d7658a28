"""The float rule in MySQL SQL: the 16 hex digits of a double's IEEE-754 binary64 bits, with
nothing but SQL functions (no routine is created on the source).

MySQL has no function that returns a double's bits, but its spatial functions store coordinates
as doubles and `ST_AsBinary` writes them in well-known binary: a byte-order byte (1: little
endian; MySQL and MariaDB write nothing else, on every platform), a 4-byte type, then X and Y as
8-byte IEEE-754 doubles. So bytes 6 to 13 of `ST_AsBinary(POINT(x, 0))` are x's bits, least
significant first, and `REVERSE` (byte by byte on a binary string) puts them in the canonical
big-endian order. Nothing is computed on the value, so nothing can round: the tests hold the SQL
to Python's `struct` for every power of two and its neighbours, subnormals, the extremes, random
bit patterns and their negatives, and for FLOAT columns' widenings.

An arithmetic split (`e = FLOOR(LOG2(|x|))`, corrected, then `|x| / POW(2, e - 52)`) gives the
same bits, but MariaDB's LOG2 is one off either way next to powers of two, the correction needs
every term twice (MySQL does not share subexpressions), and it cost 0.9 s per million values
against 0.2 s for the point.

MySQL and MariaDB store no NaN or infinity in a DOUBLE (and arithmetic that would produce one
fails or gives NULL), so those never reach this SQL; zero and -0 render `0` before the point.
"""

from __future__ import annotations

X_BYTES = "6, 8"  # SUBSTR's start and length of X in a point's well-known binary


def float_text_sql(expression: str) -> str:
    """The canonical float text of a numeric expression read as DOUBLE: the 16 lowercase hex
    digits of its binary64 bits, `0` for zero and -0, NULL for NULL.

    A FLOAT (single precision) column is read as its exact widening to double by the CAST.
    """
    x = f"CAST({expression} AS DOUBLE)"
    bits = f"LOWER(HEX(REVERSE(SUBSTR(ST_AsBinary(POINT({x}, 0)), {X_BYTES}))))"
    return f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} = 0 THEN '0' ELSE {bits} END"
