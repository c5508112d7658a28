"""Rows per batch within `max_memory_mb`: the batch size adapts to the width of the rows.

The budget is shared by every worker, and each worker holds up to `IN_FLIGHT` batches at once
(the driver's fetch, the queue to the writer, the writer's buffer). A batch in the driver's own
representation (Python objects, wire buffers) takes several times its Arrow size: `AMPLIFICATION`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lakeshift.engines.base import Column
from lakeshift.types import Kind

IN_FLIGHT = 3
AMPLIFICATION = 4
BATCH_SHARE = 0.5  # of the budget; the rest is the interpreter, libraries and the Parquet writer
MIN_ROWS = 1  # the budget wins even for rows of many megabytes
_ESTIMATED_BYTES = {Kind.STRING: 64, Kind.BINARY: 64, Kind.DECIMAL: 16, Kind.BOOLEAN: 1}


def estimated_row_bytes(columns: Sequence[Column]) -> int:
    """A first guess from the types, before any row was measured."""
    return sum(_ESTIMATED_BYTES.get(c.logical.kind, 8) + 1 for c in columns) or 1


@dataclass
class BatchBudget:
    max_memory_mb: int
    workers: int
    chunk_size: int
    widths: dict[str, float] = field(default_factory=dict)  # measured bytes per row, per table

    def rows_per_batch(
        self, table: str, columns: Sequence[Column], unbounded_bytes: int | None = None
    ) -> int:
        """Rows a batch may hold: by the widest rows measured, else by the types' estimate plus
        `unbounded_bytes`, the most a row of this slice holds in its LOBs (measured at the source
        before the first batch: a first batch sized by the estimate could be gigabytes)."""
        width = self.widths.get(table) or estimated_row_bytes(columns)
        if unbounded_bytes:
            width = max(width, estimated_row_bytes(columns) + unbounded_bytes)
        budget = self.max_memory_mb * 1024 * 1024 * BATCH_SHARE / (self.workers * IN_FLIGHT)
        return max(MIN_ROWS, min(self.chunk_size, int(budget / (width * AMPLIFICATION))))

    def observe(self, table: str, arrow_bytes: int, rows: int) -> None:
        """Remember the widest rows seen, so later batches of the table stay in budget."""
        if rows:
            self.widths[table] = max(self.widths.get(table, 0.0), arrow_bytes / rows)
