"""The bucketed diff algorithm against two in-memory engines: no SQL, just the contract."""

from __future__ import annotations

import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pytest

from lakeshift.engines.base import (
    Column,
    ColumnStats,
    Engine,
    GroupSum,
    GroupSums,
    RowDigest,
    RowPlan,
    Scope,
)
from lakeshift.errors import TerminalError
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

    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        self.scans += 1
        sums: dict[tuple[str | None, int], list[int]] = defaultdict(lambda: [0, 0])
        for row in self.rows:
            group, _, row_hash = self._digest(plan, row)
            sums[group][0] += 1
            sums[group][1] += row_hash
        for (period, bucket), (count, total) in sorted(sums.items(), key=lambda g: g[0][1]):
            yield period, bucket, GroupSum(count, total)
        if self.drift_after_pass1:  # the source changes between the scans
            self.rows = [(r[0], self.drift_after_pass1.get(r[0], r[1])) for r in self.rows]

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


def test_each_pass_says_when_it_starts_and_pass_2_only_when_groups_differ() -> None:
    """A pass may scan the whole table: without them a 1M-row align said nothing for seconds."""
    told: list[str] = []
    bucket_diff(*_sides(MemoryEngine(list(ROWS)), MemoryEngine(list(ROWS))), on_pass=told.append)
    assert told == ["pass 1, a count and checksum per group, one scan a side"]
    told.clear()
    changed = [(i, "renamed" if i in (7, 8) else n) for i, n in ROWS]
    result = bucket_diff(
        *_sides(MemoryEngine(list(ROWS)), MemoryEngine(changed)), on_pass=told.append
    )
    assert result.groups_mismatched == 2
    assert told == [
        "pass 1, a count and checksum per group, one scan a side",
        "pass 2 over 2 differing group(s)",
    ]


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
    # what was not read is counted, and none of it as matched: every row changed
    assert result.matched == 0
    assert (
        result.changed + result.unread_source
        == len(ROWS)
        == result.unread_target + (result.changed)
    )


def test_localizing_reads_at_most_the_groups_asked_for() -> None:
    everything_changed = [(i, n.upper()) for i, n in ROWS]
    result = bucket_diff(
        *_sides(MemoryEngine(list(ROWS)), MemoryEngine(everything_changed)), max_groups_read=3
    )
    assert result.groups_read == 3 and not result.complete
    assert len(result.samples) == 20  # the default max_samples


# --- pass 1 as two streams merged by bucket ---------------------------------------------------------
PassOne = Callable[[], Iterator[tuple[str | None, int, GroupSum]]]


class StreamEngine(MemoryEngine):
    """Answers pass 1 from a given stream; pass 2 finds no row, and records what it was asked."""

    def __init__(self, groups: PassOne):
        super().__init__([])
        self.groups = groups
        self.asked: list[tuple[str | None, int]] = []

    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        return self.groups()

    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]:
        self.asked += list(groups)
        return []


def _streamed(ours: PassOne, theirs: PassOne) -> tuple[Side, Side, StreamEngine]:
    source, target = StreamEngine(ours), StreamEngine(theirs)
    plan = RowPlan(COLUMNS, (INT, TEXT), (0,), 8)
    return Side(source, Scope("t"), plan), Side(target, Scope("t"), plan), source


def test_the_merge_finds_lone_groups_changed_sums_and_an_extra_period_in_a_bucket() -> None:
    same = GroupSum(3, 300)
    ours = [
        ("2024-01", -7, same),  # buckets may be negative
        ("2024-02", -7, same),
        (None, 0, same),
        ("2024-01", 0, GroupSum(2, 20)),  # only in the source
        ("2024-02", 2, GroupSum(4, 41)),  # same count, another sum
        ("2024-01", 5, same),
    ]
    theirs = [
        ("2024-02", -7, same),  # periods of a bucket in another order: still equal
        ("2024-01", -7, same),
        (None, 0, same),
        ("2024-02", 2, GroupSum(4, 40)),
        ("2024-01", 5, same),
        ("2024-03", 5, GroupSum(1, 9)),  # one period more in a bucket both sides have
        ("2024-01", 6, GroupSum(1, 6)),  # a bucket only the lake has
    ]
    source, target, engine = _streamed(lambda: iter(ours), lambda: iter(theirs))
    result = bucket_diff(source, target)
    assert (result.rows_source, result.rows_target) == (18, 18)
    assert result.groups == 8
    assert result.groups_mismatched == 4
    assert engine.asked == [("2024-01", 0), ("2024-01", 6), ("2024-02", 2), ("2024-03", 5)]


