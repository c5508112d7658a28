"""The per-table progress bar shows rows, rows/s, bytes and an ETA."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from lakeshift.steps import progress as progress_module
from lakeshift.steps.progress import RowProgress


def test_the_row_bar_shows_rows_rate_and_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(progress_module, "_enabled", lambda: True)
    monkeypatch.setattr(
        progress_module, "console", Console(file=screen, force_terminal=True, width=160)
    )
    with RowProgress("upload events", 1_000_000) as bar:
        bar.advance(250_000, 125_000.0, 3 * 2**20)
        bar.advance(250_000, 125_000.0, 2 * 2**20)
        assert bar._progress is not None
        bar._progress.refresh()
    text = screen.getvalue()
    assert "500000/1000000" in text
    assert "125,000 rows/s" in text
    assert "5 MB" in text


def test_without_a_terminal_there_is_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "_enabled", lambda: False)
    with RowProgress("upload events", 10) as bar:
        bar.advance(5, 1.0, 10)
        assert bar._progress is None
