"""Extraction benchmark: lakeshift's Arrow stream against pandas.read_sql chunks, one run.

    python benchmarks/extract.py --source postgres --rows 2000000
    python benchmarks/extract.py --source mariadb --rows 2000000

The same generated table of mixed types (bigint, timestamp, numeric(12,2), double, text,
boolean) is read to the end by each contender, in its own process so that peak RSS is its own:

- lakeshift: the source engine's `stream` (Arrow batches, exact types), batches of 50,000 rows;
- pandas: `pandas.read_sql(..., chunksize=50_000)`, the approach the users' scripts had.

Nothing is written: this measures reading and converting only. Prints rows/s and peak RSS of
each and the ratios. Needs the `bench` extra (pandas) and the service on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from peak import peak_rss_mb
from upload import create_postgres

TABLE = "bench_extract"
CHUNK = 50_000
COLUMNS = "id, created_at, amount, ratio, label, flag"
URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql://root@127.0.0.1:3306/test",
}


def create(source: str, rows: int) -> None:
    if source == "postgres":
        create_postgres(rows, TABLE)
        return
    import pymysql

    connection = pymysql.connect(
        host="127.0.0.1", port=3306, user="root", database="test", autocommit=True
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (id BIGINT PRIMARY KEY, created_at DATETIME(6), amount DECIMAL(12,2),"
            " ratio DOUBLE, label VARCHAR(40), flag TINYINT(1))"
        )
        cursor.execute(
            f"INSERT INTO {TABLE} SELECT seq, TIMESTAMP '2020-09-13 00:00:00' + INTERVAL seq * 37 SECOND,"
            " ROUND((seq % 100000) / 7.0, 2), seq / 3.0, CONCAT('label-', seq % 997), seq % 2"
            f" FROM seq_1_to_{rows}"
        )
    connection.close()


def run_lakeshift(source: str) -> int:
    from lakeshift.config import MigrationConfig
    from lakeshift.engines.base import Scope
    from lakeshift.engines.connect import connect_source

    schema = "public" if source == "postgres" else "test"
    engine = connect_source(URLS[source], MigrationConfig(lake=None, aws={"s3_bucket": "unused"}))
    table = f"{schema}.{TABLE}"
    rows = 0
    for batch in engine.stream(Scope(table), engine.columns(table), CHUNK):
        rows += batch.num_rows
    engine.close()
    return rows


def run_pandas(source: str) -> int:
    import pandas as pd

    if source == "postgres":
        import psycopg

        connection = psycopg.connect(URLS[source])
    else:
        import pymysql

        connection = pymysql.connect(host="127.0.0.1", port=3306, user="root", database="test")
    rows = 0
    for frame in pd.read_sql(f"SELECT {COLUMNS} FROM {TABLE}", connection, chunksize=CHUNK):  # type: ignore[call-overload]
        rows += len(frame)
    connection.close()
    return rows


CONTENDERS = {"lakeshift": run_lakeshift, "pandas": run_pandas}


def measure(name: str, source: str) -> dict[str, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", name, "--source", source],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=sorted(URLS), default="postgres")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        started = time.perf_counter()  # after this script's imports, before the contender's
        rows = CONTENDERS[args.child](args.source)
        reading = time.perf_counter() - started
        peak = peak_rss_mb()
        print(json.dumps({"rows": rows, "peak_mb": peak, "reading": reading}))
        return
    create(args.source, args.rows)
    results = {name: measure(name, args.source) for name in CONTENDERS}
    print(f"\nextraction of {args.rows:,} rows from {args.source}, chunks of {CHUNK:,}")
    print(f"{'contender':<12} {'process s':>10} {'reading s':>10} {'rows/s':>12} {'peak MB':>9}")
    for name, r in results.items():
        assert r["rows"] == args.rows, f"{name} read {r['rows']} rows"
        print(
            f"{name:<12} {r['seconds']:>10.2f} {r['reading']:>10.2f} "
            f"{r['rows'] / r['reading']:>12,.0f} {r['peak_mb']:>9.0f}"
        )
    ours, theirs = results["lakeshift"], results["pandas"]
    print(
        f"lakeshift vs pandas: {theirs['reading'] / ours['reading']:.2f}x rows/s reading "
        f"({theirs['seconds'] / ours['seconds']:.2f}x counting process start and imports), "
        f"{ours['peak_mb'] / theirs['peak_mb']:.2f}x peak memory"
    )


if __name__ == "__main__":
    main()
