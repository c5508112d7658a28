"""Progress bars for long work: tables of a step, rows of a table."""

from __future__ import annotations

import sys
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

T = TypeVar("T")
console = Console(stderr=True)


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


class RowProgress:
    """Rows of one table: rows/s, bytes read so far and an ETA when the total is known.

    Bytes are those of the Arrow batches read (uncompressed), or for a slice that ran on a
    cluster the Parquet bytes it wrote."""

    def __init__(self, label: str, total: int | None):
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
            self._task = self._progress.add_task(label, total=total, rate="-", size="")
            self._bytes = 0
            self._progress.start()

    def advance(self, rows: int, rate: float, size: int = 0) -> None:
        if self._progress is not None:
            self._bytes += size
            self._progress.update(
                self._task, advance=rows, rate=f"{rate:,.0f}", size=f"{self._bytes / 2**20:,.0f} MB"
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __enter__(self) -> RowProgress:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()
