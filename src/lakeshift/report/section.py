"""One table's section of the report: names, rows, upload, levels, statistics, chart, exclusions
and sample differences."""

from __future__ import annotations

from typing import Any

from lakeshift.report.markup import (
    data_value,
    esc,
    key_text,
    number,
    status_badge,
    table,
)
from lakeshift.report.model import STATISTICS, Exclusion, Sample, StatRow, TableReport
from lakeshift.report.svg import LAKE_FILL, MISMATCH_FILL, SOURCE_FILL, period_chart

SAMPLE_KINDS = {
    "changed": "value changed",
    "missing": "row missing in the lake",
    "extra": "row only in the lake",
}
CUTOFF_METHODS = {
    "current_state": "current state (no snapshot to read again)",
    "snapshot": "the upload's snapshot",
}
TEXT_STATISTICS = {"min", "max"}  # canonical text of any type: left-aligned, wrapped at spaces
LEVEL_HELP = {
    "schema": "every mapped column exists in the lake with a type that holds its values",
    "counts": "total rows and rows per period are equal",
    "statistics": "every column's statistics are equal",
    "values": "every compared row's canonical hash is equal, key by key",
}


def level_chips(report: TableReport) -> str:
    chips = []
    for level in report.levels:
        mark = {"pass": "✓", "fail": "✗"}.get(level.state, "–")
        state = {"pass": "passed", "fail": "failed", "not_run": "not run"}[level.state]
        said = f" (from {level.step})" if level.step else ""
        title = f"{level.name}: {state}{said}; {LEVEL_HELP[level.name]}"
        chips.append(
            f'<span class="lvl {esc(level.state)}" title="{esc(title)}">{mark} {esc(level.name)}</span>'
        )
    return f'<span class="levels">{"".join(chips)}</span>'


def _facts(report: TableReport) -> str:
    upload = report.upload
    items: list[tuple[str, str]] = [
        ("Source table", f"<code>{esc(report.source_table)}</code>"),
        ("Lake table", f"<code>{esc(report.target_table)}</code>"),
        ("Rows in source", number(report.source_rows)),
        ("Rows in lake", number(report.target_rows)),
    ]
    if upload is not None:
        items += [
            ("Upload batch", f"<code>{esc(upload.batch_id)}</code>"),
            ("Cutoff (lake compared up to)", esc(upload.cutoff or "—")),
            ("Uploaded at", esc(upload.uploaded_at or "—")),
            ("Partition strategy", esc(upload.partition_strategy or "—")),
            ("Source read with", esc(upload.snapshot or "—")),
            ("Files, bytes", f"{number(upload.files)} files, {number(upload.bytes)} bytes"),
        ]
    else:
        items.append(("Upload", '<span class="none">no successful upload recorded</span>'))
    if report.source_cutoff_method:
        method = CUTOFF_METHODS.get(report.source_cutoff_method, report.source_cutoff_method)
        items.append(("Source compared in", esc(method)))
    if report.columns_dropped_by_mapping:
        dropped = ", ".join(f"<code>{esc(c)}</code>" for c in report.columns_dropped_by_mapping)
        items.append(("Not in the lake (mapped to null), not compared", dropped))
    cells = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<dl class="facts">{cells}</dl>'


def _values_line(report: TableReport) -> str:
    values = report.values
    if not values:
        return '<p class="caption">Values: not compared (align has not run for this table).</p>'
    compared = len(report.columns_compared)
    total = compared + len(report.columns_excluded)
    partial = values.get("complete") is False
    at_least = "at least " if partial else ""
    parts = [
        f"{number(values.get('rows_source'))} source rows compared on {compared} of {total} columns",
        f"{number(values.get('matched'))} matched",
        f"{at_least}{number(values.get('missing'))} missing in the lake",
        f"{at_least}{number(values.get('extra'))} only in the lake",
        f"{at_least}{number(values.get('changed'))} changed",
    ]
    if partial:
        unread = values.get("rows_not_read") or {}
        parts.append(
            f"<b>listing incomplete</b>: {number(values.get('groups_read'))} of "
            f"{number(values.get('groups_mismatched'))} differing groups read, "
            f"{number(unread.get('source'))} source and {number(unread.get('target'))} lake "
            "rows of the others not read (neither matched nor counted)"
        )
    precision = dict(report.precision)
    conversions = precision.pop("conversions", None) or {}
    if precision:
        parts.append(
            "precision proven: "
            + ", ".join(f"{esc(k)} {esc(v)}" for k, v in precision.items() if v is not None)
        )
    if conversions:
        parts.append(
            "compared as the lake keeps them: "
            + ", ".join(f"{esc(name)} ({esc(note)})" for name, note in conversions.items())
        )
    return f'<p class="caption">Values: {"; ".join(parts)}.</p>'


def _stat_cells(row: StatRow, side: dict[str, Any]) -> str:
    cells = []
    for name in STATISTICS:
        css = f"st-{name} " + ("txt" if name in TEXT_STATISTICS else "n")
        css += " diff" if name in row.differences else ""
        value = side.get(name)
        shown = number(value) if value is None or isinstance(value, int) else data_value(value)
        cells.append(f'<td class="{css}">{shown}</td>')
    return "".join(cells)


