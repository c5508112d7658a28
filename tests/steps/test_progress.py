"""The per-table progress bar shows rows, rows/s, bytes and an ETA; without a terminal, a log line
every 30 seconds of a table's upload says as much."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from loguru import logger
from rich.console import Console

from lakeshift.logs import ROWS
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


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The rows lines logged, whatever the console shows."""
    monkeypatch.setattr(progress_module, "_enabled", lambda: False)
    logged: list[str] = []
    sink = logger.add(
        lambda message: logged.append(message.record["message"]),
        filter=lambda record: record["extra"].get("progress") == ROWS,
    )
    yield logged
    logger.remove(sink)


def _slice(lines: list[str], seconds_per_batch: float, total: int | None = 10_000) -> list[str]:
    """Ten batches of 1,000 rows, each taking `seconds_per_batch`, as `write_slice` reports them."""
    clock = _Clock()
    with RowProgress("upload events", total, every=30, clock=clock) as rows:
        rows.advance(0, 0.0)
        for _ in range(10):
            clock.now += seconds_per_batch
            rows.advance(1_000, 1.0, 10)
    return lines


def test_a_long_slice_logs_its_rows_rate_share_and_time_left_every_30_seconds(
    lines: list[str],
) -> None:
    assert _slice(lines, 10.0) == [
        "upload events: 3,000 of about 10,000 rows (30%), 100 rows/s, about 1m10s left",
        "upload events: 6,000 of about 10,000 rows (60%), 100 rows/s, about 40s left",
        "upload events: 9,000 of about 10,000 rows (90%), 100 rows/s, about 10s left",
    ]


def test_a_short_slice_logs_no_rows_line(lines: list[str]) -> None:
    assert _slice(lines, 1.0) == []


def test_without_a_total_the_line_says_rows_and_rate_only(lines: list[str]) -> None:
    assert _slice(lines, 20.0, total=None)[0] == "upload events: 2,000 rows, 50 rows/s"


def test_rows_finished_before_count_in_the_total_but_not_in_the_rate(lines: list[str]) -> None:
    clock = _Clock()
    with RowProgress("upload events", 10_000, done=4_000, every=30, clock=clock) as rows:
        clock.now += 30
        rows.advance(3_000, 100.0)
    assert lines == ["upload events: 7,000 of about 10,000 rows (70%), 100 rows/s, about 30s left"]
