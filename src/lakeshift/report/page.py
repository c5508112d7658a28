"""The whole page: verdict, the evidence it rests on, an index of tables, then one section each.

Self-contained: the style sheet, the script and the charts are inline and nothing is fetched, so
the file reads the same opened from disk, attached to a ticket or printed.
"""

from __future__ import annotations

from lakeshift.report.assets import SCRIPT, STYLE
from lakeshift.report.markup import anchor_id, esc, number, status_badge, table
from lakeshift.report.model import STATUS_LABELS, ArtifactState, Report, TableReport
from lakeshift.report.section import level_chips, table_section
from lakeshift.report.verdict import Verdict, verdict_of

VERDICT_LINKS = 12  # tables named per group; the index lists them all


def verdict_block(verdict: Verdict, tables: list[TableReport], anchors: list[str]) -> str:
    counts = "".join(
        f"<li><b>{n}</b>{esc(STATUS_LABELS.get(status, status))}</li>"
        for status, n in verdict.counts.items()
    )
    lines = []
    for group in verdict.groups:
        links = ", ".join(
            f'<a href="#{esc(anchors[i])}">{esc(tables[i].source_table)}</a>'
            for i in group.tables[:VERDICT_LINKS]
        )
        if len(group.tables) > VERDICT_LINKS:
            links += f" and {len(group.tables) - VERDICT_LINKS} more"
        why = f" ({esc(group.reason)})" if group.reason else ""
        label = esc(STATUS_LABELS.get(group.status, group.status))
        lines.append(f"<li>{len(group.tables)} {label}{why}: {links}</li>")
    css = "ok" if verdict.signed_off else "no"
    return (
        f'<section class="verdict {css}" id="verdict"><p class="headline">{esc(verdict.headline)}</p>'
        f'<ul class="counts">{counts}</ul>'
        + (f'<ul class="groups">{"".join(lines)}</ul>' if lines else "")
        + "</section>"
    )


ARTIFACT_STATE_CSS = {"read": "s-match", "not run": "s-not_run", "unreadable": "s-error"}


def evidence_block(artifacts: list[ArtifactState]) -> str:
    rows = [
        f"<tr><td>{esc(a.step)}</td><td><code>{esc(a.name)}</code></td>"
        f'<td><span class="badge {ARTIFACT_STATE_CSS.get(a.state, "s-error")}">{esc(a.state)}</span></td>'
        f"<td>{esc(a.detail)}</td></tr>"
        for a in artifacts
    ]
    return "<h3>Evidence: the artifacts this page is built from</h3>" + table(
        ["step", "artifact", "state", "detail"], rows, "evidence"
    )


def _index_row(report: TableReport, anchor: str) -> str:
    name = f"{report.source_table} {report.target_table}".lower()
    summary = "; ".join(report.problems) if report.problems else report.reason
    return (
        f'<tr data-status="{esc(report.status)}" data-name="{esc(name)}">'
        f"<td>{status_badge(report.status)}</td>"
        f'<td><a href="#{esc(anchor)}">{esc(report.source_table)}</a></td>'
        f"<td>{esc(report.target_table)}</td>"
        f'<td class="n">{number(report.source_rows)}</td><td class="n">{number(report.target_rows)}</td>'
        f"<td>{level_chips(report)}</td><td>{esc(summary)}</td></tr>"
    )


def index_block(reports: list[TableReport], anchors: list[str], verdict: Verdict) -> str:
    buttons = [
        f'<button type="button" data-filter="all" aria-pressed="true">all {len(reports)}</button>'
    ]
    buttons += [
        f'<button type="button" data-filter="{esc(status)}" aria-pressed="false">'
        f"{esc(STATUS_LABELS.get(status, status))} {n}</button>"
        for status, n in verdict.counts.items()
    ]
    search = (
        '<input id="name-filter" type="search" placeholder="filter by table name" '
        'aria-label="filter tables by name">'
    )
    rows = [_index_row(r, a) for r, a in zip(reports, anchors, strict=True)]
    headers = [
        "status",
        "source table",
        "lake table",
        "source rows",
        "lake rows",
        "levels",
        "what differs",
    ]
    return (
        "<h3>Tables, worst first</h3>"
        f'<div class="filters" role="group" aria-label="show tables">{"".join(buttons)}{search}</div>'
        + table(headers, rows, "index")
    )


def render_page(report: Report) -> str:
    """The report as one HTML document."""
    verdict = verdict_of(report.tables)
    anchors = [anchor_id(i, r.target_table) for i, r in enumerate(report.tables, 1)]
    where = []
    if report.source:
        where.append(f"source <code>{esc(report.source)}</code>")
    if report.lake:
        where.append(f"lake <code>{esc(report.lake)}</code>")
    if report.generated_at:
        where.append(f"generated {esc(report.generated_at)}")
    sections = "".join(table_section(r, a) for r, a in zip(report.tables, anchors, strict=True))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>lakeshift sign-off report: {esc(verdict.headline)}</title>"
        f"<style>{STYLE}</style></head>"
        '<body><main id="top"><header><h1>lakeshift sign-off report</h1>'
        f'<p class="meta">{" · ".join(where)}</p></header>'
        + verdict_block(verdict, report.tables, anchors)
        + index_block(report.tables, anchors, verdict)
        + evidence_block(report.artifacts)
        + sections
        + "<footer>A table is proven equal only when all four levels pass on the same upload: "
        "schema, counts (in total and per period), statistics (per column) and values (every "
        "row's canonical hash). Excluded columns and periods are not proven; they are the "
        "differences, localized above.</footer>"
        f"</main><script>{SCRIPT}</script></body></html>\n"
    )
