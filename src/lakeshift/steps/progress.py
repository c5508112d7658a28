"""Progress for long work: bars on a terminal (tables of a step, rows of a table); without one,
a log line every `LOG_EVERY_SECONDS` of a table's rows (see `lakeshift.logs`)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from lakeshift.logs import ROWS, progress_logger

T = TypeVar("T")
console = Console(stderr=True)
# Time-based: a table done in less shows no line, a slice of an hour about 120.
LOG_EVERY_SECONDS = 30.0


def _enabled() -> bool:
    return sys.stderr.isatty()


def progress_over(items: list[T], step: str, label: Callable[[T], str]) -> Iterator[T]:
    """Yield items with a bar showing which one is being worked on."""
    if not _enabled():
        yield from items
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(step, total=len(items))
        for item in items:
            progress.update(task, description=f"{step} {label(item)}")
            yield item
            progress.advance(task)


def _duration(seconds: float) -> str:
    """`_duration(3725)` is '1h02m', `_duration(65)` '1m05s', `_duration(7)` '7s'."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class RowProgress:
    """Rows of one table: rows/s, bytes read so far and an ETA when the total is known.

    Bytes are those of the Arrow batches read (uncompressed), or for a slice that ran on a
    cluster the Parquet bytes it wrote. `done` rows were written before (finished slices).
    Every `every` seconds (`LOG_EVERY_SECONDS`) of the `clock` a line logs the rows so far, the
    rate of this run and, when `total` is known, the share done and the time left; on a
    terminal it goes only to the log file. `advance` may be called from several threads (slices
    written at once)."""

    def __init__(
        self,
        label: str,
        total: int | None,
        done: int = 0,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._label, self._total, self._done = label, total, done
        self._every = LOG_EVERY_SECONDS if every is None else every
        self._clock = clock
        self._lock = threading.Lock()
        self._started = self._last_line = clock()
        self._rows = 0  # written by this run
        self._progress: Progress | None = None
        if _enabled():
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TextColumn("{task.fields[size]}"),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task(
                label, total=total, completed=done, rate="-", size=""
            )
            self._bytes = 0
            self._progress.start()

    def advance(self, rows: int, rate: float, size: int = 0) -> None:
        with self._lock:
            self._rows += rows
            now = self._clock()
            due = now - self._last_line >= self._every
            if due:
                self._last_line = now
            written = self._rows
        if due:
            self._log(written, now - self._started)
        if self._progress is not None:
            self._bytes += size
            self._progress.update(
                self._task, advance=rows, rate=f"{rate:,.0f}", size=f"{self._bytes / 2**20:,.0f} MB"
            )

    def _log(self, written: int, seconds: float) -> None:
        rows = self._done + written
        rate = written / seconds if seconds > 0 else 0.0
        so_far = f"{rows:,} rows"
        if self._total:
            so_far = f"{rows:,} of about {self._total:,} rows ({100 * rows / self._total:.0f}%)"
        line = f"{self._label}: {so_far}, {rate:,.0f} rows/s"
        if self._total and rate and rows < self._total:
            line += f", about {_duration((self._total - rows) / rate)} left"
        progress_logger(ROWS).info("{}", line)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __enter__(self) -> RowProgress:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
