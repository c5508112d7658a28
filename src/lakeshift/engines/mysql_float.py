"""The float rule in MySQL SQL: `format(x, '.14e')`, 15 significant digits rounded from the exact
binary value, with nothing but SQL functions (no routine is created on the source).

MySQL cannot print a double with a chosen number of digits without first rounding it in double
arithmetic, but `CAST(x AS CHAR)` prints the shortest text that reads back as the same double
(Python's `repr`). For a normal double, rounding that text to 15 digits is the correct rounding
of the exact value, except when the text has exactly 16 digits ending in 5: a tie in the text
that the exact value is not necessarily (about 5% of random doubles). Such a tie is decided by
comparing the exact value `m * 2**k` with the decimal `G * 10**q` the text shows:

- from 1e-32 to 1e64 (decimal exponents EXACT_EXPONENT_MIN..MAX) in DECIMAL(65,0) integer
  arithmetic, exactly;
- beyond, on `m * 2**k` scaled by a 38-digit power of two from a table (`_scaled_sql`), which
  decides correctly unless the value lies within 5e-38 (relative) of the midpoint; exact ties
  only occur inside the exact range (they are dyadic numbers of at most 16 digits).

Subnormal doubles (below 2.2e-308) hold fewer than 53 bits, so even a short text may not be the
nearest 15-digit decimal (`5e-324` is 4.94065645841247e-324): their digits are computed from the
same scaled value. Each use of the shortest text costs one binary-to-decimal conversion, the
expensive part, so the common path uses it twice per value.
"""

from __future__ import annotations

import math
from fractions import Fraction

MIN_NORMAL = "2.2250738585072014e-308"
MIN_FLOAT_EXPONENT = -324  # 5e-324, the smallest subnormal
MAX_FLOAT_EXPONENT = 308
EXACT_EXPONENT_MIN = -32
EXACT_EXPONENT_MAX = 63
POWER_STEP = 32  # the table holds (2**32)**i; 2**r for r < 32 is an exact shift
POWER_INDEXES = range(-34, 31)  # binary exponents -1088 .. 991 (doubles need -1074 .. 970)
POWER_DIGITS = 38


def _power_of_two(exponent: int) -> tuple[int, int]:
    """(mantissa, e): 2**exponent ≈ mantissa * 10**e, mantissa of 38 digits, rounded half-even."""
    value = Fraction(2) ** exponent
    decade = len(str(value.numerator)) - len(str(value.denominator))  # floor(log10), or one more
    while Fraction(10) ** decade > value:
        decade -= 1
    e = decade - (POWER_DIGITS - 1)
    mantissa = round(value / Fraction(10) ** e)  # exact rational arithmetic
    if mantissa == 10**POWER_DIGITS:
        mantissa, e = mantissa // 10, e + 1
    return mantissa, e


def _power(index: int) -> tuple[int, int]:
    """(2**32)**index as (mantissa, exponent)."""
    return _power_of_two(POWER_STEP * index)


_POWERS = [_power(index) for index in POWER_INDEXES]
_POWER_MANTISSAS = ", ".join(f"'{mantissa}'" for mantissa, _ in _POWERS)
# The table's exponents follow floor(i * 32 * log10(2)) - 37; SQL computes them in doubles,
# which this check proves exact for every index (no product lies near an integer).
_DECADES_PER_STEP = "9.632959861247398"
assert all(
    math.floor(index * float(_DECADES_PER_STEP)) - (POWER_DIGITS - 1) == exponent
    for index, (_, exponent) in zip(POWER_INDEXES, _POWERS, strict=True)
)
# 'e-324', ..., 'e-01', 'e+00', ..., 'e+308': ELT picks one, so the exponent is computed once.
_EXPONENT_TEXTS = ", ".join(
    f"'e{e:+03d}'" for e in range(MIN_FLOAT_EXPONENT, MAX_FLOAT_EXPONENT + 1)
)


def _pow2_sql(exponent: str) -> str:
    """2**exponent as an exact DECIMAL(65,0), for 0 <= exponent <= 180 (shifts hold 60 bits)."""
    parts = [
        f"LEAST({exponent}, 60)",
        f"LEAST(GREATEST({exponent} - 60, 0), 60)",
        f"GREATEST({exponent} - 120, 0)",
    ]
    return " * ".join(f"CAST(1 << {part} AS DECIMAL(65,0))" for part in parts)


