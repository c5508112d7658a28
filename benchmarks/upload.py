"""Upload benchmark: lakeshift against the approach users had, measured side by side in one run.

    python benchmarks/upload.py --source sqlite --rows 1000000
    python benchmarks/upload.py --source postgres --rows 5000000

Each contender runs in its own process (so peak RSS is its own) on the same generated table of
mixed types and writes Parquet into its own folder:

- lakeshift: `lakeshift.steps.upload.upload`, partition strategy `none`, one worker;
- pandas: `pandas.read_sql(..., chunksize=chunk_size)` then one Parquet file per chunk (the
  users' original scripts);
- dlt: dlt's `sql_database` source with its pyarrow backend, loaded as Parquet into a
  filesystem destination (dlt adds its own `_dlt_load_id`/`_dlt_id` columns and state files);
- adbc floor (PostgreSQL only): a bare ADBC fetch of Arrow batches into one ParquetWriter, no
  conversion checks, no bookkeeping.

It prints rows/s and peak RSS of each, and the ratios against pandas, dlt and the floor.

    python benchmarks/upload.py --source postgres --memory 1000000,10000000

measures lakeshift's peak RSS alone at each size, beside the interpreter's baseline (a child that
imports the same modules and uploads nothing) and the `max_memory_mb` budget, to show the peak
does not grow with the table. Needs the `bench` extra (pandas, dlt) and, for PostgreSQL, the
service on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peak import peak_rss_mb, print_peaks  # this script's folder is on sys.path

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TABLE = "bench_upload"
CHUNK = 50_000
COLUMNS = "id, created_at, amount, ratio, label, flag"
BUDGET_MB = 512


def create_sqlite(path: Path, rows: int) -> str:
    connection = sqlite3.connect(path)
    connection.executescript(
        f"""
        DROP TABLE IF EXISTS {TABLE};
        CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, created_at TIMESTAMP, amount NUMERIC(12,2),
                              ratio REAL, label TEXT, flag BOOLEAN);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
        INSERT INTO {TABLE}
        SELECT i, strftime('%Y-%m-%d %H:%M:%S', 1600000000 + i * 37, 'unixepoch')
                  || printf('.%06d', i % 1000000),
               round((i % 100000) / 7.0, 2), i / 3.0, 'label-' || (i % 997), i % 2
        FROM n;
        """
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def create_postgres(rows: int, table: str = TABLE) -> str:
    """The mixed-type benchmark table in the PostgreSQL service; returns its URL."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, created_at timestamp, amount numeric(12,2),"
            " ratio double precision, label text, flag boolean)"
        )
        connection.execute(
            f"INSERT INTO {table} SELECT i, timestamp '2020-09-13' + i * interval '37 seconds',"
            " round(((i % 100000) / 7.0)::numeric, 2), i / 3.0, 'label-' || (i % 997), i % 2 = 0"
            f" FROM generate_series(1, {rows}) AS i"
        )
    return POSTGRES_URL


def write_project(url: str, folder: Path, chunk_size: int = CHUNK) -> Path:
    """A lakeshift project over the benchmark table in `folder`; returns config_meta.cfg."""
    schema = "main" if url.startswith("sqlite") else "public"
    (folder / "tables.csv").write_text(f"source_table,key_columns\n{schema}.{TABLE},id\n")
    (folder / ".env").write_text(f"LAKESHIFT_SOURCE_URL={url}\n")
    config = {"chunk_size": chunk_size, "max_memory_mb": BUDGET_MB, "lake": "lake"}
    (folder / "migration_config.cfg").write_text(json.dumps(config))
    (folder / "config_meta.cfg").write_text(
        '[input]\ntable = "tables.csv"\nenv = ".env"\n[output]\nfolder = "output"\n'
    )
    return folder / "config_meta.cfg"


def upload_with_lakeshift(meta: Path) -> None:
    """analyze, then upload the whole table as one slice."""
    from lakeshift.artifacts import ANALYSIS_PICKLE
    from lakeshift.logs import configure_console
    from lakeshift.project import load_project
    from lakeshift.steps.analyze import analyze
    from lakeshift.steps.slicing import PartitionStrategy
    from lakeshift.steps.upload import upload

    configure_console(0)
    project = load_project(meta)
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.NONE)
    assert outcome.status == "uploaded", outcome.detail


def run_lakeshift(url: str, out: Path) -> int:
    upload_with_lakeshift(write_project(url, out))
    return sum(_rows(p) for p in (out / "lake").rglob("*.parquet"))


