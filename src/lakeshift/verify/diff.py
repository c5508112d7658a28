"""The two-pass bucketed row-hash diff.

Pass 1: each side returns, per (period, bucket), a row count and the exact sum of 60-bit row
hashes, in one scan. Equal groups are proven equal (up to a hash collision, odds about 2**-60
per differing group). Both sides stream their groups in bucket order, each read in a thread of
its own a few thousand groups ahead, and are merged bucket by bucket: only the mismatching
groups are kept, so memory does not grow with the table when it matches (where the engines
stream their answer: see `SqlEngine.query_stream`). Pass 2: only mismatching groups are read
again as (key, row hash) pairs, to name the missing, extra and changed rows; changed rows are
then fetched as canonical texts to name the differing columns. When more rows differ than a few
such reads cover, every row of both sides is streamed once more in bucket order and merged as
pass 1 is, so every difference is still counted. Tables without a key compare as multisets of
rows: duplicates count, and identical rows come counted by the engine.

The algorithm talks to engines only through the `Engine` questions, never SQL.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import Any, Generic, TypeVar

from lakeshift.engines.base import Engine, GroupSum, GroupSums, RowDigest, RowPlan, Scope
from lakeshift.errors import TerminalError
from lakeshift.types import LogicalType
from lakeshift.verify.canonical import readable_value, split_canonical
from lakeshift.verify.shown import shown, shown_pair

PASS2_ROWS_PER_SCAN = 500_000
# Groups one scan selects by name, when both engines could stream instead: the list of groups
# is SQL text the engine parses and holds (165,000 'period#bucket' texts took DuckDB to 960 MB).
PASS2_GROUPS_PER_SCAN = 50_000
MAX_PASS2_SCANS = 4
MAX_CHANGED_ROWS_DETAILED = 10_000
READ_AHEAD_GROUPS = 1_000  # pass-1 groups a side's thread hands over at once
READ_AHEAD_HANDOVERS = 4  # hand-overs waiting for the merge, per side
WAIT_SECONDS = 0.05  # how often a waiting thread looks whether the other side failed

Group = tuple[str | None, int]
Periods = dict[str | None, GroupSum]  # the groups of one bucket, by period
Bucket = tuple[int, Periods]
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Side:
    engine: Engine
    scope: Scope
    plan: RowPlan


@dataclass
class DiffResult:
    rows_source: int = 0
    rows_target: int = 0
    groups: int = 0
    groups_mismatched: int = 0
    groups_read: int = 0
    missing: int = 0  # in the source, not in the lake
    extra: int = 0  # in the lake, not in the source
    changed: int = 0  # same key, different values
    changed_by_column: Counter[str] = field(default_factory=Counter)
    samples: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True  # False when pass 2 stopped early (a sampling run, or capped)
    # rows of mismatching groups pass 2 did not read, per side: their differences are not
    # counted above, so missing, extra and changed are then lower bounds
    unread_source: int = 0
    unread_target: int = 0
    # changed rows whose columns were compared (at most MAX_CHANGED_ROWS_DETAILED): what
    # changed_by_column counts
    changed_detailed: int = 0

    @property
    def matched(self) -> int:
        """Source rows proven equal: never counts rows of groups pass 2 did not read."""
        return self.rows_source - self.missing - self.changed - self.unread_source

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed


def _key_values(plan: RowPlan, key_text: str) -> dict[str, str | None]:
    names = [plan.columns[i].name for i in plan.key] if plan.key else [c.name for c in plan.columns]
    return dict(zip(names, map(shown, split_canonical(key_text)), strict=False))


def bucket_diff(
    source: Side,
    target: Side,
    max_samples: int = 20,
    max_groups_read: int | None = None,
    on_pass: Callable[[str], None] | None = None,
) -> DiffResult:
    """Compare two sides row by row; names differences up to `max_samples`.

    `on_pass` is told, in a few words, when each pass starts (progress logs: a pass may scan the
    whole table).

    Pass 2 reads the mismatching groups in a few scans of at most `PASS2_ROWS_PER_SCAN` rows
    each (and, where both engines stream, `PASS2_GROUPS_PER_SCAN` groups). When they hold more
    than `MAX_PASS2_SCANS` such scans read, and both engines stream, it reads every row of both
    sides once instead, sorted by bucket, and merges them bucket by bucket (the merge holds one
    bucket's rows; each engine sorts within its own memory limit, DuckDB's in this process).
    Otherwise it stops after `MAX_PASS2_SCANS` (or `max_groups_read` groups, for localizing a
    column known to differ everywhere): the counts then cover only the groups read, `complete`
    is False, the rows not read are counted (`unread_source`, `unread_target`) and none of them
    as matched. The verdict never depends on pass 2: any mismatching group fails it.
    """
    told = on_pass or (lambda what: None)
    result = DiffResult()
    told("pass 1, a count and checksum per group, one scan a side")
    counts = _pass1(source, target, result)
    mismatched = sorted(counts, key=lambda g: (g[0] or "", g[1]))
    result.groups_mismatched = len(mismatched)
    unread = dict(counts)
    if max_groups_read is not None:
        mismatched = mismatched[:max_groups_read]
    streams = max_groups_read is None and _can_stream(source, target)
    per_scan = PASS2_GROUPS_PER_SCAN if streams else None
    chunks = list(_chunks(mismatched, lambda g: max(counts[g]), per_scan))
    if streams and len(chunks) > MAX_PASS2_SCANS:
        told(f"pass 2 over {len(mismatched)} differing group(s), every row read again")
        _compare_streamed(source, target, set(mismatched), result, max_samples)
        result.groups_read, unread = len(mismatched), {}
        chunks = []
    if chunks:
        told(f"pass 2 over {len(mismatched)} differing group(s)")
    for scans, chunk in enumerate(chunks):
        if scans == MAX_PASS2_SCANS:
            break
        _compare_groups(source, target, chunk, result, max_samples)
        result.groups_read += len(chunk)
        for group in chunk:
            del unread[group]
    result.complete = result.groups_read == result.groups_mismatched
    result.unread_source = sum(ours for ours, _ in unread.values())
    result.unread_target = sum(theirs for _, theirs in unread.values())
    return result


def _pass1(source: Side, target: Side, result: DiffResult) -> dict[Group, tuple[int, int]]:
    """Merge both sides' groups as they stream in; counts rows and groups into `result` and
    returns only the mismatching groups, each with the rows each side holds."""
    mismatched: dict[Group, tuple[int, int]] = {}
    ask_source: Callable[[], GroupSums] = partial(
        source.engine.bucket_checksums, source.scope, source.plan
    )
    if source.engine is target.engine:  # one connection cannot serve two open streams
        held = list(ask_source())
        ask_source = partial(iter, held)
    with _read_ahead(
        ask_source,
        lambda: target.engine.bucket_checksums(target.scope, target.plan),
        interrupts=(source.engine.interrupt, target.engine.interrupt),
    ) as (ours, theirs):
        buckets = _merged(_by_bucket(ours, "source"), _by_bucket(theirs, "target"), dict)
        for bucket, mine, other in buckets:
            result.rows_source += sum(g.count for g in mine.values())
            result.rows_target += sum(g.count for g in other.values())
            for period in mine.keys() | other.keys():
                result.groups += 1
                a, b = mine.get(period), other.get(period)
                if a != b:
                    mismatched[(period, bucket)] = (a.count if a else 0, b.count if b else 0)
    return mismatched


def _by_bucket(groups: GroupSums, side: str) -> Iterator[Bucket]:
    """One side's pass-1 groups gathered per bucket, by period."""
    for bucket, rows in _in_buckets(groups, lambda group: group[1], f"pass 1 on the {side} side"):
        periods: Periods = {}
        for period, _, sums in rows:
            seen = periods.get(period)  # a group split in two rows adds up, as its rows do
            periods[period] = (
                sums
                if seen is None
                else GroupSum(seen.count + sums.count, seen.checksum + sums.checksum)
            )
        yield bucket, periods


