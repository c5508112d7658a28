"""Small pieces of HTML, every value escaped: text, data values, numbers, status badges.

Data values keep their text as the results hold it (spaces included, shown with `white-space:
pre-wrap`; a value past 200 characters is already cut there, marked `…` and followed by its length
and digest); NULL and the empty string are drawn as distinct badges, so NULL, '' and the text
'NULL' never look alike.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from lakeshift.report.model import STATUS_LABELS


def esc(value: Any) -> str:
    """`value` as HTML text, quotes included, so it is safe in elements and attributes."""
    return escape("" if value is None else str(value), quote=True)


def data_value(value: Any) -> str:
    """A data value as the page shows it: NULL and '' as badges, anything else as its text."""
    if value is None:
        return '<span class="null" title="NULL: no value">NULL</span>'
    if value == "":
        return '<span class="empty" title="the empty string">empty string</span>'
    return f'<code class="v">{esc(value)}</code>'


def number(value: Any) -> str:
    """A count with thousands separators; `—` when it was not recorded."""
    if value is None:
        return '<span class="none">—</span>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return esc(value)


def status_badge(status: str) -> str:
    label = STATUS_LABELS.get(status, status)
    return f'<span class="badge s-{esc(status)}">{esc(label)}</span>'


def key_text(key: dict[str, Any]) -> str:
    """A row's key as `column=value` pairs, each value exact."""
    if not key:
        return '<span class="none">(no key: rows compared as a multiset)</span>'
    return ", ".join(
        f'<span class="k">{esc(name)}</span>={data_value(v)}' for name, v in key.items()
    )


def anchor_id(index: int, name: str) -> str:
    """A stable, unique, ASCII-only element id for a table's section."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"t{index}-{slug}" if slug else f"t{index}"


def table(headers: list[str], rows: list[str], css: str = "") -> str:
    """An HTML table of already-rendered rows (`<tr>...</tr>` strings)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f'<table class="{esc(css)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
