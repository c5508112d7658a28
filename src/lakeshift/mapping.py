"""Source columns matched to their lake names through the column mapping."""

from __future__ import annotations

from dataclasses import dataclass

from lakeshift.engines.base import Column
from lakeshift.errors import ConfigError
from lakeshift.inventory import ColumnMapping, TableSpec


@dataclass(frozen=True)
class MappedColumn:
    source: Column
    target_name: str


@dataclass(frozen=True)
class TableColumns:
    mapped: list[MappedColumn]
    dropped: list[str]  # source columns the mapping drops
    unknown: list[str]  # mapping entries naming no source column

    def by_source(self, name: str) -> MappedColumn | None:
        return next((m for m in self.mapped if m.source.name.lower() == name.lower()), None)


def map_columns(spec: TableSpec, columns: list[Column], mapping: ColumnMapping) -> TableColumns:
    """Apply the mapping: renamed, dropped (null) and default lower-cased names."""
    mapped, dropped = [], []
    spellings = {c.name for c in columns}
    for column in columns:
        target = mapping.target_name(column.name, spellings)
        if target is None:
            dropped.append(column.name)
        else:
            mapped.append(MappedColumn(column, target))
    used = {mapping.entry_for(c.name, spellings) for c in columns}
    unknown = [name for name in mapping.renames if name not in used]
    targets = [m.target_name.lower() for m in mapped]
    clashing = sorted({t for t in targets if targets.count(t) > 1})
    if clashing:
        raise ConfigError(
            f"{spec.source_table}: several source columns map to the lake column(s) "
            f"{', '.join(clashing)}; rename one in the column mappings"
        )
    reserved = sorted({t for t in targets if t in RESERVED_NAMES})
    if reserved:
        raise ConfigError(
            f"{spec.source_table}: the lake column(s) {', '.join(reserved)} would clash with "
            "the upload's own (its metadata columns and partition keys, which Hive readers put "
            "in their place); rename them in the column mappings"
        )
    return TableColumns(mapped, dropped, unknown)


# The lake's own names: the upload's metadata columns and the partition keys of the strategies
RESERVED_NAMES = frozenset(
    {"_upload_timestamp", "_upload_date", "_upload_batch_id", "_period", "_key_range"}
)
