"""Pair a source table with its lake table for comparison: columns, types, scopes, cutoff."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lakeshift.engines.base import Column, Engine, Scope, SourceEngine
from lakeshift.errors import TerminalError
from lakeshift.inventory import TableSpec
from lakeshift.lake.writer import METADATA_COLUMNS
from lakeshift.mapping import map_columns
from lakeshift.project import Project
from lakeshift.types import Kind, LogicalType, common_type, compatibility

CURRENT_STATE = "current_state"
SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class ColumnPair:
    source: Column
    lake: Column
    logical: LogicalType  # the type both sides render canonical text in


@dataclass
class TablePair:
    spec: TableSpec
    source_scope: Scope
    lake_scope: Scope
    columns: list[ColumnPair]
    missing_in_lake: list[str]
    type_mismatches: list[str]  # "column: why the lake's type cannot hold the source's values"
    key_columns: list[str]  # source names
    cutoff: datetime
    cutoff_method: str
    batch_id: str
    upload: dict[str, Any] = field(default_factory=dict)
    dropped_by_mapping: list[str] = field(default_factory=list)  # source columns mapped to null
    # lake columns no source column maps to (besides the upload's own): data the source lacks
    only_in_lake: list[str] = field(default_factory=list)
    # lake rows stamped after the cutoff: an upload that recorded nothing (killed, or running)
    rows_after_cutoff: int = 0

    @property
    def schema_matches(self) -> bool:
        return not (self.missing_in_lake or self.type_mismatches or self.only_in_lake)

    def schema_problems(self) -> list[str]:
        """The schema level's failures, one line each."""
        lines = (
            [f"columns missing in the lake: {', '.join(self.missing_in_lake)}"]
            if self.missing_in_lake
            else []
        )
        if self.only_in_lake:
            lines.append(f"columns only in the lake: {', '.join(self.only_in_lake)}")
        return lines + [f"type differs: {problem}" for problem in self.type_mismatches]

    def unseen_rows(self) -> list[str]:
        """The line saying the lake holds rows no question sees, if it does."""
        if not self.rows_after_cutoff:
            return []
        return [
            f"{self.rows_after_cutoff} lake rows were written after the cutoff "
            f"({self.cutoff.isoformat()}) by an upload that recorded no metadata (killed, or "
            "still running): readers of the lake see them, these checks do not; run `lakeshift "
            "upload` again to finish it, then compare and align"
        ]

    def with_periods(self, **changes: Any) -> TablePair:
        """The same pair with both scopes narrowed (e.g. `excluded_periods=...`)."""
        return replace(
            self,
            source_scope=replace(self.source_scope, **changes),
            lake_scope=replace(self.lake_scope, **changes),
        )


def pair_table(
    project: Project,
    spec: TableSpec,
    source: SourceEngine,
    lake: Engine,
    upload: dict[str, Any],
    cutoff: datetime,
    batch_id: str,
) -> TablePair:
    """Match columns through the mapping; scope the lake to the upload cutoff."""
    source_columns = source.columns(spec.source_table)
    mapped = map_columns(spec, source_columns, project.mappings[spec.source_table])
    lake_columns = {c.name.lower(): c for c in lake.columns(spec.target_table)}
    pairs, missing = [], []
    for m in mapped.mapped:
        lake_column = lake_columns.get(m.target_name.lower())
        if lake_column is None:
            missing.append(m.source.name)
        else:
            pairs.append(
                ColumnPair(
                    m.source, lake_column, common_type(m.source.logical, lake_column.logical)
                )
            )
    # Columns the lake engine cannot compare are listed, not compared: one would fail the
    # table's every question, so the other columns would go unchecked too. So are columns of
    # another kind than the source's (text against binary, a date against a timestamp): they
    # fail the schema level, and rendering one in the other's type could fail or round.
    too_wide = [p for p in pairs if _too_wide(p, lake)]
    unlike = [p for p in pairs if not _comparable_kinds(p.source.logical, p.lake.logical)]
    pairs = [p for p in pairs if p not in too_wide and p not in unlike]
    mapped_names = {m.target_name.lower() for m in mapped.mapped}
    only_in_lake = [
        name
        for key, column in lake_columns.items()
        if key not in mapped_names and (name := column.name) not in METADATA_COLUMNS
    ]
    keys = (
        list(spec.key_columns)
        or list(upload.get("key_columns") or [])
        or source.primary_key(spec.source_table)
    )
    names = {c.name.lower() for c in source_columns}
    unknown = [key for key in keys if key.lower() not in names]
    if unknown:  # compared without it, the table would silently become a multiset
        named_by = (
            f"{project.meta.input.table}: row {spec.row}: key column"
            if spec.key_columns
            else "the key column the upload recorded,"
        )
        raise TerminalError(
            f"{named_by} {', '.join(unknown)} does not exist in {spec.source_table}"
        )
    source_scope = Scope(spec.source_table, where=spec.where, period=spec.period)
    lake_scope = Scope(spec.target_table, cutoff=cutoff, period=spec.period)
    if spec.date_column:
        date_pair = next(
            (p for p in pairs if p.source.name.lower() == spec.date_column.lower()), None
        )
        if date_pair is not None:
            source_scope = replace(source_scope, period_column=date_pair.source)
            lake_scope = replace(lake_scope, period_column=date_pair.lake)
    return TablePair(
        spec=spec,
        source_scope=source_scope,
        lake_scope=lake_scope,
        columns=pairs,
        missing_in_lake=missing,
        type_mismatches=[
            f"{p.source.name}: {problem}"
            for p in [*pairs, *unlike]
            if (problem := compatibility(p.source.logical, p.lake.logical))
        ]
        + [f"{p.source.name}: {_too_wide(p, lake)}" for p in too_wide],
        only_in_lake=only_in_lake,
        key_columns=keys,
        cutoff=cutoff,
        cutoff_method=_read_at_upload_snapshot(source, spec, upload),
        batch_id=batch_id,
        upload=upload,
        dropped_by_mapping=list(mapped.dropped),
        rows_after_cutoff=lake.rows_after_cutoff(lake_scope),
    )


_NUMBERS = frozenset({Kind.INTEGER, Kind.DECIMAL, Kind.FLOAT})


def _comparable_kinds(source: LogicalType, lake: LogicalType) -> bool:
    """Whether values of these types render comparably: the same kind, or numbers."""
    return source.kind is lake.kind or {source.kind, lake.kind} <= _NUMBERS


def _too_wide(pair: ColumnPair, lake: Engine) -> str | None:
    """Why the lake engine cannot compare this column's values, if it cannot."""
    limit = lake.capabilities.max_decimal_digits
    logical = pair.logical
    if logical.kind is Kind.DECIMAL and limit is not None and (logical.precision or 0) > limit:
        return (
            f"{logical} is wider than {lake.capabilities.name} compares ({limit} digits): its "
            "values are uploaded exactly but not verified; map it to null to leave it out"
        )
    return None


def _read_at_upload_snapshot(source: SourceEngine, spec: TableSpec, upload: dict[str, Any]) -> str:
    """Read the source as the upload saw it where the engine can (Oracle flashback)."""
    snapshot = upload.get("snapshot") or {}
    token, kind = snapshot.get("token"), snapshot.get("kind")
    if token and kind == "flashback" and source.capabilities.snapshot == "flashback":
        source.use_snapshot(spec.source_table, str(token))
        return SNAPSHOT
    return CURRENT_STATE
