"""Rows per period on both sides, for the chart, from whichever artifacts recorded them.

Source counts come from analyze. Lake counts come from analyze when it saw the uploaded table,
otherwise from the rows the upload wrote per `_period` slice. Align has the last word on the
periods it excluded (both sides' counts at the time it ran); the periods it did not exclude it
proved equal. The returned note says which artifact each series came from.
"""

from __future__ import annotations

from typing import Any

from lakeshift.report.model import PeriodCount

Entry = dict[str, Any]
# As `lakeshift.steps.slicing` names `date` slices and the slice of rows without a date.
PERIOD_SLICE_PREFIX = "_period="
NULL_PERIOD_SLICE = "__HIVE_DEFAULT_PARTITION__"


def _order(period: str | None) -> tuple[bool, str]:
    return (period is None, period or "")


def _slice_rows(upload: tuple[Entry, Entry] | None) -> dict[str | None, int]:
    if upload is None or upload[0].get("partition_strategy") != "date":
        return {}
    counts: dict[str | None, int] = {}
    for piece in upload[1].get("slices") or []:
        name = str(piece.get("slice", ""))
        if name.startswith(PERIOD_SLICE_PREFIX):
            period = name[len(PERIOD_SLICE_PREFIX) :]
            key = None if period in ("", NULL_PERIOD_SLICE) else period
            counts[key] = counts.get(key, 0) + int(piece.get("rows") or 0)
    return counts


def period_counts(
    analysis: Entry | None,
    upload: tuple[Entry, Entry] | None,
    align: Entry | None,
    saw_lake: bool,
) -> tuple[list[PeriodCount], str]:
    """(rows per period on both sides, a note naming where each series came from)."""
    rows = (analysis or {}).get("period_counts") or []
    source: dict[str | None, int | None] = {r.get("period"): r.get("source") for r in rows}
    notes = ["source: analyze"] if rows else []
    target: dict[str | None, int | None] = {}
    mismatching: set[str | None] = set()
    if saw_lake:
        target = {r.get("period"): r.get("target") for r in rows}
        mismatching = {r.get("period") for r in rows if not r.get("match")}
        notes.append("lake: analyze")
    elif slices := _slice_rows(upload):
        target = dict(slices)
        notes.append("lake: rows written per period by the upload")
    aligned = align is not None and isinstance(align.get("levels"), dict)
    if aligned:
        excluded = (align or {}).get("periods_excluded") or []
        mismatching = {p.get("period") for p in excluded}
        for p in excluded:
            source[p.get("period")] = p.get("source_rows")
            target[p.get("period")] = p.get("target_rows")
        if excluded:
            notes.append("periods marked: counts align found different, with align's counts")
        if not target:
            target = {p: n for p, n in source.items() if p not in mismatching}
            notes.append("lake: equal to the source where align found equal counts")
    if not source and not target:
        return [], ""
    periods = sorted(set(source) | set(target), key=_order)
    counts = [PeriodCount(p, source.get(p), target.get(p), p in mismatching) for p in periods]
    return counts, "; ".join(notes)
