"""PostgreSQL's bucket checksum is one exact SUM of the row hash (`exact_bigint_sum`).

It must equal the sum the other engines build from two 30-bit halves, also where the total no
longer fits in 64 bits, and every row hash must be the reference `hash60` of the row text.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from lakeshift.engines.base import Column, RowPlan, Scope
from lakeshift.engines.postgres import PostgresEngine
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import hash60, join_canonical

ROWS = 200
POLICY = LogicalType(Kind.DECIMAL, 38, 10)


@pytest.fixture(scope="module")
def table(postgres_url: str) -> Iterator[str]:
    name = f"lst_checksum_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE TABLE public.{name} (id bigint PRIMARY KEY, label text)")
        admin.execute(
            f"INSERT INTO public.{name} SELECT i, 'row ' || i FROM generate_series(1, {ROWS}) i"
        )
        try:
            yield f"public.{name}"
        finally:
            admin.execute(f"DROP TABLE public.{name}")


def test_one_exact_sum_equals_the_two_half_sums_beyond_64_bits(
    postgres_url: str, table: str
) -> None:
    engine = PostgresEngine(postgres_url, POLICY)
    try:
        assert engine.capabilities.exact_bigint_sum
        columns = (
            Column("id", "bigint", LogicalType(Kind.INTEGER)),
            Column("label", "text", LogicalType(Kind.STRING)),
        )
        plan = RowPlan(columns, tuple(c.logical for c in columns), key=(0,), buckets=1)
        scope = Scope(table)
        exact = list(engine.bucket_checksums(scope, plan))
        engine.capabilities = dataclasses.replace(engine.capabilities, exact_bigint_sum=False)
        halves = list(engine.bucket_checksums(scope, plan))
    finally:
        engine.close()
    reference = sum(hash60(join_canonical([str(i), f"row {i}"])) for i in range(1, ROWS + 1))
    assert reference >= 2**64, "the test must cross 64 bits to prove the sum exact"
    assert exact == halves
    [(period, bucket, total)] = exact
    assert (period, bucket) == (None, 0)
    assert (total.count, total.checksum) == (ROWS, reference)
