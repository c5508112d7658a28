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


def _pass_1_sql(engine: PostgresEngine, table: str, plan: RowPlan) -> str:
    asked: list[str] = []
    engine.ask_stream = lambda scope, sql: iter(asked.append(sql) or ())  # type: ignore[method-assign]
    list(engine.bucket_checksums(Scope(table), plan))
    return asked[0]


def test_pass_1_hashes_rows_where_it_reads_them_and_groups_in_a_hash_table(
    postgres_url: str,
) -> None:
    """The fence column keeps the per-row subquery unmerged: the plan aggregates in a hash table
    (no sort of whole rows), and the groups are those of the plan without the fence."""
    name = f"public.lst_fence_{uuid.uuid4().hex[:10]}"
    columns = (
        Column("id", "bigint", LogicalType(Kind.INTEGER)),
        Column("label", "text", LogicalType(Kind.STRING)),
    )
    plan = RowPlan(columns, tuple(c.logical for c in columns), key=(0,), buckets=1024)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE TABLE {name} (id bigint PRIMARY KEY, label text)")
        admin.execute(f"INSERT INTO {name} SELECT i, 'row ' || i FROM generate_series(1, 100000) i")
        admin.execute(f"ANALYZE {name}")
        engine = PostgresEngine(postgres_url, POLICY)
        try:
            assert "clock_timestamp()" in engine.row_fence
            fenced = list(engine.bucket_checksums(Scope(name), plan))
            engine.row_fence = ""
            unfenced = list(engine.bucket_checksums(Scope(name), plan))
            del engine.row_fence  # the class's fence again
            sql = _pass_1_sql(engine, name, plan)
            explained = "\n".join(row[0] for row in admin.execute(f"EXPLAIN {sql}").fetchall())
        finally:
            engine.close()
            admin.execute(f"DROP TABLE {name}")
    assert "HashAggregate" in explained, explained
    assert len(fenced) == 1024 and fenced == unfenced


def test_servers_whose_hash_aggregates_cannot_spill_keep_the_sorted_plan(
    postgres_url: str, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("lakeshift.engines.postgres.HASH_AGGREGATE_SPILLS", 10**9)
    engine = PostgresEngine(postgres_url, POLICY)
    try:
        columns = (Column("id", "bigint", LogicalType(Kind.INTEGER)),)
        sql = _pass_1_sql(engine, table, RowPlan(columns, (columns[0].logical,), key=(0,)))
    finally:
        engine.close()
    assert engine.row_fence == "" and "clock_timestamp" not in sql