def _pow10_sql(exponent: str) -> str:
    """10**exponent as an exact DECIMAL(65,0), for 0 <= exponent <= 64."""
    return f"CAST(CONCAT('1', REPEAT('0', {exponent})) AS DECIMAL(65,0))"


def decade_sql(magnitude: str) -> str:
    """floor(log10) of a positive double's shortest text: LOG10 can be one off at a power of ten.

    `x >= CAST('1eN' AS DOUBLE)` holds exactly when x's shortest text is at least 10**N, since the
    double nearest 10**N is the only one whose rounding interval holds 10**N.
    """
    guess = f"FLOOR(LOG10({magnitude}))"
    upper = f"LEAST({guess} + 1, {MAX_FLOAT_EXPONENT})"
    above = f"({magnitude} >= CAST(CONCAT('1e', {upper}) AS DOUBLE))"
    below = f"({magnitude} < CAST(CONCAT('1e', {guess}) AS DOUBLE))"
    return f"({guess} + ({above} AND {guess} < {MAX_FLOAT_EXPONENT}) - {below})"


def _binary_exponent_sql(magnitude: str) -> str:
    """k with |x| = m * 2**k, m an integer below 2**56 (LOG2 may be one off at a power of two;
    m stays an integer either way). Subnormals have k = -1074."""
    return f"GREATEST(FLOOR(LOG2({magnitude})) - 53, -1074)"


def _mantissa_sql(magnitude: str, k: str) -> str:
    """m = |x| / 2**k, exact: dividing by a power of two whose quotient is an integer."""
    return f"CAST(CAST({magnitude} / POW(2, {k}) AS UNSIGNED) AS DECIMAL(65,0))"


def _scaled_sql(magnitude: str) -> tuple[str, str]:
    """(L, t) with |x| ≈ L * 10**t, L an integer of 53 to 65 digits, relative error below 5e-38.

    |x| = m * 2**r * (2**32)**i with 0 <= r < 32; (2**32)**i comes from the 38-digit table.
    """
    k = _binary_exponent_sql(magnitude)
    index = f"FLOOR({k} / {POWER_STEP})"
    shift = f"({k} - {POWER_STEP} * {index})"
    slot = f"{index} - {POWER_INDEXES.start - 1}"
    power = f"CAST(ELT({slot}, {_POWER_MANTISSAS}) AS DECIMAL(65,0))"
    scaled = f"({_mantissa_sql(magnitude, k)} * CAST(1 << {shift} AS DECIMAL(65,0)) * {power})"
    return scaled, f"(FLOOR({index} * {_DECADES_PER_STEP}) - {POWER_DIGITS - 1})"


def _subnormal_scaled_sql(magnitude: str) -> tuple[str, str]:
    """(L, t) as `_scaled_sql` for a subnormal: m * 2**-1074, with one 38-digit constant."""
    unit, unit_exponent = _power_of_two(-1074)
    m = _mantissa_sql(magnitude, "-1074")
    return f"({m} * {unit})", str(unit_exponent)


def _above_midpoint_sql(magnitude: str, digits16: str, exponent: str, odd: str) -> str:
    """True when |x| is above the decimal G * 10**(E-15) (G: the 16 digits `digits16`, E: the
    decimal exponent of its first digit), or equal to it and `odd` (half-even rounds up).

    Exact range: m * 2**max(k,0) * 10**max(-q,0) versus G * 2**max(-k,0) * 10**max(q,0), integers.
    """
    k = f"(FLOOR(LOG2({magnitude})) - 53)"
    m = _mantissa_sql(magnitude, k)
    g = f"CAST({digits16} AS DECIMAL(65,0))"
    q = f"({exponent} - 15)"
    exact = f"({m} * {_pow2_sql(f'GREATEST({k}, 0)')} * {_pow10_sql(f'GREATEST(-{q}, 0)')})"
    shown = f"({g} * {_pow2_sql(f'GREATEST(-{k}, 0)')} * {_pow10_sql(f'GREATEST({q}, 0)')})"
    scaled, scale = _scaled_sql(magnitude)
    beyond = f"({scaled} > {g} * {_pow10_sql(f'{q} - {scale}')})"
    in_range = f"{exponent} BETWEEN {EXACT_EXPONENT_MIN} AND {EXACT_EXPONENT_MAX}"
    return (
        f"(CASE WHEN {in_range} THEN ({exact} > {shown} OR ({exact} = {shown} AND {odd})) "
        f"ELSE {beyond} END)"
    )