def run_pandas(url: str, out: Path) -> int:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split(":///", 1)[1])
    else:
        import psycopg

        connection = psycopg.connect(url)
    rows = 0
    query = f"SELECT {COLUMNS} FROM {TABLE}"
    for index, frame in enumerate(pd.read_sql(query, connection, chunksize=CHUNK)):  # type: ignore[call-overload]
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), out / f"part-{index:05d}.parquet"
        )
        rows += len(frame)
    return rows


def run_dlt(url: str, out: Path) -> int:
    import os

    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt
    from dlt.sources.sql_database import sql_database

    engine_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    source = sql_database(engine_url, table_names=[TABLE], backend="pyarrow", chunk_size=CHUNK)
    pipeline = dlt.pipeline(
        pipeline_name="bench_upload",
        pipelines_dir=str(out / "pipelines"),
        destination=dlt.destinations.filesystem(bucket_url=str(out / "lake")),
        dataset_name="bench",
    )
    pipeline.run(source, loader_file_format="parquet")
    return sum(_rows(p) for p in (out / "lake" / "bench" / TABLE).rglob("*.parquet"))


def run_baseline(url: str, out: Path) -> int:
    """The interpreter with lakeshift's modules imported and a source connection: no upload."""
    from lakeshift.engines.connect import connect_source
    from lakeshift.project import load_project
    from lakeshift.steps import analyze, upload  # noqa: F401  (imported for their footprint)

    project = load_project(write_project(url, out))
    connect_source(project.source.url, project.migration).close()
    return 0


def run_adbc_floor(url: str, out: Path) -> int:
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow.parquet as pq

    rows = 0
    with adbc.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM {TABLE}")
        reader = cursor.fetch_record_batch()
        with pq.ParquetWriter(out / "floor.parquet", reader.schema, compression="zstd") as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.read_metadata(path).num_rows)


CONTENDERS = {
    "lakeshift": run_lakeshift,
    "pandas": run_pandas,
    "dlt": run_dlt,
    "adbc-floor": run_adbc_floor,
    "baseline": run_baseline,
}


def measure(name: str, url: str) -> dict[str, float]:
    """Run one contender in a child process; returns rows, seconds and peak RSS in MB."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, __file__, "--child", name, "--url", url, "--out", folder]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return {"rows": report["rows"], "seconds": seconds, "peak_mb": report["peak_mb"]}


def child(name: str, url: str, out: Path) -> None:
    rows = CONTENDERS[name](url, out)
    peak_kb = peak_rss_mb() * 1024
    print(json.dumps({"rows": rows, "peak_mb": peak_kb / 1024}))


def create_table(source: str, folder: Path, rows: int) -> str:
    if source == "sqlite":
        return create_sqlite(folder / "bench.db", rows)
    return create_postgres(rows)


def memory_scaling(source: str, sizes: list[int]) -> None:
    """lakeshift's peak RSS at each table size, beside the interpreter baseline and the budget."""
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            url = create_table(source, Path(folder), rows)
            results[rows] = measure("lakeshift", url)
            assert results[rows]["rows"] == rows, f"lakeshift wrote {results[rows]['rows']} rows"
        baseline = measure("baseline", url)
    print_peaks(
        f"lakeshift upload peak memory from {source}, max_memory_mb {BUDGET_MB}",
        "interpreter, imports, one connection",
        baseline["peak_mb"],
        results,
        BUDGET_MB,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--memory", help="comma-separated table sizes: lakeshift's peak RSS at each, no peers"
    )
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.out)
        return
    if args.memory:
        memory_scaling(args.source, [int(n) for n in args.memory.split(",")])
        return
    with tempfile.TemporaryDirectory() as folder:
        url = create_table(args.source, Path(folder), args.rows)
        names = ["lakeshift", "pandas", "dlt"]
        names += ["adbc-floor"] if args.source == "postgres" else []
        results = {name: measure(name, url) for name in names}
    print(f"\nupload of {args.rows:,} rows from {args.source}, chunk {CHUNK:,}")
    print(f"{'contender':<12} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak MB':>9}")
    for name, r in results.items():
        assert r["rows"] == args.rows, f"{name} wrote {r['rows']} rows"
        print(
            f"{name:<12} {r['rows']:>12,.0f} {r['seconds']:>9.2f} {r['rows'] / r['seconds']:>12,.0f} {r['peak_mb']:>9.0f}"
        )
    ours = results["lakeshift"]
    for name, r in results.items():
        if name not in ("lakeshift", "baseline"):
            speed = (ours["rows"] / ours["seconds"]) / (r["rows"] / r["seconds"])
            print(
                f"lakeshift vs {name}: {speed:.2f}x rows/s, {ours['peak_mb'] / r['peak_mb']:.2f}x peak memory"
            )


if __name__ == "__main__":
    main()
