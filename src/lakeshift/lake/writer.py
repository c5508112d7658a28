"""Write one slice's Arrow batches as compressed Parquet files, rotated at a target size."""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from loguru import logger

from lakeshift.lake.storage import LakeStorage

METADATA_COLUMNS = ("_upload_timestamp", "_upload_date", "_upload_batch_id")
METADATA_FIELDS = [
    pa.field("_upload_timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_upload_date", pa.date32(), nullable=False),
    pa.field("_upload_batch_id", pa.string(), nullable=False),
]
_EPOCH = datetime(1970, 1, 1)


def with_metadata(batch: pa.RecordBatch, uploaded_at: datetime, batch_id: str) -> pa.RecordBatch:
    """Append the three upload metadata columns to a batch."""
    moment = uploaded_at.astimezone(UTC) if uploaded_at.tzinfo else uploaded_at
    micros = (moment.replace(tzinfo=None) - _EPOCH) // timedelta(microseconds=1)
    days = (uploaded_at.date() - _EPOCH.date()).days
    text = batch_id.encode()
    buffers = (
        [struct.pack("<q", micros)],
        [struct.pack("<i", days)],
        [struct.pack("<ii", 0, len(text)), text],
    )
    extra = [
        pa.repeat(_one_value(f.type, raw), batch.num_rows)
        for f, raw in zip(METADATA_FIELDS, buffers, strict=True)
    ]
    return pa.RecordBatch.from_arrays(
        [*batch.columns, *extra], schema=pa.schema([*batch.schema, *METADATA_FIELDS])
    )


def _one_value(type_: pa.DataType, raw: list[bytes]) -> pa.Scalar:
    """A scalar built from its little-endian buffers (offsets and data for a string).
    `pa.scalar(python_value)` would do, but pyarrow imports pandas, when installed, before
    converting any Python object: 0.3 s and 40 MB of each upload process for three constants."""
    buffers = [None, *(pa.py_buffer(b) for b in raw)]
    return pa.Array.from_buffers(type_, 1, buffers)[0]


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary encoding: text, binary and dates, which repeat (Parquet
    packs booleans as bits, without a dictionary).

    Numbers and timestamps are mostly distinct: building a dictionary for them until Parquet
    gives up on it cost 1.5 of 3 CPU seconds writing 5M mixed rows, for files 6% larger.
    """
    return [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
        or pa.types.is_date(f.type)
        or f.name in METADATA_COLUMNS
    ]


@dataclass
class SliceWriter:
    """Parquet files for one slice: `{folder}/{batch}-{slice}-{n}.parquet`."""

    storage: LakeStorage
    folder: str
    stem: str
    schema: pa.Schema
    compression: str = "zstd"
    target_bytes: int = 128 * 1024 * 1024
    files: list[str] = field(default_factory=list)
    rows: int = 0
    _writer: Any = None
    _stream: Any = None

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self._writer is None:
            self._open()
        self._writer.write_batch(batch)
        self.rows += batch.num_rows
        if self._stream.tell() >= self.target_bytes:
            self._close_file()

    def _open(self) -> None:
        path = f"{self.folder}/{self.stem}-{len(self.files):05d}.parquet"
        self.storage.fs.create_dir(self.folder, recursive=True)
        self._stream = self.storage.fs.open_output_stream(path)
        self._writer = pq.ParquetWriter(
            self._stream,
            self.schema,
            compression=self.compression,
            write_statistics=True,
            use_dictionary=dictionary_columns(self.schema),
        )
        self.files.append(path)

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._stream.close()
            self._writer = self._stream = None

    def close(self) -> int:
        """Finish the last file; returns the bytes written by the slice."""
        self._close_file()
        return sum(self.storage.file_size(path) for path in self.files)

    def abort(self) -> None:
        """Delete what the slice wrote, the open file included, after a failure: left open, a
        file would be finished when collected (an S3 upload completes then), and the folder
        would hold rows no manifest records. Never raises: the failure says more."""
        try:
            self._close_file()
        except Exception as error:  # a broken stream: the file is deleted below if it exists
            logger.debug("closing {} after a failure: {}", self.files[-1:], error)
        finally:
            self._writer = self._stream = None
        try:
            self.storage.delete_files(self.files)
        except Exception as error:
            logger.warning(
                "could not delete {} after a failure ({}); the slice's next attempt replaces them",
                ", ".join(self.files),
                error,
            )


_DONE = object()


def write_in_background(
    batches: Iterable[pa.RecordBatch], write: Callable[[pa.RecordBatch], None]
) -> None:
    """Read batches on this thread and encode them on another, so the source is never idle.

    At most two batches wait between the threads; an error on either side stops both and is
    raised here.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def consume() -> None:
        while (item := handoff.get()) is not _DONE:
            if not failure:
                try:
                    write(item)
                except BaseException as error:
                    failure.append(error)

    writer = threading.Thread(target=consume, name="parquet-writer", daemon=True)
    writer.start()
    iterator = iter(batches)
    read_to_the_end = False
    try:
        for batch in iterator:
            if failure:
                break
            handoff.put(batch)
        read_to_the_end = True
    finally:
        handoff.put(_DONE)
        writer.join()
        # A source's generator left mid-way is closed here, on the thread that read it, while
        # its connection is still open: closed later by the garbage collector, it rolled back on
        # a connection given back or closed by then (SQLite: "Cannot operate on a closed
        # database").
        close = getattr(iterator, "close", None)
        if close is not None:
            try:
                close()
            except Exception as error:  # never in place of the error that stopped the reading
                if read_to_the_end and not failure:
                    raise
                logger.debug("closing the source after an error failed too: {}", error)
    if failure:
        raise failure[0]