def statistics_table(rows: list[StatRow]) -> str:
    """Two lines per column (source, lake); statistics that differ are highlighted on both."""
    body = []
    for row in rows:
        css = ' class="bad"' if not row.match else ""
        name = esc(row.column)
        if row.target_column and row.target_column != row.column:
            name += f" → {esc(row.target_column)}"
        flag = "" if row.match else ' <span class="badge s-mismatch">differs</span>'
        head = f'<td rowspan="2"><code>{name}</code>{flag}</td><td rowspan="2">{esc(row.type)}</td>'
        body.append(f"<tr{css}>{head}<td>source</td>{_stat_cells(row, row.source)}</tr>")
        body.append(f"<tr{css}><td>lake</td>{_stat_cells(row, row.target)}</tr>")
    headers = ["column", "type", "side", *(s.replace("_", " ") for s in STATISTICS)]
    return table(headers, body, "stats")


def _chart(report: TableReport) -> str:
    if not report.periods:
        return '<p class="caption">No rows per period recorded (no date column, or analyze has not run).</p>'
    legend = (
        '<div class="legend">'
        f'<span><i style="background:{SOURCE_FILL}"></i>source</span>'
        f'<span><i style="background:{LAKE_FILL}"></i>lake</span>'
        f'<span><i style="background:{MISMATCH_FILL}"></i>counts differ</span></div>'
    )
    caption = f'<p class="caption">{esc(report.periods_note)}</p>' if report.periods_note else ""
    return period_chart(report.periods) + legend + caption


def _exclusions(columns: list[Exclusion], periods: list[Exclusion]) -> str:
    if not columns and not periods:
        return '<p class="caption">Nothing excluded.</p>'
    parts = []
    if columns:
        rows = [
            f"<tr><td><code>{esc(c.name)}</code></td><td>{esc(c.reason)}</td><td>{esc(c.detail)}</td></tr>"
            for c in columns
        ]
        parts.append(table(["column", "why excluded", "what localizing found"], rows))
    if periods:
        rows = [
            f"<tr><td><code>{esc(p.name)}</code></td><td class='n'>{number(p.source_rows)}</td>"
            f"<td class='n'>{number(p.target_rows)}</td><td>{esc(p.reason)}</td><td>{esc(p.detail)}</td></tr>"
            for p in periods
        ]
        headers = ["period", "source rows", "lake rows", "why excluded", "what localizing found"]
        parts.append(table(headers, rows))
    return "".join(parts)


def _sample_row(sample: Sample) -> str:
    if sample.kind == "changed" and sample.column is None:  # a key whose rows differ whole
        column = '<span class="none">(whole row)</span>'
        source, target = esc(sample.source or ""), ""
    elif sample.kind == "changed":
        column = f"<code>{esc(sample.column)}</code>"
        source, target = data_value(sample.source), data_value(sample.target)
    else:
        rows = f"{sample.rows} rows" if sample.rows != 1 else "row"
        column = '<span class="none">(whole row)</span>'
        present, absent = f"{rows} present", '<span class="none">absent</span>'
        source, target = (present, absent) if sample.kind == "missing" else (absent, present)
    cells = [
        esc(sample.origin),
        esc(SAMPLE_KINDS.get(sample.kind, sample.kind)),
        esc("(no date)" if sample.period is None else sample.period),
        key_text(sample.key),
        column,
        source,
        target,
    ]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _samples(samples: list[Sample]) -> str:
    if not samples:
        return '<p class="caption">No differences sampled.</p>'
    headers = ["found by", "difference", "period", "key", "column", "source", "lake"]
    return table(headers, [_sample_row(s) for s in samples], "samples")


def _evidence(report: TableReport) -> str:
    stats_note = f'<p class="caption">From {esc(report.statistics_note)}.</p>'
    stats = statistics_table(report.statistics) if report.statistics else ""
    return (
        "<h3>Values</h3>"
        + _values_line(report)
        + f"<h3>Statistics</h3>{stats_note}{stats}"
        + f"<h3>Rows per period</h3>{_chart(report)}"
        + "<h3>Excluded from the value comparison, and why</h3>"
        + _exclusions(report.columns_excluded, report.periods_excluded)
        + f"<h3>Sample differences</h3>{_samples(report.samples)}"
    )


def _has_evidence(report: TableReport) -> bool:
    return bool(report.values or report.statistics or report.periods or report.samples)


def table_section(report: TableReport, anchor: str) -> str:
    """The section of one table, `anchor` its element id; short when no step compared it."""
    name = f"{report.source_table} {report.target_table}".lower()
    reason = ""
    if report.reason and report.reason != "; ".join(report.problems):
        reason = f'<p class="reason">{esc(report.reason)}</p>'
    problems = "".join(f"<li>{esc(p)}</li>" for p in report.problems)
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    quiet = report.status in ("skipped", "disabled") and not _has_evidence(report)
    return (
        f'<section class="tbl s-border-{esc(report.status)}" id="{esc(anchor)}" '
        f'data-status="{esc(report.status)}" data-name="{esc(name)}">'
        f"<header><h2>{esc(report.source_table)} → {esc(report.target_table)}</h2>"
        f'{status_badge(report.status)} {level_chips(report)}<a class="top no-print" href="#top">top</a></header>'
        f"{reason}"
        + (f'<ul class="problems">{problems}</ul>' if problems else "")
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + _facts(report)
        + ("" if quiet else _evidence(report))
        + "</section>"
    )
