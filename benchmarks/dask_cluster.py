"""Uploads and lake-side checksums on a Dask LocalCluster of 1 and of 2 worker processes.

    python benchmarks/dask_cluster.py --rows 1000000            # PostgreSQL on 127.0.0.1:5432
    python benchmarks/dask_cluster.py --source sqlite --rows 1000000

Generates one table (the same six mixed columns as benchmarks/upload.py, a month per slice),
analyzes it once, then for 1 and 2 workers: uploads it with the dask executor into a fresh lake
(a new LocalCluster of that many single-threaded worker processes, started before the clock), and
computes pass 1 of the lake side (per period and bucket, count and checksum) per Parquet file on
the cluster. It prints seconds, rows/s and the 2-worker speed-up of each, measured in this run,
and checks the two checksum results are equal to each other and to DuckDB on one machine.
Needs the `dask` extra; a machine with fewer than 2 free cores shows no speed-up.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.config import ExecutorSection
from lakeshift.engines.base import RowPlan
from lakeshift.engines.connect import connect_source, open_catalog, open_lake
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.duckdb_cluster import cluster_bucket_checksums
from lakeshift.project import Project, load_project
from lakeshift.steps.analyze import analyze
from lakeshift.steps.pairing import pair_table
from lakeshift.steps.upload import upload

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TABLE = "bench_dask9"
CHUNK = 50_000


def create_postgres(rows: int) -> str:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS public.{TABLE}")
        connection.execute(
            f"CREATE TABLE public.{TABLE} AS SELECT g AS id,"
            " TIMESTAMP '2023-01-01' + (g % 24) * INTERVAL '1 month' + g * INTERVAL '1 second' AS created_at,"
            " (g % 100000)::numeric(12,2) / 100 AS amount, (g % 997)::float8 / 7 AS ratio,"
            " 'label-' || (g % 5000) AS label, g % 2 = 0 AS flag"
            f" FROM generate_series(1, {rows}) g"
        )
        connection.execute(f"ALTER TABLE public.{TABLE} ADD PRIMARY KEY (id)")
    return POSTGRES_URL


def create_sqlite(path: Path, rows: int) -> str:
    connection = sqlite3.connect(path)
    connection.execute(
        f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, created_at TIMESTAMP, amount NUMERIC(12,2),"
        " ratio REAL, label TEXT, flag BOOLEAN)"
    )
    connection.executemany(
        f"INSERT INTO {TABLE} VALUES (?,?,?,?,?,?)",
        (
            (
                g,
                f"20{23 + g % 24 // 12}-{1 + g % 12:02d}-{1 + g % 28:02d} 10:00:00",
                g % 100000 / 100,
                g % 997 / 7,
                f"label-{g % 5000}",
                g % 2,
            )
            for g in range(1, rows + 1)
        ),
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def write_project(url: str, folder: Path) -> Path:
    schema = "main" if url.startswith("sqlite") else "public"
    folder.mkdir(parents=True)
    (folder / "tables.csv").write_text(
        f"source_table,date_column,key_columns\n{schema}.{TABLE},created_at,id\n"
    )
    (folder / ".env").write_text(f"LAKESHIFT_SOURCE_URL={url}\n")
    config = {"chunk_size": CHUNK, "max_memory_mb": 512, "lake": "lake"}
    (folder / "migration_config.cfg").write_text(json.dumps(config))
    (folder / "config_meta.cfg").write_text(
        '[input]\ntable = "tables.csv"\nenv = ".env"\n[output]\nfolder = "output"\n'
    )
    return folder / "config_meta.cfg"


def lake_pass1(project: Project) -> tuple[DuckDBEngine, Any, RowPlan, Any]:
    storage = open_lake(project.migration)
    lake = DuckDBEngine(open_catalog(storage, project.migration))
    source = connect_source(project.source.url, project.migration)
    pair = pair_table(project, project.tables[0], source, lake, {}, datetime.now(UTC), "bench")
    source.close()
    plan = RowPlan(
        tuple(p.lake for p in pair.columns), tuple(p.logical for p in pair.columns), (0,), 256
    )
    entry = lake.catalog.get(project.tables[0].target_table)
    return lake, pair.lake_scope, plan, entry


def run(workers: int, meta: Path) -> dict[str, Any]:
    project = load_project(meta)
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        started = time.perf_counter()
        [outcome] = upload(
            project,
            project.output / ANALYSIS_PICKLE,
            executor=ExecutorSection(kind="dask", scheduler=cluster.scheduler_address),
        )
        uploaded = time.perf_counter() - started
        assert outcome.status == "uploaded", outcome.detail
        lake, scope, plan, entry = lake_pass1(project)
        started = time.perf_counter()
        groups = cluster_bucket_checksums(client, project.migration, entry, scope, plan)
        checked = time.perf_counter() - started
    started = time.perf_counter()
    single = {(p, b): sums for p, b, sums in lake.bucket_checksums(scope, plan)}
    single_seconds = time.perf_counter() - started
    assert groups == single, "the cluster's pass 1 differs from DuckDB's"
    rows = sum(g.count for g in groups.values())
    return {
        "upload": uploaded,
        "checksum": checked,
        "duckdb": single_seconds,
        "rows": rows,
        "files": len(list((meta.parent / "lake").rglob("*.parquet"))),
        "groups": groups,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        url = (
            create_sqlite(base / "bench.db", args.rows)
            if args.source == "sqlite"
            else create_postgres(args.rows)
        )
        results = {}
        for workers in (1, 2):
            meta = write_project(url, base / f"w{workers}")
            analyze(load_project(meta))
            results[workers] = run(workers, meta)
            assert results[workers]["rows"] == args.rows
    assert results[1]["groups"] == results[2]["groups"]
    print(f"\n{args.rows:,} rows from {args.source}, {results[2]['files']} Parquet files")
    print(f"{'work':<28} {'1 worker s':>11} {'2 workers s':>12} {'speed-up':>9}")
    for name, label in (("upload", "upload (dask executor)"), ("checksum", "lake pass 1 per file")):
        one, two = results[1][name], results[2][name]
        print(f"{label:<28} {one:>11.2f} {two:>12.2f} {one / two:>8.2f}x")
    print(
        f"{'lake pass 1, DuckDB alone':<28} {results[2]['duckdb']:>11.2f}"
        f"   (2 threads in one process, for reference)"
    )
    print(
        f"upload rows/s: {args.rows / results[1]['upload']:,.0f} (1 worker),"
        f" {args.rows / results[2]['upload']:,.0f} (2 workers); checksums equal: yes"
    )
    if args.source == "postgres":
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS public.{TABLE}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
