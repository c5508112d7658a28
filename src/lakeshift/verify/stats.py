"""Compare two sides' column statistics: exact types exactly, floats within a relative tolerance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from lakeshift.engines.base import ColumnStats
from lakeshift.types import Kind, LogicalType

EXACT_FIELDS = ("rows", "nulls", "distinct", "min", "max", "min_length", "max_length")


@dataclass(frozen=True)
class StatDifference:
    stat: str
    source: object
    target: object


def _close(a: str, b: str, tolerance: float) -> bool:
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=tolerance, abs_tol=0.0) or x == y


def compare_stats(
    source: ColumnStats, target: ColumnStats, logical: LogicalType, float_tolerance: float
) -> list[StatDifference]:
    """Every statistic that differs; an empty list means the column's statistics match."""
    differences = [
        StatDifference(name, getattr(source, name), getattr(target, name))
        for name in EXACT_FIELDS
        if getattr(source, name) != getattr(target, name)
    ]
    for name in ("sum", "mean"):
        a, b = getattr(source, name), getattr(target, name)
        if a is None or b is None:
            if a != b:
                differences.append(StatDifference(name, a, b))
        elif logical.kind is Kind.FLOAT:
            if not _close(a, b, float_tolerance):
                differences.append(StatDifference(name, a, b))
        elif Decimal(a) != Decimal(b):
            differences.append(StatDifference(name, a, b))
    return differences
