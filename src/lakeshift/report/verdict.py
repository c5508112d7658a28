"""The verdict at the top of the report: how many tables are proven equal, and what the rest are."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lakeshift.report.model import STATUS_ORDER, TableReport

EXPLAINED = ("error", "skipped", "not_run")  # statuses whose reasons the verdict groups by


@dataclass(frozen=True)
class Group:
    """Tables of one status (and, for unverified ones, one reason), by index into the tables."""

    status: str
    reason: str
    tables: list[int]


@dataclass(frozen=True)
class Verdict:
    signed_off: bool
    headline: str
    counts: dict[str, int]  # report status -> tables, in STATUS_ORDER
    groups: list[Group]  # the tables not proven equal, by status and reason, worst first

    @property
    def enabled(self) -> int:
        return sum(n for status, n in self.counts.items() if status != "disabled")


def _groups(tables: list[TableReport]) -> list[Group]:
    found: dict[tuple[str, str], list[int]] = {}
    for index, table in enumerate(tables):
        if table.status in ("match", "disabled"):
            continue
        reason = (table.reason or "no reason recorded") if table.status in EXPLAINED else ""
        found.setdefault((table.status, reason), []).append(index)
    rank = {s: i for i, s in enumerate(STATUS_ORDER)}
    ordered = sorted(found.items(), key=lambda g: (rank.get(g[0][0], 0), -len(g[1]), g[0][1]))
    return [Group(status, reason, indices) for (status, reason), indices in ordered]


def verdict_of(tables: list[TableReport]) -> Verdict:
    """Sign-off needs every enabled table proven equal; anything else is counted and explained.

    >>> verdict_of([]).headline
    'No tables to verify'
    """
    counts = Counter(t.status for t in tables)
    ordered = {s: counts[s] for s in STATUS_ORDER if counts[s]}
    ordered.update({s: n for s, n in counts.items() if s not in ordered})
    groups = _groups(tables)
    enabled = sum(n for s, n in counts.items() if s != "disabled")
    equal = counts["match"]
    if enabled == 0:
        return Verdict(False, "No tables to verify", ordered, groups)
    if equal == enabled:
        headline = f"Signed off: all {enabled} table{_s(enabled)} proven equal"
        return Verdict(True, headline, ordered, groups)
    headline = f"Not signed off: {enabled - equal} of {enabled} table{_s(enabled)} not proven equal"
    return Verdict(False, headline, ordered, groups)


def _s(n: int) -> str:
    return "" if n == 1 else "s"