def test_equal_streams_match_and_buckets_out_of_order_are_refused() -> None:
    groups = [(None, b, GroupSum(1, b)) for b in range(-3, 4)]
    source, target, engine = _streamed(lambda: iter(groups), lambda: iter(groups))
    result = bucket_diff(source, target)
    assert (result.groups, result.groups_mismatched, result.rows_source) == (7, 0, 7)
    assert engine.asked == []
    shuffled = [groups[1], groups[0], *groups[2:]]
    source, target, _ = _streamed(lambda: iter(groups), lambda: iter(shuffled))
    with pytest.raises(TerminalError, match="target side returned bucket -3 after -2"):
        bucket_diff(source, target)


def _diff_in_a_thread(source: Side, target: Side) -> BaseException | None:
    """Run `bucket_diff`, failing the test instead of hanging when it does not return."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            bucket_diff(source, target)
        except BaseException as error:
            raised.append(error)

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert not runner.is_alive(), "bucket_diff hung"
    return raised[0] if raised else None


@pytest.mark.parametrize("failing", ["source", "target"])
def test_an_error_mid_stream_surfaces_and_stops_the_other_side(failing: str) -> None:
    other_closed = threading.Event()

    def failing_side() -> Iterator[tuple[str | None, int, GroupSum]]:
        for bucket in range(2_500):  # a few hand-overs' worth first
            yield None, bucket, GroupSum(1, bucket)
        raise LookupError("the server went away at bucket 2500")

    def endless_side() -> Iterator[tuple[str | None, int, GroupSum]]:
        try:
            for bucket in itertools.count():
                yield None, bucket, GroupSum(1, bucket)
        finally:
            other_closed.set()

    sides = (failing_side, endless_side) if failing == "source" else (endless_side, failing_side)
    source, target, _ = _streamed(*sides)
    error = _diff_in_a_thread(source, target)
    assert isinstance(error, LookupError)
    assert str(error) == "the server went away at bucket 2500"
    assert other_closed.is_set(), "the other side's stream was not closed"
    assert not [t for t in threading.enumerate() if t.name.startswith("pass1-")]


class BlockedEngine(StreamEngine):
    """A side whose question runs until it is interrupted (a long scan inside the engine)."""

    def __init__(self) -> None:
        super().__init__(self._blocked)
        self.interrupted = threading.Event()

    def _blocked(self) -> GroupSums:
        if not self.interrupted.wait(timeout=60):
            return iter([])
        raise RuntimeError("interrupted")

    def interrupt(self) -> None:
        self.interrupted.set()


@pytest.mark.parametrize("failing", ["source", "target"])
def test_a_failed_side_interrupts_the_other_sides_running_question(failing: str) -> None:
    """Without the interrupt, the error would wait the other side's whole scan (60 s here)."""

    def failing_side() -> GroupSums:
        raise LookupError("the lake's files are gone")

    blocked = BlockedEngine()
    plan = RowPlan(COLUMNS, (INT, TEXT), (0,), 8)
    failed = Side(StreamEngine(failing_side), Scope("t"), plan)
    waiting = Side(blocked, Scope("t"), plan)
    sides = (failed, waiting) if failing == "source" else (waiting, failed)
    started = time.monotonic()
    error = _diff_in_a_thread(*sides)
    assert isinstance(error, LookupError) and str(error) == "the lake's files are gone"
    assert blocked.interrupted.is_set()
    assert time.monotonic() - started < 20


def test_pass_1_reads_each_side_only_a_few_hand_overs_ahead_of_the_merge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(diff_module, "READ_AHEAD_GROUPS", 10)
    monkeypatch.setattr(diff_module, "READ_AHEAD_HANDOVERS", 2)
    # Items of one side a consumer can hold before the other side moves: the chunk being
    # merged, the queued hand-overs and the one waiting to be handed over (+1 of look-ahead).
    bound = (2 + 2) * 10 + 1
    total = 5_000
    pulled = {"source": 0, "target": 0}
    most_ahead = 0
    overrun = threading.Event()

    def source_side() -> Iterator[tuple[str | None, int, GroupSum]]:
        nonlocal most_ahead
        for bucket in range(total):
            pulled["source"] += 1
            most_ahead = max(most_ahead, pulled["source"] - pulled["target"])
            if most_ahead > bound:
                overrun.set()
            yield None, bucket, GroupSum(1, bucket)

    def slow_target() -> Iterator[tuple[str | None, int, GroupSum]]:
        for bucket in range(total):
            if bucket == 1:  # stalls like a slow engine: the source must not run away meanwhile
                overrun.wait(timeout=1)
            pulled["target"] += 1
            yield None, bucket, GroupSum(1, bucket)

    source, target, _ = _streamed(source_side, slow_target)
    result = bucket_diff(source, target)
    assert (result.groups, result.groups_mismatched, result.rows_source) == (total, 0, total)
    assert most_ahead <= bound, f"the source side was read {most_ahead} groups ahead"
    assert most_ahead > bound // 2, "the source side was not read ahead at all"


