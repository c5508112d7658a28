"""One slice's upload work as a self-contained task: stream it from the source into Parquet files.

A `SliceTask` holds everything a worker needs (what to read, where and how to write) and nothing
that is state of the upload run, so it runs the same on a thread of the client or on a Dask worker
in another process or machine. `write_slice` writes the files and returns the slice's record; it
never touches the manifest or the catalog: the client records the slice and registers its
partition once the task is done, so the client stays the single source of truth.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from loguru import logger

from lakeshift.engines.base import Column, Scope, SourceEngine
from lakeshift.errors import ConversionError
from lakeshift.lake.manifest import SliceRecord
from lakeshift.lake.storage import LakeStorage
from lakeshift.lake.writer import SliceWriter, with_metadata, write_in_background
from lakeshift.steps.budget import BatchBudget

_FILE_NAME = re.compile(r"-(?P<slice>\d{5})-\d{5}\.parquet$")


@dataclass(frozen=True)
class SliceTask:
    """What one slice's upload reads and writes; picklable, holds no connection and no secret."""

    target_table: str
    slice_id: str
    index: int  # the slice's position in the table's plan: `{batch}-{index}-{n}.parquet`
    partition: str
    scope: Scope
    columns: tuple[Column, ...]  # source columns, in file order
    names: tuple[str, ...]  # their lake names
    schema: pa.Schema  # lake columns and the upload metadata columns
    folder: str  # where the files go, chosen by the client
    owns_folder: bool  # no other slice of the table writes into `folder`
    batch_id: str
    uploaded_at: datetime
    compression: str
    target_bytes: int
    snapshot: str | None = None  # a source snapshot workers can read at (Oracle SCN), if any

    @property
    def stem(self) -> str:
        return f"{self.batch_id}-{self.index:05d}"


def leftovers(task: SliceTask, files: list[str]) -> list[str]:
    """Files an unfinished earlier attempt of this slice left in its folder.

    A folder only this slice writes is emptied whatever batch wrote it (the plan, and so the
    slice's index, may have changed since). In a folder several slices share, only files named
    with this slice's index are its own; the other slices' files stay.
    """
    if task.owns_folder:
        return files
    return [
        path
        for path in files
        if (match := _FILE_NAME.search(path)) and int(match["slice"]) == task.index
    ]


def write_slice(
    task: SliceTask,
    storage: LakeStorage,
    source: SourceEngine,
    budget: BatchBudget,
    on_batch: Callable[[int, float, int], None] | None = None,
) -> SliceRecord:
    """Replace the slice's leftovers, stream its rows into Parquet files, return its record.

    `on_batch(rows, rows_per_second, arrow_bytes)` is called with no rows before anything is
    deleted, after each batch is written, and with no rows again before the last file is closed
    (progress bars; an error it raises stops the slice: a slice told to stop before it starts
    touches no file). A slice that fails deletes the files it wrote.
    """
    if on_batch is not None:
        on_batch(0, 0.0, 0)
    storage.delete_files(leftovers(task, storage.list_files(task.folder)))
    writer = SliceWriter(
        storage,
        task.folder,
        task.stem,
        task.schema,
        compression=task.compression,
        target_bytes=task.target_bytes,
    )
    started = time.perf_counter()
    unbounded = source.widest_unbounded_bytes(task.scope, task.columns)
    batch_rows = budget.rows_per_batch(task.target_table, task.columns, unbounded)

    def write(batch: pa.RecordBatch) -> None:
        budget.observe(task.target_table, batch.nbytes, batch.num_rows)
        renamed = pa.RecordBatch.from_arrays(batch.columns, names=list(task.names))
        writer.write(with_metadata(renamed, task.uploaded_at, task.batch_id))
        if on_batch is not None:
            rate = writer.rows / max(time.perf_counter() - started, 1e-9)
            on_batch(batch.num_rows, rate, batch.nbytes)

    try:
        write_in_background(source.stream(task.scope, task.columns, batch_rows), write)
        if on_batch is not None:  # a last call, with no rows: told to stop, the slice fails here
            on_batch(0, writer.rows / max(time.perf_counter() - started, 1e-9), 0)
        size = writer.close()
    except ConversionError as error:  # named with its slice too: which month of many, say
        writer.abort()
        if not task.slice_id or "(slice " in error.reason:
            raise
        raise ConversionError(
            error.table, error.column, f"{error.reason} (slice {task.slice_id})"
        ) from None
    except BaseException:
        writer.abort()
        raise
    seconds = time.perf_counter() - started
    logger.info(
        "{} {}: {} rows, {} bytes, {:.2f}s ({} rows per batch)",
        task.target_table,
        task.slice_id or "all",
        writer.rows,
        size,
        seconds,
        batch_rows,
    )
    return SliceRecord(
        slice_id=task.slice_id,
        partition=task.partition,
        batch_id=task.batch_id,
        files=[path.removeprefix(storage.root + "/") for path in writer.files],
        rows=writer.rows,
        bytes=size,
        seconds=round(seconds, 3),
        uploaded_at=task.uploaded_at.isoformat(),
    )