def _in_buckets(
    items: Iterable[T], bucket_of: Callable[[T], int], source: str
) -> Iterator[tuple[int, list[T]]]:
    """Consecutive items of one bucket gathered; buckets must ascend, as the merge relies on."""
    current: int | None = None
    gathered: list[T] = []
    for item in items:
        bucket = bucket_of(item)
        if bucket != current:
            if current is not None:
                if bucket < current:
                    raise TerminalError(
                        f"{source} returned bucket {bucket} after {current}; "
                        "its answer must come in ascending bucket order"
                    )
                yield current, gathered
            current, gathered = bucket, []
        gathered.append(item)
    if current is not None:
        yield current, gathered


def _merged(
    ours: Iterator[tuple[int, T]], theirs: Iterator[tuple[int, T]], empty: Callable[[], T]
) -> Iterator[tuple[int, T, T]]:
    """Both sides' buckets in ascending order, paired; a bucket one side lacks is `empty()`."""
    mine, other = next(ours, None), next(theirs, None)
    while mine is not None or other is not None:
        if other is None or (mine is not None and mine[0] < other[0]):
            assert mine is not None
            yield mine[0], mine[1], empty()
            mine = next(ours, None)
        elif mine is None or other[0] < mine[0]:
            yield other[0], empty(), other[1]
            other = next(theirs, None)
        else:
            yield mine[0], mine[1], other[1]
            mine, other = next(ours, None), next(theirs, None)


