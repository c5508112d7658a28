"""The float rule in MySQL SQL: the 16 hex digits of a double's IEEE-754 binary64 bits, with
nothing but SQL functions (no routine is created on the source).

MySQL has no function that exposes a double's bits, so the SQL splits `a = |x|` as
`M * 2**(e - 52)` with an integer `M` and puts the bits together from sign, exponent and `M`:

- `e = floor(log2(a))`, clamped to -1022..1023. LOG2 rounds (MariaDB computes `log(a) / M_LN2`;
  MySQL 8 calls C's `log2`, not guaranteed exact either), so at and next to a power of two it is
  one off either way (measured on MariaDB 10.11: one too low for 219 of the 2046 normal powers of
  two, one too high just below many; LOG2 of the largest double is 1024). The exact quotient
  `r = a / 2**e` tells: `r < 1` means one less, `r >= 2` one more. Clamping to -1022 also gives
  every subnormal its exponent, -1022.
- `M = a / 2**(e - 52)`, an integer below 2**53: for a normal double `2**52 + fraction`, for a
  subnormal (`e = -1022`) the fraction itself, `a / 2**-1074`.
- bits = `(x < 0) << 63 | ((e + 1022) << 52) + M`: `(e + 1022) << 52 + 2**52` is the biased
  exponent `e + 1023` in place, and a subnormal's biased exponent is 0.

Every step is exact: POW(2, n) is exactly 2**n for every integer n from -1074 to 1023 (checked
for each n; n stays in that range, so POW(2, 1024), an error in MariaDB, never runs); dividing a
double by a power of two is exact in binary whenever the quotient neither overflows nor loses bits
below 2**-1074 (`r` lies in [0.5, 4); `M` is an integer below 2**53); CAST AS UNSIGNED of such an
integral double is exact; the rest is integer shifts and sums. The tests hold the SQL to Python's
`struct` for every power of two and its neighbours, subnormals, the extremes and random bit
patterns (and, once, for 3.3 million doubles: 400 on each side of every power of two).

MySQL and MariaDB store no NaN or infinity in a DOUBLE (and arithmetic that would produce one
fails or gives NULL), so those never reach this SQL; zero and -0 render `0` before the split.
"""

from __future__ import annotations


def _exponent_sql(magnitude: str) -> str:
    """e with 2**e <= a < 2**(e+1) for a normal `a`, -1022 for a subnormal."""
    guess = f"GREATEST(LEAST(FLOOR(LOG2({magnitude})), 1023), -1022)"
    ratio = f"({magnitude} / POW(2, {guess}))"
    return f"GREATEST({guess} - ({ratio} < 1) + ({ratio} >= 2), -1022)"


def float_text_sql(expression: str) -> str:
    """The canonical float text of a numeric expression read as DOUBLE: the 16 lowercase hex
    digits of its binary64 bits, `0` for zero and -0, NULL for NULL.

    A FLOAT (single precision) column is read as its exact widening to double by the CAST.
    """
    x = f"CAST({expression} AS DOUBLE)"
    magnitude = f"ABS({x})"
    e = _exponent_sql(magnitude)
    mantissa = f"CAST({magnitude} / POW(2, {e} - 52) AS UNSIGNED)"
    bits = f"((({x} < 0) << 63) | ((({e} + 1022) << 52) + {mantissa}))"
    return (
        f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} = 0 THEN '0' "
        f"ELSE LPAD(LOWER(HEX({bits})), 16, '0') END"
    )
