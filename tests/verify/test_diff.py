"""The bucketed diff algorithm against two in-memory engines: no SQL, just the contract."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from lakeshift.engines.base import Column, ColumnStats, Engine, GroupSum, RowDigest, RowPlan, Scope
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType
from lakeshift.verify import diff as diff_module
from lakeshift.verify.canonical import canonical_value, hash60, join_canonical
from lakeshift.verify.diff import Side, bucket_diff

INT, TEXT = LogicalType(Kind.INTEGER), LogicalType(Kind.STRING)
COLUMNS = (Column("id", "", INT), Column("name", "", TEXT))


class MemoryEngine(Engine):
    """Rows as Python tuples; answers pass 1 and pass 2 with the reference canonical text."""

    def __init__(
        self, rows: list[tuple[Any, ...]], drift_after_pass1: dict[int, str] | None = None
    ):
        self.rows = rows
        self.drift_after_pass1 = drift_after_pass1 or {}
        self.scans = 0

    def _text(self, plan: RowPlan, row: tuple[Any, ...], positions: Iterable[int]) -> str:
        return join_canonical([canonical_value(row[i], plan.types[i]) for i in positions])

    def _digest(
        self, plan: RowPlan, row: tuple[Any, ...]
    ) -> tuple[tuple[str | None, int], str, int]:
        everything = range(len(plan.columns))
        row_hash = hash60(self._text(plan, row, everything))
        key = self._text(plan, row, plan.key or everything)
        bucket = (hash60(key) if plan.key else row_hash) % plan.buckets  # any function of the key
        return (None, bucket), key, row_hash

    def bucket_checksums(
        self, scope: Scope, plan: RowPlan
    ) -> dict[tuple[str | None, int], GroupSum]:
        self.scans += 1
        sums: dict[tuple[str | None, int], list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            group, _, row_hash = self._digest(plan, row)
            sums[group][0] += 1
            sums[group][1] += row_hash
        if self.drift_after_pass1:  # the source changes between the scans
            self.rows = [(r[0], self.drift_after_pass1.get(r[0], r[1])) for r in self.rows]
        return {g: GroupSum(c, s) for g, (c, s) in sums.items()}

    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]:
        self.scans += 1
        wanted = set(groups)
        digests = [self._digest(plan, row) for row in self.rows]
        return [RowDigest(g[0], g[1], k, h) for g, k, h in digests if g in wanted]

    def row_texts(
        self,
        scope: Scope,
        plan: RowPlan,
        groups: Sequence[tuple[str | None, int]],
        keys: Sequence[str],
    ) -> dict[str, list[str | None]]:
        self.scans += 1
        wanted = set(keys)
        found = {}
        for row in self.rows:
            key = self._text(plan, row, plan.key)
            if key in wanted:
                found[key] = [canonical_value(v, t) for v, t in zip(row, plan.types, strict=True)]
        return found

    def table_exists(self, table: str) -> bool:
        return True

    def columns(self, table: str) -> list[Column]:
        return list(COLUMNS)

    def row_count(self, scope: Scope) -> int:
        return len(self.rows)

    def period_counts(self, scope: Scope, column: Column, period: Period) -> dict[str | None, int]:
        return {None: len(self.rows)}

    def column_stats(
        self, scope: Scope, columns: Sequence[Column], types: Sequence[LogicalType]
    ) -> dict[str, ColumnStats]:
        raise NotImplementedError


def _sides(
    ours: MemoryEngine, theirs: MemoryEngine, keyed: bool = True, buckets: int = 32
) -> tuple[Side, Side]:
    plan = RowPlan(COLUMNS, (INT, TEXT), (0,) if keyed else (), buckets)
    return Side(ours, Scope("t"), plan), Side(theirs, Scope("t"), plan)


ROWS = [(i, f"name {i}") for i in range(1, 1001)]


def test_equal_sides_need_one_scan_each() -> None:
    ours, theirs = MemoryEngine(list(ROWS)), MemoryEngine(list(reversed(ROWS)))
    result = bucket_diff(*_sides(ours, theirs))
    assert (result.differences, result.groups_mismatched, result.matched) == (0, 0, 1000)
    assert ours.scans == theirs.scans == 1


def test_missing_extra_and_changed_rows_are_named_with_their_columns() -> None:
    changed = [(i, "renamed" if i == 7 else n) for i, n in ROWS if i != 3] + [(5000, "new")]
    result = bucket_diff(*_sides(MemoryEngine(list(ROWS)), MemoryEngine(changed)))
    assert (result.missing, result.extra, result.changed) == (1, 1, 1)
    kinds = {(s["kind"], s["key"]["id"]) for s in result.samples}
    assert kinds == {("missing", "3"), ("extra", "5000"), ("changed", "7")}
    [sample] = [s for s in result.samples if s["kind"] == "changed"]
    assert sample["columns"] == [
        {"column": "name", "target_column": "name", "source": "name 7", "target": "renamed"}
    ]
    assert result.changed_by_column == {"name": 1}


def test_without_a_key_rows_compare_as_a_multiset() -> None:
    duplicated = [*ROWS, ROWS[10]]
    result = bucket_diff(*_sides(MemoryEngine(list(ROWS)), MemoryEngine(duplicated), keyed=False))
    assert (result.missing, result.extra, result.changed) == (0, 1, 0)
    swapped = [(1, ROWS[1][1]), (2, ROWS[0][1]), *ROWS[2:]]
    result = bucket_diff(*_sides(MemoryEngine(list(ROWS)), MemoryEngine(swapped), keyed=False))
    assert (result.missing, result.extra) == (2, 2)


def test_a_difference_pass_2_cannot_see_still_counts_as_a_mismatching_group() -> None:
    # The source changes row 9 between pass 1 and pass 2 to what the lake holds: pass 2 finds
    # nothing, but the group's checksum differed, and that is what the verdict rests on.
    lake = [(i, "changed" if i == 9 else n) for i, n in ROWS]
    result = bucket_diff(
        *_sides(MemoryEngine(list(ROWS), drift_after_pass1={9: "changed"}), MemoryEngine(lake))
    )
    assert result.groups_mismatched == 1
    assert result.differences == 0


def test_pass_2_reads_only_mismatching_groups_within_its_scan_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diff_module, "PASS2_ROWS_PER_SCAN", 50)
    monkeypatch.setattr(diff_module, "MAX_PASS2_SCANS", 2)
    everything_changed = [(i, n.upper()) for i, n in ROWS]
    ours, theirs = MemoryEngine(list(ROWS)), MemoryEngine(everything_changed)
    result = bucket_diff(*_sides(ours, theirs, buckets=32))
    assert result.groups_mismatched == 32
    assert not result.complete and 0 < result.groups_read < 32
    assert 0 < result.changed < 1000
    assert ours.scans <= 1 + 2 + 2  # pass 1, two pass-2 scans, two column-naming fetches


def test_localizing_reads_at_most_the_groups_asked_for() -> None:
    everything_changed = [(i, n.upper()) for i, n in ROWS]
    result = bucket_diff(
        *_sides(MemoryEngine(list(ROWS)), MemoryEngine(everything_changed)), max_groups_read=3
    )
    assert result.groups_read == 3 and not result.complete
    assert len(result.samples) == 20  # the default max_samples