class _Crew:
    """What the threads reading both sides share: the first failure, and when to stop."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def fail(self, error: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = error
        self.stop.set()


class _Feed(Generic[T]):
    """One stream read in a thread of its own, at most `READ_AHEAD_HANDOVERS` hand-overs of
    `READ_AHEAD_GROUPS` items ahead of its consumer."""

    def __init__(self, ask: Callable[[], Iterable[T]], crew: _Crew, name: str):
        self.ask, self.crew = ask, crew
        self.queue: queue.Queue[list[T] | None] = queue.Queue(maxsize=READ_AHEAD_HANDOVERS)
        self.thread = threading.Thread(target=self._read, name=name, daemon=True)

    def _read(self) -> None:
        try:
            stream = iter(self.ask())
            try:
                while chunk := list(islice(stream, READ_AHEAD_GROUPS)):
                    if not self._hand_over(chunk):
                        return
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()  # in this thread: the engine's question ends where it ran
            self._hand_over(None)  # the end
        except BaseException as error:  # raised again in the consumer's thread
            self.crew.fail(error)

    def _hand_over(self, chunk: list[T] | None) -> bool:
        while not self.crew.stop.is_set():
            try:
                self.queue.put(chunk, timeout=WAIT_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def items(self) -> Iterator[T]:
        while (chunk := self._take()) is not None:
            yield from chunk

    def _take(self) -> list[T] | None:
        while True:
            if self.crew.error is not None:
                raise self.crew.error  # either side's: the other side's reading has stopped
            try:
                return self.queue.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                continue


@contextmanager
def _read_ahead(
    ask_source: Callable[[], Iterable[T]],
    ask_target: Callable[[], Iterable[T]],
    interrupts: tuple[Callable[[], None], Callable[[], None]] = (lambda: None, lambda: None),
) -> Iterator[tuple[Iterator[T], Iterator[T]]]:
    """Both streams, each read in a thread of its own so neither engine waits for the other
    while the merge keeps up. The first error of either is raised from both streams, with its
    own type and message. Leaving the block stops both threads at their next item and waits for
    them, so no engine is used after it; leaving it on an error first interrupts the questions
    still running (`interrupts`, one per side), so a failed side does not wait for the other
    side's whole scan."""
    crew = _Crew()
    feeds = [_Feed(ask_source, crew, "pass1-source"), _Feed(ask_target, crew, "pass1-target")]
    try:
        for feed in feeds:
            feed.thread.start()
        yield feeds[0].items(), feeds[1].items()
    except BaseException:
        crew.stop.set()
        for feed, interrupt in zip(feeds, interrupts, strict=True):
            if feed.thread.is_alive():
                with suppress(Exception):
                    interrupt()
        raise
    finally:
        crew.stop.set()
        for feed in feeds:
            if feed.thread.is_alive():
                feed.thread.join()


