"""The two-pass bucketed row-hash diff.

Pass 1: each side returns, per (period, bucket), a row count and the exact sum of 60-bit row
hashes, in one scan. Equal groups are proven equal (up to a hash collision, odds about 2**-60
per differing group). Pass 2: only mismatching groups are read again as (key, row hash) pairs,
to name the missing, extra and changed rows; changed rows are then fetched as canonical texts to
name the differing columns. Tables without a key compare as multisets of rows: duplicates count.

The algorithm talks to engines only through the `Engine` questions, never SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lakeshift.engines.base import Engine, RowDigest, RowPlan, Scope
from lakeshift.verify.canonical import split_canonical

PASS2_ROWS_PER_SCAN = 500_000
MAX_PASS2_SCANS = 4
MAX_CHANGED_ROWS_DETAILED = 10_000

Group = tuple[str | None, int]
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
    complete: bool = True  # False when pass 2 stopped early (a sampling run)

    @property
    def matched(self) -> int:
        return self.rows_source - self.missing - self.changed

    @property
    def differences(self) -> int:
        return self.missing + self.extra + self.changed


def _key_values(plan: RowPlan, key_text: str) -> dict[str, str | None]:
    names = [plan.columns[i].name for i in plan.key] if plan.key else [c.name for c in plan.columns]
    return dict(zip(names, split_canonical(key_text), strict=False))


def bucket_diff(
    source: Side,
    target: Side,
    max_samples: int = 20,
    max_groups_read: int | None = None,
) -> DiffResult:
    """Compare two sides row by row; names differences up to `max_samples`.

    Pass 2 reads the mismatching groups in a few scans of at most `PASS2_ROWS_PER_SCAN` rows
    each, and stops after `MAX_PASS2_SCANS` (or `max_groups_read` groups, for localizing a
    column known to differ everywhere): the counts then cover only the groups read and
    `complete` is False. The verdict never depends on pass 2: any mismatching group fails it.
    """
    result = DiffResult()
    source_groups, target_groups = both(
        lambda: source.engine.bucket_checksums(source.scope, source.plan),
        lambda: target.engine.bucket_checksums(target.scope, target.plan),
    )
    result.rows_source = sum(g.count for g in source_groups.values())
    result.rows_target = sum(g.count for g in target_groups.values())
    every = set(source_groups) | set(target_groups)
    result.groups = len(every)
    mismatched = sorted(
        (g for g in every if source_groups.get(g) != target_groups.get(g)),
        key=lambda g: (g[0] or "", g[1]),
    )
    result.groups_mismatched = len(mismatched)
    if max_groups_read is not None:
        mismatched = mismatched[:max_groups_read]

    def rows_in(group: Group) -> int:
        return max(
            g.count if (g := side.get(group)) else 0 for side in (source_groups, target_groups)
        )

    for scans, chunk in enumerate(_chunks(mismatched, rows_in)):
        if scans == MAX_PASS2_SCANS:
            break
        _compare_groups(source, target, chunk, result, max_samples)
        result.groups_read += len(chunk)
    result.complete = result.groups_read == result.groups_mismatched
    return result


def both(ask_source: Callable[[], T], ask_target: Callable[[], U]) -> tuple[T, U]:
    """Ask both sides at once: each engine scans its own data, in its own process or threads."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="side") as pool:
        target = pool.submit(ask_target)
        return ask_source(), target.result()


def _chunks(groups: list[Group], rows_in: Callable[[Group], int]) -> Iterator[list[Group]]:
    """Consecutive groups holding about `PASS2_ROWS_PER_SCAN` rows together."""
    chunk: list[Group] = []
    rows = 0
    for group in groups:
        chunk.append(group)
        rows += rows_in(group)
        if rows >= PASS2_ROWS_PER_SCAN:
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
    source_rows, target_rows = _by_group_and_key(source_digests), _by_group_and_key(target_digests)
    changed: list[tuple[Group, str]] = []
    for group_key in sorted(
        set(source_rows) | set(target_rows), key=lambda k: (k[0][0] or "", k[0][1], k[1])
    ):
        group, key = group_key
        ours = Counter(source_rows.get(group_key, []))
        theirs = Counter(target_rows.get(group_key, []))
        common = ours & theirs
        left = sum((ours - common).values())
        right = sum((theirs - common).values())
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
    if changed:
        _name_columns(source, target, changed[:MAX_CHANGED_ROWS_DETAILED], result, max_samples)


def _by_group_and_key(rows: Iterable[RowDigest]) -> dict[tuple[Group, str], list[int]]:
    grouped: dict[tuple[Group, str], list[int]] = defaultdict(list)
    for row in rows:
        grouped[((row.period, row.bucket), row.key)].append(row.row_hash)
    return grouped


def _name_columns(
    source: Side,
    target: Side,
    changed: list[tuple[Group, str]],
    result: DiffResult,
    max_samples: int,
) -> None:
    """Fetch the changed rows' column texts from both sides, in one pass each, and compare."""
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
                differing.append(
                    {
                        "column": name,
                        "target_column": target.plan.columns[index].name,
                        "source": _display(x),
                        "target": _display(y),
                    }
                )
        if differing and len(result.samples) < max_samples:
            result.samples.append(
                {
                    "kind": "changed",
                    "period": group[0],
                    "key": _key_values(source.plan, key),
                    "columns": differing,
                }
            )


def _display(text: str | None) -> str | None:
    """A canonical text as a person reads it: strings unescaped, NULL as None."""
    return None if text is None else split_canonical(text)[0]