def test_changed_rows_beyond_the_detail_limit_are_counted_and_said_to_be(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """changed_by_column counts the first MAX_CHANGED_ROWS_DETAILED changed rows only: the
    result says how many, so a reader does not take 5 for all 40."""
    from lakeshift.verify import diff

    monkeypatch.setattr(diff, "MAX_CHANGED_ROWS_DETAILED", 5)
    changed = [(i, f"other {i}" if i <= 40 else n) for i, n in ROWS]
    result = bucket_diff(*_sides(MemoryEngine(list(ROWS)), MemoryEngine(changed)))
    assert result.changed == 40
    assert result.changed_detailed == 5 and result.changed_by_column["name"] == 5


def test_a_changed_row_under_a_key_that_is_not_unique_is_still_named() -> None:
    """Key 7 twice; the row fetched per key is the same on both sides, the other one differs:
    the key is named with a note instead of vanishing from the samples."""
    ours = [*ROWS, (7, "second")]
    theirs = [(7, "changed") if (i, n) == (7, "name 7") else (i, n) for i, n in ROWS]
    theirs.append((7, "second"))
    result = bucket_diff(*_sides(MemoryEngine(ours), MemoryEngine(theirs)))
    assert result.changed == 1
    [sample] = [s for s in result.samples if s["kind"] == "changed"]
    assert sample["key"] == {"id": "7"} and sample["columns"] == []
    assert "not unique" in sample["note"]


class StreamingMemoryEngine(MemoryEngine):
    """A MemoryEngine that also streams every row's digest sorted by bucket, and records which
    pass-2 questions it was asked."""

    streams_rows = True

    def __init__(self, rows: list[tuple[Any, ...]]):
        super().__init__(rows)
        self.group_lists: list[int] = []
        self.streamed = 0

    def group_rows(
        self, scope: Scope, plan: RowPlan, groups: Iterable[tuple[str | None, int]]
    ) -> list[RowDigest]:
        wanted = list(groups)
        self.group_lists.append(len(wanted))
        return super().group_rows(scope, plan, wanted)

    def bucket_rows(self, scope: Scope, plan: RowPlan) -> Iterator[RowDigest]:
        self.streamed += 1
        digests = [self._digest(plan, row) for row in self.rows]
        for g, k, h in sorted(digests, key=lambda d: d[0][1]):
            yield RowDigest(g[0], g[1], k, h)


def test_pass_2_streams_rather_than_name_more_groups_a_scan_than_it_may(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Few rows but many groups differ: naming them all in scans of chosen groups would send
    the engines lists of hundreds of thousands of groups to parse and hold. Past
    `PASS2_GROUPS_PER_SCAN` groups a scan, engines that stream are read in full instead."""
    monkeypatch.setattr(diff_module, "PASS2_GROUPS_PER_SCAN", 4)
    monkeypatch.setattr(diff_module, "MAX_PASS2_SCANS", 2)
    everything_changed = [(i, n.upper()) for i, n in ROWS]
    ours, theirs = StreamingMemoryEngine(list(ROWS)), StreamingMemoryEngine(everything_changed)
    result = bucket_diff(*_sides(ours, theirs, buckets=32))
    assert ours.streamed == theirs.streamed == 1 and ours.group_lists == []
    assert result.complete and result.changed == 1000 and result.matched == 0
    # 12 groups: three scans of at most 4 groups, within a budget of 4 scans
    monkeypatch.setattr(diff_module, "MAX_PASS2_SCANS", 4)
    ours, theirs = StreamingMemoryEngine(list(ROWS)), StreamingMemoryEngine(everything_changed)
    result = bucket_diff(*_sides(ours, theirs, buckets=12))
    assert ours.streamed == 0 and ours.group_lists == [4, 4, 4]
    assert result.complete and result.changed == 1000
    # engines that cannot stream still name all their groups in one scan: no reason to cut it
    ours, theirs = MemoryEngine(list(ROWS)), MemoryEngine(everything_changed)
    result = bucket_diff(*_sides(ours, theirs, buckets=32))
    assert ours.scans == 1 + 1 + 1  # pass 1, one pass-2 scan of all 32 groups, column names
    assert result.complete and result.changed == 1000