def both(ask_source: Callable[[], T], ask_target: Callable[[], U]) -> tuple[T, U]:
    """Ask both sides at once: each engine scans its own data, in its own process or threads."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="side") as pool:
        target = pool.submit(ask_target)
        return ask_source(), target.result()


def _chunks(
    groups: list[Group], rows_in: Callable[[Group], int], most_groups: int | None
) -> Iterator[list[Group]]:
    """Consecutive groups holding about `PASS2_ROWS_PER_SCAN` rows together, and no more than
    `most_groups` groups when given."""
    chunk: list[Group] = []
    rows = 0
    for group in groups:
        chunk.append(group)
        rows += rows_in(group)
        if rows >= PASS2_ROWS_PER_SCAN or len(chunk) == most_groups:
            yield chunk
            chunk, rows = [], 0
    if chunk:
        yield chunk


def _compare_groups(
    source: Side, target: Side, groups: list[Group], result: DiffResult, max_samples: int
) -> None:
    source_digests, target_digests = both(
        lambda: source.engine.group_rows(source.scope, source.plan, groups),
        lambda: target.engine.group_rows(target.scope, target.plan, groups),
    )
    changed = _count_differences(source, source_digests, target_digests, result, max_samples)
    _name_columns(source, target, changed, result, max_samples)


def _can_stream(source: Side, target: Side) -> bool:
    """Both engines stream `bucket_rows`, on connections of their own."""
    return (
        source.engine.streams_rows
        and target.engine.streams_rows
        and source.engine is not target.engine
    )


def _compare_streamed(
    source: Side, target: Side, wanted: set[Group], result: DiffResult, max_samples: int
) -> None:
    """Pass 2 over every row of both sides, merged bucket by bucket as they stream in; only the
    mismatching groups' rows are compared, and at most `MAX_CHANGED_ROWS_DETAILED` changed rows
    are fetched again to name their columns, at the end."""
    changed: list[tuple[Group, str]] = []
    with _read_ahead(
        lambda: source.engine.bucket_rows(source.scope, source.plan),
        lambda: target.engine.bucket_rows(target.scope, target.plan),
        interrupts=(source.engine.interrupt, target.engine.interrupt),
    ) as (ours, theirs):
        rows = _merged(
            _in_buckets(ours, _bucket_of, "pass 2 on the source side"),
            _in_buckets(theirs, _bucket_of, "pass 2 on the target side"),
            list,
        )
        for bucket, mine, other in rows:
            a = [d for d in mine if (d.period, bucket) in wanted]
            b = [d for d in other if (d.period, bucket) in wanted]
            if a or b:
                found = _count_differences(source, a, b, result, max_samples)
                changed += found[: MAX_CHANGED_ROWS_DETAILED - len(changed)]
    _name_columns(source, target, changed, result, max_samples)


def _bucket_of(digest: RowDigest) -> int:
    return digest.bucket


def _count_differences(
    source: Side,
    source_digests: list[RowDigest],
    target_digests: list[RowDigest],
    result: DiffResult,
    max_samples: int,
) -> list[tuple[Group, str]]:
    """Count the missing, extra and changed rows among these digests into `result`; returns
    the changed rows' (group, key)."""
    # Rows (with their multiplicity) found on one side only; a group's key that has some is
    # missing, extra or changed. Counting whole digests runs in C, so the many matching rows
    # of a mismatching group cost little (320,000 rows a side: 0.3 s instead of 4.5 s).
    ours, theirs = _multiset(source_digests), _multiset(target_digests)
    del source_digests, target_digests
    left_by, right_by = _by_group_and_key(ours - theirs), _by_group_and_key(theirs - ours)
    del ours, theirs
    changed: list[tuple[Group, str]] = []
    for group_key in sorted(
        left_by.keys() | right_by.keys(), key=lambda k: (k[0][0] or "", k[0][1], k[1])
    ):
        group, key = group_key
        left, right = left_by[group_key], right_by[group_key]
        paired = min(left, right) if source.plan.key else 0
        if paired:
            result.changed += paired
            changed.append(group_key)
        for kind, count in (("missing", left - paired), ("extra", right - paired)):
            if count:
                setattr(result, kind, getattr(result, kind) + count)
                if len(result.samples) < max_samples:
                    result.samples.append(
                        {
                            "kind": kind,
                            "period": group[0],
                            "key": _key_values(source.plan, key),
                            "rows": count,
                        }
                    )
    return changed