def _normal_digits_sql(magnitude: str) -> tuple[str, str]:
    """(15 digits, decimal exponent of the first one) of a normal double, correctly rounded.

    A carry ('999999999999999' rounding up) makes the digits 16 long; the exponent already counts
    it, found without a second look at the text: |x| rounds up to 10**(E+1) exactly when it is
    above the double nearest 9.999999999999995 * 10**E, or is that double and not below the
    decimal itself (an exact tie rounds up: the 15th digit, 9, is odd).
    """
    shortest = f"CAST({magnitude} AS CHAR)"  # e.g. 1.2345e-7, 0.30000000000000004, 1e22
    significant = f"TRIM(BOTH '0' FROM REPLACE(SUBSTRING_INDEX({shortest}, 'e', 1), '.', ''))"
    exponent = decade_sql(magnitude)
    odd = f"(SUBSTRING({significant}, 15, 1) IN ('1', '3', '5', '7', '9'))"
    tie_rounds_up = _above_midpoint_sql(magnitude, significant, exponent, odd)
    rounds_up = (
        f"(CASE SIGN(STRCMP(SUBSTRING({significant}, 16), '5')) "
        f"WHEN 1 THEN 1 WHEN 0 THEN {tie_rounds_up} ELSE 0 END)"
    )
    # RPAD pads a short text and cuts a long one to 15 digits.
    digits = f"CAST(CAST(RPAD({significant}, 15, '0') AS UNSIGNED) + {rounds_up} AS CHAR)"
    edge = f"CAST(CONCAT('9.999999999999995e', {exponent}) AS DOUBLE)"
    at_edge = _above_midpoint_sql(magnitude, "'9999999999999995'", exponent, "TRUE")
    carry = (
        f"({exponent} < {MAX_FLOAT_EXPONENT} AND "  # no double rounds up to 1e309
        f"({magnitude} > {edge} OR ({magnitude} = {edge} AND {at_edge})))"
    )
    return digits, f"({exponent} + {carry})"


def _subnormal_digits_sql(magnitude: str) -> tuple[str, str]:
    """The same pair for a subnormal, rounded half-up from its scaled value (no exact ties)."""
    scaled, scale = _subnormal_scaled_sql(magnitude)
    length = f"LENGTH(CAST({scaled} AS CHAR))"
    unit = _pow10_sql(f"{length} - 15")
    half = f"5 * {_pow10_sql(f'{length} - 16')}"
    digits = f"CAST({scaled} DIV {unit} + ({scaled} MOD {unit} >= {half}) AS CHAR)"
    return digits, f"({length} - 1 + {scale} + LENGTH({digits}) - 15)"


def float_text_sql(expression: str) -> str:
    """`format(x, '.14e')` of a numeric expression read as DOUBLE; `0` for zero.

    MySQL stores no NaN or infinity, so those never occur.
    """
    x = f"CAST({expression} AS DOUBLE)"
    magnitude = f"ABS({x})"
    subnormal = f"{magnitude} < {MIN_NORMAL}"
    normal_digits, normal_exponent = _normal_digits_sql(magnitude)
    small_digits, small_exponent = _subnormal_digits_sql(magnitude)
    digits = f"IF({subnormal}, {small_digits}, {normal_digits})"
    exponent = f"IF({subnormal}, {small_exponent}, {normal_exponent})"
    exponent_text = f"ELT({exponent} - {MIN_FLOAT_EXPONENT - 1}, {_EXPONENT_TEXTS})"
    return (
        f"CASE WHEN {x} IS NULL THEN NULL WHEN {x} = 0 THEN '0' ELSE CONCAT(IF({x} < 0, '-', ''), "
        f"INSERT(LEFT({digits}, 15), 2, 0, '.'), {exponent_text}) END"
    )
