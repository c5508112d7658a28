"""Rows per batch within the memory budget, LOBs measured before the first batch."""

from __future__ import annotations

from lakeshift.engines.base import Column
from lakeshift.steps.budget import AMPLIFICATION, BATCH_SHARE, IN_FLIGHT, BatchBudget
from lakeshift.types import Kind, LogicalType

COLUMNS = [
    Column("ID", "NUMBER(10,0)", LogicalType(Kind.INTEGER)),
    Column("DOC", "CLOB", LogicalType(Kind.STRING)),
]


def test_a_slice_whose_lobs_were_measured_gets_batches_within_the_budget() -> None:
    """Sized by the types' estimate (64 bytes a text), 50,000 rows of 200 KB CLOBs made a
    first batch of about 10 GB before any batch was measured."""
    budget = BatchBudget(max_memory_mb=512, workers=1, chunk_size=50_000)
    assert budget.rows_per_batch("docs", COLUMNS) == 50_000  # the estimate alone
    rows = budget.rows_per_batch("docs", COLUMNS, unbounded_bytes=200_000)
    share = 512 * 1024 * 1024 * BATCH_SHARE / IN_FLIGHT
    assert rows >= 1 and rows * 200_000 * AMPLIFICATION <= share
    assert rows > share / (200_100 * AMPLIFICATION) - 2  # not needlessly small
    assert budget.rows_per_batch("docs", COLUMNS, unbounded_bytes=2 * 1024**3) == 1


def test_measured_rows_wider_than_the_lobs_still_win() -> None:
    budget = BatchBudget(max_memory_mb=512, workers=1, chunk_size=50_000)
    budget.observe("docs", arrow_bytes=10 * 1024 * 1024, rows=10)  # 1 MB rows seen before
    assert budget.rows_per_batch("docs", COLUMNS, unbounded_bytes=1_000) == budget.rows_per_batch(
        "docs", COLUMNS
    )
