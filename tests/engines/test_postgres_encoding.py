"""Row hashes are md5 of the UTF-8 row text, and text extremes are in code point order,
whatever the server encoding of the database.

md5 in PostgreSQL hashes the text's bytes in the server encoding: a UTF8 database hashes as is,
another one converts to UTF-8 first (and only then pays for `convert_to`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from lakeshift.engines.base import Column, ColumnStats, RowPlan, Scope
from lakeshift.engines.postgres import PostgresEngine
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import hash60, join_canonical

POLICY = LogicalType(Kind.DECIMAL, 38, 10)
TEXTS = {1: "café", 2: "Grüße ½", 3: "plain"}
COLUMNS = (
    Column("id", "bigint", LogicalType(Kind.INTEGER)),
    Column("label", "text", LogicalType(Kind.STRING)),
)
PLAN = RowPlan(COLUMNS, tuple(c.logical for c in COLUMNS), key=(0,), buckets=1)


@contextmanager
def _labels_database(
    postgres_url: str, encoding: str, texts: dict[int, str | None]
) -> Iterator[str]:
    """A scratch database in `encoding` whose public.labels holds `texts`; its URL."""
    name = f"lst_enc_{encoding.lower()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            f"CREATE DATABASE {name} ENCODING '{encoding}' TEMPLATE template0"
            " LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("CREATE TABLE public.labels (id bigint PRIMARY KEY, label text)")
            for key, text in texts.items():
                connection.execute("INSERT INTO public.labels VALUES (%s, %s)", (key, text))
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module", params=["UTF8", "LATIN1"])
def database_url(request: pytest.FixtureRequest, postgres_url: str) -> Iterator[str]:
    with _labels_database(postgres_url, request.param, dict(TEXTS)) as url:
        yield url


def _hashes(engine: PostgresEngine) -> dict[str, int]:
    rows = engine.group_rows(Scope("public.labels"), PLAN, [(None, 0)])
    return {row.key: row.row_hash for row in rows}


def test_row_hashes_are_md5_of_utf8_in_every_server_encoding(database_url: str) -> None:
    reference = {str(k): hash60(join_canonical([str(k), t])) for k, t in TEXTS.items()}
    engine = PostgresEngine(database_url, POLICY)
    try:
        latin1 = database_url.split("/")[-1].startswith("lst_enc_latin1")
        assert engine.server_utf8 is not latin1
        assert _hashes(engine) == reference
        if latin1:  # without the conversion, the accented rows hash their LATIN1 bytes
            engine.server_utf8 = True
            wrong = _hashes(engine)
            assert wrong["3"] == reference["3"]
            assert wrong["1"] != reference["1"] and wrong["2"] != reference["2"]
    finally:
        engine.close()


def _label_stats_and_hashes(
    postgres_url: str, encoding: str, texts: list[str | None]
) -> tuple[ColumnStats, dict[str, int]]:
    """The label column's statistics and the row hashes of a database in `encoding`."""
    with _labels_database(postgres_url, encoding, dict(enumerate(texts))) as url:
        engine = PostgresEngine(url, POLICY)
        try:
            [column] = [c for c in engine.columns("public.labels") if c.name == "label"]
            stats = engine.column_stats(Scope("public.labels"), [column], [column.logical])
            return stats["label"], _hashes(engine)
        finally:
            engine.close()


def test_text_extremes_are_in_code_point_order_in_a_win1252_database(postgres_url: str) -> None:
    """WIN1252 stores '€' as 0x80, below 'ÿ' (0xff): ordered by the server's bytes the
    extremes would differ from the lake's, which orders by code point (U+20AC above U+00FF)."""
    label, _ = _label_stats_and_hashes(postgres_url, "WIN1252", ["ÿ", "€", "a|b", None])
    assert (label.min, label.max) == ("a\\|b", "€")
    assert (label.distinct, label.nulls, label.min_length, label.max_length) == (3, 1, 1, 3)


def test_text_lengths_are_in_characters_in_a_sql_ascii_database(postgres_url: str) -> None:
    """SQL_ASCII keeps bytes unchecked and char_length counts them: '€' (3 bytes of UTF-8)
    was 3 long in the source and 1 in the lake, a false alarm on an exact copy."""
    label, hashes = _label_stats_and_hashes(postgres_url, "SQL_ASCII", ["é", "€", "plain", None])
    assert (label.min_length, label.max_length) == (1, 5)
    assert hashes["1"] == hash60(join_canonical(["1", "€"]))
