"""Cut a table into slices, the independent and idempotent units of upload work."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from lakeshift.engines.base import Column, KeyRange, Scope, SourceEngine
from lakeshift.errors import ConfigError
from lakeshift.inventory import TableSpec
from lakeshift.types import Kind

PERIOD_PARTITION = "_period"
KEY_PARTITION = "_key_range"
NULL_PARTITION_VALUE = "__HIVE_DEFAULT_PARTITION__"  # how Hive and Glue name a NULL partition value


class PartitionStrategy(StrEnum):
    DATE = "date"
    KEY = "key"
    NONE = "none"


@dataclass(frozen=True)
class Slice:
    slice_id: str
    partition: str  # "key=value", or "" for an unpartitioned table
    scope: Scope
    expected_rows: int | None = None


def partition_keys(strategy: PartitionStrategy) -> list[str]:
    return {PartitionStrategy.DATE: [PERIOD_PARTITION], PartitionStrategy.KEY: [KEY_PARTITION]}.get(
        strategy, []
    )


def plan_slices(
    spec: TableSpec,
    strategy: PartitionStrategy,
    source: SourceEngine,
    scope: Scope,
    columns: list[Column],
    rows_per_key_slice: int,
) -> list[Slice]:
    """The slices of one table under a partition strategy."""
    by_name = {c.name.lower(): c for c in columns}
    if strategy is PartitionStrategy.DATE:
        if not spec.date_column:
            raise ConfigError(
                f"{spec.source_table}: --partition-strategy date needs a date_column in the inventory (row {spec.row})"
            )
        date_column = _kept(spec, by_name, spec.date_column, "date_column")
        counts = source.period_counts(scope, date_column, spec.period)
        return [
            Slice(
                slice_id=f"{PERIOD_PARTITION}={period or NULL_PARTITION_VALUE}",
                partition=f"{PERIOD_PARTITION}={period or NULL_PARTITION_VALUE}",
                scope=replace(
                    scope,
                    period_column=date_column,
                    period=spec.period,
                    only_periods=frozenset({period}),
                ),
                expected_rows=rows,
            )
            for period, rows in sorted(counts.items(), key=lambda item: item[0] or "")
        ]
    if strategy is PartitionStrategy.KEY:
        return _key_slices(spec, source, scope, by_name, rows_per_key_slice)
    return [Slice("all", "", scope, source.row_count(scope))]


def _kept(spec: TableSpec, by_name: dict[str, Column], name: str, role: str) -> Column:
    """The uploaded column a strategy slices by; one the mapping leaves out cannot be."""
    column = by_name.get(name.lower())
    if column is None:
        raise ConfigError(
            f"{spec.source_table}: the {role} {name} is not uploaded (mapped to null in the "
            f"column mappings, or not in the source), so the partition strategy cannot slice by "
            f"it; keep it in the lake or choose another --partition-strategy (row {spec.row})"
        )
    return column


def _key_slices(
    spec: TableSpec,
    source: SourceEngine,
    scope: Scope,
    by_name: dict[str, Column],
    rows_per_slice: int,
) -> list[Slice]:
    if (
        len(spec.key_columns) != 1
        or _kept(spec, by_name, spec.key_columns[0], "key column").logical.kind is not Kind.INTEGER
    ):
        raise ConfigError(
            f"{spec.source_table}: --partition-strategy key needs exactly one integer key column (row {spec.row})"
        )
    key = by_name[spec.key_columns[0].lower()]
    stats = source.column_stats(scope, [key], [key.logical])[key.name]
    slices = []
    if stats.min is not None and stats.max is not None:
        low, high = int(stats.min), int(stats.max)
        count = math.ceil(max(stats.rows - stats.nulls, 1) / rows_per_slice)
        width = max(1, math.ceil((high - low + 1) / count))
        # Counted per range where `key - low` cannot overflow a 64-bit integer in any engine.
        counts = source.key_range_counts(scope, key, low, width) if high - low < 2**62 else None
        for index, start in enumerate(range(low, high + 1, width)):
            name = f"{KEY_PARTITION}={index:05d}"
            # The slice's id names its range: a resume whose plan moved (the source grew or
            # shrank) finds its finished slices gone from the plan instead of skipping ranges
            # that are no longer the ones written. The last range reads up to the largest key
            # only, never past what the key's type holds.
            slices.append(
                Slice(
                    f"{name}[{start},{start + width})",
                    name,
                    replace(
                        scope, key_range=KeyRange(key.name, start, min(start + width, high + 1))
                    ),
                    None if counts is None else counts.get(index, 0),
                )
            )
    if stats.nulls:
        name = f"{KEY_PARTITION}={NULL_PARTITION_VALUE}"
        slices.append(
            Slice(name, name, replace(scope, key_range=KeyRange(key.name, None, None)), stats.nulls)
        )
    return slices
