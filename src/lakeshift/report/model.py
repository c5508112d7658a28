"""What the report shows, as plain data: one `TableReport` per table, and the run around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Report statuses, worst first: the order tables are listed in.
STATUS_ORDER = ("mismatch", "error", "skipped", "not_run", "match", "disabled")
STATUS_LABELS = {
    "mismatch": "not equal",
    "error": "failed",
    "skipped": "skipped",
    "not_run": "not verified",
    "match": "proven equal",
    "disabled": "disabled",
}
LEVELS = ("schema", "counts", "statistics", "values")
STATISTICS = ("rows", "nulls", "distinct", "min", "max", "sum", "mean", "min_length", "max_length")


@dataclass(frozen=True)
class ArtifactState:
    """One artifact the report was built from: `read`, `not run` or `unreadable`."""

    name: str
    step: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class Level:
    name: str
    state: str  # pass, fail, not_run
    step: str  # the step whose artifact says so


@dataclass(frozen=True)
class UploadInfo:
    batch_id: str
    cutoff: str | None
    uploaded_at: str | None
    partition_strategy: str | None
    snapshot: str | None
    files: int | None
    bytes: int | None
    seconds: float | None


@dataclass(frozen=True)
class StatRow:
    column: str
    target_column: str
    type: str
    match: bool
    differences: tuple[str, ...]
    source: dict[str, Any]
    target: dict[str, Any]


@dataclass(frozen=True)
class PeriodCount:
    period: str | None
    source: int | None
    target: int | None
    mismatch: bool


@dataclass(frozen=True)
class Exclusion:
    name: str
    reason: str
    detail: str
    source_rows: int | None = None
    target_rows: int | None = None


@dataclass(frozen=True)
class Sample:
    """One named difference: a changed value of a column, or a row missing on one side."""

    origin: str
    kind: str  # changed, missing, extra
    period: str | None
    key: dict[str, Any]
    column: str | None = None
    source: Any = None
    target: Any = None
    rows: int = 1


@dataclass
class TableReport:
    source_table: str
    target_table: str
    status: str
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_rows: int | None = None
    target_rows: int | None = None
    upload: UploadInfo | None = None
    source_cutoff_method: str | None = None
    levels: list[Level] = field(default_factory=list)
    statistics: list[StatRow] = field(default_factory=list)
    statistics_note: str = ""
    periods: list[PeriodCount] = field(default_factory=list)
    periods_note: str = ""
    columns_excluded: list[Exclusion] = field(default_factory=list)
    periods_excluded: list[Exclusion] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    columns_compared: list[str] = field(default_factory=list)
    columns_dropped_by_mapping: list[str] = field(default_factory=list)
    precision: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def failed_levels(self) -> int:
        return sum(1 for level in self.levels if level.state == "fail")

    @property
    def differing_rows(self) -> int:
        """Rows named as different at any level: the size of the problem, for ordering."""
        counts = [int(self.values.get(k) or 0) for k in ("missing", "extra", "changed")]
        counts += [abs((e.source_rows or 0) - (e.target_rows or 0)) for e in self.periods_excluded]
        return sum(counts) + len(self.columns_excluded)


@dataclass
class Report:
    tables: list[TableReport]
    artifacts: list[ArtifactState]
    source: str | None = None
    lake: str | None = None
    generated_at: str = ""


def worst_first(tables: list[TableReport]) -> list[TableReport]:
    """Tables in the order a reviewer should read them: worst status, biggest problem first."""

    def rank(table: TableReport) -> tuple[int, int, int, str, str]:
        order = STATUS_ORDER.index(table.status) if table.status in STATUS_ORDER else 0
        return (
            order,
            -table.failed_levels,
            -table.differing_rows,
            table.source_table,
            table.target_table,
        )

    return sorted(tables, key=rank)