def _multiset(digests: list[RowDigest]) -> Counter[RowDigest]:
    """Each digest with its number of rows: a keyed side's digests are one row each; a keyless
    side's come counted by the engine (`rows`)."""
    if all(digest.rows == 1 for digest in digests):
        return Counter(digests)
    counts: Counter[RowDigest] = Counter()
    for digest in digests:
        counts[digest._replace(rows=1)] += digest.rows
    return counts


def _by_group_and_key(rows: Counter[RowDigest]) -> Counter[tuple[Group, str]]:
    """How many of `rows` each (group, key) has."""
    counts: Counter[tuple[Group, str]] = Counter()
    for row, count in rows.items():
        counts[((row.period, row.bucket), row.key)] += count
    return counts


def _name_columns(
    source: Side,
    target: Side,
    changed: list[tuple[Group, str]],
    result: DiffResult,
    max_samples: int,
) -> None:
    """Fetch the changed rows' column texts from both sides, in one pass each, and compare:
    up to `MAX_CHANGED_ROWS_DETAILED` changed rows in all."""
    changed = changed[: max(MAX_CHANGED_ROWS_DETAILED - result.changed_detailed, 0)]
    if not changed:
        return
    result.changed_detailed += len(changed)
    groups = sorted({group for group, _ in changed}, key=lambda g: (g[0] or "", g[1]))
    keys = [key for _, key in changed]
    ours, theirs = both(
        lambda: source.engine.row_texts(source.scope, source.plan, groups, keys),
        lambda: target.engine.row_texts(target.scope, target.plan, groups, keys),
    )
    for group, key in changed:
        a, b = ours.get(key), theirs.get(key)
        if a is None or b is None:
            continue
        differing = []
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                name = source.plan.columns[index].name
                result.changed_by_column[name] += 1
                ours_shown, theirs_shown = shown_pair(
                    _display(x, source.plan.types[index]), _display(y, source.plan.types[index])
                )
                differing.append(
                    {
                        "column": name,
                        "target_column": target.plan.columns[index].name,
                        "source": ours_shown,
                        "target": theirs_shown,
                    }
                )
        if len(result.samples) < max_samples:
            sample: dict[str, Any] = {
                "kind": "changed",
                "period": group[0],
                "key": _key_values(source.plan, key),
                "columns": differing,
            }
            if not differing:  # the text fetched per key is one of several rows with that key
                sample["note"] = (
                    "its rows differ, yet the columns read for this key are equal: the key is "
                    "not unique, or the source changed between the reads"
                )
            result.samples.append(sample)


def _display(text: str | None, logical: LogicalType) -> str | None:
    """A canonical text as a person reads it: strings unescaped, NULL as None, a float's bits
    as the shortest decimal that reads back as the same double."""
    return None if text is None else readable_value(split_canonical(text)[0], logical)
