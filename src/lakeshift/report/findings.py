"""What align found behind each exclusion and difference: localized summaries and samples."""

from __future__ import annotations

from typing import Any

from lakeshift.report.model import Exclusion, Sample

Entry = dict[str, Any]


def localized_text(localized: Entry | None) -> str:
    """One sentence on what localizing an exclusion found, e.g. `3 missing in the lake`."""
    if not localized:
        return "not localized (the table has no key columns)"
    words = (
        ("missing", "missing in the lake"),
        ("extra", "only in the lake"),
        ("changed", "changed"),
    )
    parts = [f"{localized[k]:,} {w}" for k, w in words if localized.get(k)]
    text = ", ".join(parts) or "no differing rows found"
    if localized.get("complete") is False:
        text += (
            f" in the {localized.get('groups_read', 0):,} of"
            f" {localized.get('groups_mismatched', 0):,} differing groups read (a sample)"
        )
    return text


def column_exclusion(entry: Entry) -> Exclusion:
    column, target = str(entry.get("column", "")), str(entry.get("target_column", ""))
    name = column if not target or target == column else f"{column} → {target}"
    return Exclusion(name, str(entry.get("reason", "")), localized_text(entry.get("localized")))


def period_exclusion(entry: Entry) -> Exclusion:
    return Exclusion(
        period_label(entry.get("period")),
        str(entry.get("reason", "")),
        localized_text(entry.get("localized")),
        entry.get("source_rows"),
        entry.get("target_rows"),
    )


def period_label(period: Any) -> str:
    return "(no date)" if period is None else str(period)


def samples_of(align: Entry) -> list[Sample]:
    """Every sample difference align recorded, one per changed value or missing row."""
    found = list(_samples("compared columns", (align.get("values") or {}).get("samples")))
    for column in align.get("columns_excluded") or []:
        localized = column.get("localized") or {}
        found += _samples(f"column {column.get('column')}", localized.get("samples"))
    for period in align.get("periods_excluded") or []:
        localized = period.get("localized") or {}
        origin = f"period {period_label(period.get('period'))}"
        found += _samples(origin, localized.get("samples"))
    return found


def _samples(origin: str, samples: list[Entry] | None) -> list[Sample]:
    found = []
    for sample in samples or []:
        kind, period, key = sample.get("kind", ""), sample.get("period"), sample.get("key") or {}
        if kind == "changed" and sample.get("columns"):
            found += [
                Sample(origin, kind, period, key, c.get("column"), c.get("source"), c.get("target"))
                for c in sample["columns"]
            ]
        elif kind == "changed":  # no column named: the note says why
            found.append(Sample(origin, kind, period, key, None, sample.get("note"), None))
        else:
            found.append(Sample(origin, kind, period, key, rows=int(sample.get("rows") or 1)))
    return found
