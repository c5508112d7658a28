"""Verification benchmark: lakeshift's value-level proof against the floor and two peers.

    python benchmarks/verify.py --source postgres              # 5,000,000 rows, as issue 6 asks
    python benchmarks/verify.py --source sqlite --rows 1000000
    python benchmarks/verify.py --source postgres --memory 1000000,5000000
    python benchmarks/verify.py --source postgres --repeat 3     # medians of 3 interleaved runs
    python benchmarks/verify.py --source postgres --rows 2000000 --all-changed

A generated table is uploaded into a local lake once; then, each in its own process (so peak RSS
is its own), measured in the same run:

- lakeshift: the two-pass bucketed row-hash diff over every column (what `align` runs), clean;
- lakeshift, 0.1% changed: the same after changing one value in 0.1% of the lake's rows;
- lakeshift, every row changed (`--all-changed`): the same after changing one value in every
  row, past what pass 2's scans of chosen groups read, so both sides stream every row again
  sorted by bucket: every difference counted, at what time and peak memory;
- floor: a plain full scan of each side inside its engine (MIN and MAX of every column, so each
  value is read: DuckDB answers COUNT from the Parquet footers without reading a value), nothing
  compared: no verification can read less;
- hash floor: each engine hashes every row once (md5 of the columns' own text, as lakeshift's
  row hash does but without the canonical text), both sides at once: no proof that hashes rows
  inside the engines can do less (PostgreSQL's md5 alone costs 0.7 to 2 microseconds a row);
- datacompy: both sides pulled into pandas dataframes and compared on the key;
- lakeshift, reladiff's columns: lakeshift's diff over the five columns reladiff compares, so
  the two are timed on the same work;
- reladiff (PostgreSQL only): its HashDiff between the PostgreSQL table and a DuckDB database
  file holding a view over the lake's Parquet files. It compares every column but `ratio`: it
  renders a double as `numeric(38,13)` text in PostgreSQL (15 significant digits) and with all
  17 in DuckDB, so on clean data it flags most rows of a float column as changed.

Prints seconds and peak RSS of each, and lakeshift's ratios to the floor and to the peers.
`--repeat N` runs every contender N times, in turns (so a slow minute of the machine falls on
all of them; each turn starts one contender later), and reports each one's median run with the
range of its times: on a shared machine one run of the same code varies by 10% to 30%.
`--memory` measures lakeshift's peak RSS alone at each table size, beside a child that imports
the same modules and opens the same engines but compares nothing, to show the peak does not grow
with the table. Needs the `bench` extra (pandas, datacompy, reladiff) and, for PostgreSQL, the
service on 127.0.0.1:5432 (the table is `bench_verify`, apart from the upload benchmark's).
"""

from __future__ import annotations

import argparse
import functools
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from peak import peak_rss_mb, print_peaks
from upload import COLUMNS, create_postgres, create_sqlite, upload_with_lakeshift

TABLE = "bench_verify"


def create_table(source: str, folder: Path, rows: int) -> str:
    if source == "sqlite":
        create_sqlite(folder / "bench.db", rows)
        with sqlite3.connect(folder / "bench.db") as connection:
            connection.execute(f"ALTER TABLE bench_upload RENAME TO {TABLE}")
        return f"sqlite:///{folder / 'bench.db'}"
    url = create_postgres(rows, table=TABLE)
    import psycopg

    # Vacuumed before anything is timed: otherwise autovacuum, woken by the bulk insert, may run
    # during whichever contender comes first.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"VACUUM (ANALYZE) {TABLE}")
    return url


def prepare(url: str, folder: Path) -> Path:
    """A project over the generated table, analyzed and uploaded (strategy none)."""
    schema = "main" if url.startswith("sqlite") else "public"
    (folder / "tables.csv").write_text(f"source_table,key_columns\n{schema}.{TABLE},id\n")
    (folder / ".env").write_text(f"LAKESHIFT_SOURCE_URL={url}\n")
    config = {"chunk_size": 100_000, "max_memory_mb": 512, "lake": "lake"}
    (folder / "migration_config.cfg").write_text(json.dumps(config))
    (folder / "config_meta.cfg").write_text(
        '[input]\ntable = "tables.csv"\nenv = ".env"\n[output]\nfolder = "output"\n'
    )
    meta = folder / "config_meta.cfg"
    upload_with_lakeshift(meta)
    return meta


def change_lake(meta: Path, fraction: float) -> int:
    """Add 1 to `amount` in `fraction` of the lake's rows (every n-th id); returns how many."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    changed, step = 0, round(1 / fraction)
    for path in (meta.parent / "lake").rglob("*.parquet"):
        layout = pq.ParquetFile(path).metadata
        rows_per_group = layout.row_group(0).num_rows if layout.num_row_groups else None
        compression = layout.row_group(0).column(0).compression.lower() if rows_per_group else None
        table = pq.read_table(path)
        index = table.schema.get_field_index("amount")
        amounts = table.column("amount").to_pylist()
        for row, key in enumerate(table.column("id").to_pylist()):
            if key % step == 0 and amounts[row] is not None:
                amounts[row] += Decimal(1)
                changed += 1
        field = table.schema.field(index)
        # The same row groups and compression as lakeshift wrote: the reader's memory is the
        # same as in the clean run, so the difference measured is pass 2's alone.
        pq.write_table(
            table.set_column(index, field, pa.array(amounts, field.type)),
            path,
            row_group_size=rows_per_group,
            compression=compression or "zstd",
        )
    return changed


_OPEN: list[Any] = []


@functools.cache
def _pair(meta: Path) -> tuple[Any, Any]:
    from lakeshift.artifacts import uploads_by_table
    from lakeshift.project import load_project
    from lakeshift.steps.pairing import pair_table
    from lakeshift.steps.session import open_engines

    project = load_project(meta)
    context = open_engines(project)
    _OPEN.append(context)  # the engines live as long as the child process
    engines = context.__enter__()
    metadata, entry = uploads_by_table(project.output)[TABLE]
    from datetime import datetime

    pair = pair_table(
        project,
        project.tables[0],
        engines.source,
        engines.lake,
        entry,
        datetime.fromisoformat(metadata["cutoff"]),
        metadata["batch_id"],
    )
    return engines, pair


def run_lakeshift(meta: Path, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    from lakeshift.engines.base import RowPlan
    from lakeshift.project import load_project
    from lakeshift.steps.align import bucket_count
    from lakeshift.verify.diff import Side, bucket_diff

    engines, pair = _pair(meta)
    columns = [c for c in pair.columns if c.source.name not in leave_out]
    types = tuple(c.logical for c in columns)
    key = tuple(i for i, c in enumerate(columns) if c.source.name == "id")
    least = load_project(meta).meta.verify.buckets  # as align sizes them
    buckets = bucket_count(least, engines.source.row_count(pair.source_scope))
    source_plan = RowPlan(tuple(c.source for c in columns), types, key, buckets)
    lake_plan = RowPlan(tuple(c.lake for c in columns), types, key, buckets)
    result = bucket_diff(
        Side(engines.source, pair.source_scope, source_plan),
        Side(engines.lake, pair.lake_scope, lake_plan),
    )
    return {
        "rows": result.rows_source,
        "differences": result.differences,
        "groups_read": result.groups_read,
    }


def run_floor(meta: Path) -> dict[str, Any]:
    """Each engine reads every value of every row once, inside the engine, and compares nothing.

    MIN and MAX make it read each value (booleans as integers: PostgreSQL has no MIN of one);
    COUNT would not, as DuckDB answers it from the Parquet footers."""
    from lakeshift.types import Kind

    engines, pair = _pair(meta)
    rows = 0
    for engine, scope, columns in (
        (engines.source, pair.source_scope, [c.source for c in pair.columns]),
        (engines.lake, pair.lake_scope, [c.lake for c in pair.columns]),
    ):
        values = [
            f"CAST({engine.quote(c.name)} AS INTEGER)"
            if c.logical.kind is Kind.BOOLEAN
            else engine.quote(c.name)
            for c in columns
        ]
        reads = ", ".join(f"MIN({v}), MAX({v})" for v in values)
        sql = f"SELECT COUNT(*), {reads} FROM {engine.table_sql(scope.table)}{engine.where_sql(scope)}"
        rows += int(engine.query(sql)[0][0])
    return {"rows": rows // 2}


def run_hash_floor(meta: Path) -> dict[str, Any]:
    """Each engine hashes every row once (md5 of the columns' own text, 60 bits summed), both
    sides at once as lakeshift's pass 1 runs them, and compares nothing: what any proof that
    hashes rows inside the engines pays, without canonical text, buckets or a merge."""
    from lakeshift.verify.diff import both

    engines, pair = _pair(meta)

    def hashed(engine: Any, scope: Any, columns: list[Any]) -> int:
        text = engine.concat_sql(
            [
                part
                for i, c in enumerate(columns)
                for part in ([] if i == 0 else ["'|'"])
                + [f"COALESCE(CAST({engine.quote(c.name)} AS VARCHAR), '')"]
            ]
        )
        rows = (
            f"SELECT {engine.hash60_sql(text)} AS h"
            f" FROM {engine.table_sql(scope.table)}{engine.where_sql(scope)}"
        )
        if engine.capabilities.exact_bigint_sum:
            sql = f"SELECT COUNT(*), SUM(h) FROM ({rows}) r"
        else:  # summed in halves, as pass 1 sums them where 60-bit sums would overflow
            high, low = engine.shift_sql("h")
            sql = (
                f"WITH r AS {engine.materialize_hint}({rows}) "
                f"SELECT COUNT(*), SUM({high}), SUM({low}) FROM r"
            )
        return int(engine.query(sql)[0][0])

    rows, _ = both(
        lambda: hashed(engines.source, pair.source_scope, [c.source for c in pair.columns]),
        lambda: hashed(engines.lake, pair.lake_scope, [c.lake for c in pair.columns]),
    )
    return {"rows": rows}


def run_datacompy(meta: Path) -> dict[str, Any]:
    import datacompy
    import pandas as pd

    engines, pair = _pair(meta)
    frames = []
    for engine, scope, columns in (
        (engines.source, pair.source_scope, [c.source for c in pair.columns]),
        (engines.lake, pair.lake_scope, [c.lake for c in pair.columns]),
    ):
        names = [c.name for c in columns]
        sql = f"SELECT {', '.join(engine.quote(n) for n in names)} FROM {engine.table_sql(scope.table)}{engine.where_sql(scope)}"
        frames.append(pd.DataFrame.from_records(engine.query(sql), columns=names))
    comparison = datacompy.PandasCompare(frames[0], frames[1], join_columns=["id"])
    return {"rows": len(frames[0]), "differences": int(not comparison.matches())}


def run_reladiff(meta: Path) -> dict[str, Any]:
    """reladiff's HashDiff: PostgreSQL against DuckDB reading the lake's Parquet through a view."""
    import duckdb
    import reladiff

    files = sorted(str(p) for p in (meta.parent / "lake").rglob("*.parquet") if TABLE in p.parts)
    database = meta.parent / "reladiff.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            f"CREATE OR REPLACE VIEW {TABLE} AS SELECT {COLUMNS} FROM read_parquet({files!r})"
        )
    url = (meta.parent / ".env").read_text().strip().split("=", 1)[1]
    compared = tuple(
        c.strip() for c in COLUMNS.split(",") if c.strip() not in ("id", *RELADIFF_LEAVES_OUT)
    )
    source = reladiff.connect_to_table(url, TABLE, "id")
    lake = reladiff.connect_to_table({"driver": "duckdb", "filepath": str(database)}, TABLE, "id")
    try:
        found = reladiff.diff_tables(
            source, lake, extra_columns=compared, algorithm=reladiff.Algorithm.HASHDIFF
        )
        keys = {row[1][0] for row in found}
    finally:  # psycopg2 holds its transaction open until closed
        source.database.close()
        lake.database.close()
    return {"rows": None, "differences": len(keys)}


def run_baseline(meta: Path) -> dict[str, Any]:
    """The interpreter with lakeshift's modules imported and both engines open: nothing compared."""
    from lakeshift.verify.diff import bucket_diff  # noqa: F401  (imported for its footprint)

    _pair(meta)
    return {"rows": 0}


RELADIFF_LEAVES_OUT = ("ratio",)

CONTENDERS = {
    "lakeshift": run_lakeshift,
    "lakeshift, reladiff's columns": functools.partial(
        run_lakeshift, leave_out=RELADIFF_LEAVES_OUT
    ),
    "floor": run_floor,
    "hash floor": run_hash_floor,
    "datacompy": run_datacompy,
    "reladiff": run_reladiff,
    "baseline": run_baseline,
}


def measure(name: str, meta: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--meta", str(meta)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "seconds": seconds}


def child(name: str, meta: Path) -> None:
    """Run one contender; `work_seconds` leaves out imports, connecting and reading the schema."""
    if name == "reladiff":
        import duckdb  # noqa: F401
        import reladiff  # noqa: F401
    else:
        _pair(meta)
    started = time.perf_counter()
    report = CONTENDERS[name](meta)
    report["work_seconds"] = time.perf_counter() - started
    report["peak_mb"] = peak_rss_mb()
    print(json.dumps(report))


def median_run(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The run whose time is the median (the lower middle one of an even count)."""
    ordered = sorted(measured, key=lambda m: m["seconds"])
    return ordered[(len(ordered) - 1) // 2]


def memory_scaling(source: str, sizes: list[int]) -> None:
    """lakeshift's peak RSS at each table size, beside a baseline child that compares nothing."""
    results: dict[int, dict[str, Any]] = {}
    baseline: dict[str, Any] = {}
    for rows in sizes:
        with tempfile.TemporaryDirectory() as folder:
            meta = prepare(create_table(source, Path(folder), rows), Path(folder))
            results[rows] = measure("lakeshift", meta)
            assert results[rows]["rows"] == rows and results[rows]["differences"] == 0
            baseline = measure("baseline", meta)
    print_peaks(
        f"lakeshift verify peak memory, {source} source vs DuckDB over the lake",
        "imports, both engines open, nothing compared",
        baseline["peak_mb"],
        results,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument(
        "--memory", help="comma-separated table sizes: lakeshift's peak RSS at each, no peers"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, in turns")
    parser.add_argument(
        "--all-changed", action="store_true", help="also time a lake with every row changed"
    )
    parser.add_argument("--child")
    parser.add_argument("--meta", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.meta)
        return
    if args.memory:
        memory_scaling(args.source, [int(n) for n in args.memory.split(",")])
        return
    names = ["lakeshift", "floor", "hash floor", "datacompy"] + (
        ["reladiff", "lakeshift, reladiff's columns"] if args.source == "postgres" else []
    )
    with tempfile.TemporaryDirectory() as folder:
        meta = prepare(create_table(args.source, Path(folder), args.rows), Path(folder))
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for turn in range(args.repeat):
            # Each turn starts one contender later, so none always follows the same neighbour
            # (datacompy leaves 4 GB of freed memory behind it).
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                runs[name].append(measure(name, meta))
        changed = change_lake(meta, 0.001)
        runs["lakeshift 0.1% changed"] = [measure("lakeshift", meta) for _ in range(args.repeat)]
        if args.all_changed:
            everything = change_lake(meta, 1.0)  # the 0.1% changed again: still one row each
            runs["lakeshift every row changed"] = [
                measure("lakeshift", meta) for _ in range(args.repeat)
            ]
    results = {name: median_run(measured) for name, measured in runs.items()}
    print(
        f"\nvalue-level verification of {args.rows:,} rows, {args.source} source vs DuckDB over the lake"
    )
    print("seconds: the whole child process; work: without imports, connecting, reading schemas")
    if args.repeat > 1:
        print(f"each contender's median of {args.repeat} runs, taken in turns; range: all its runs")
    print(
        f"{'contender':<30} {'seconds':>9} {'work s':>8} {'peak MB':>9} {'differences':>12}"
        f"{'  range s' if args.repeat > 1 else ''}"
    )
    for name, r in results.items():
        spread = [m["seconds"] for m in runs[name]]
        print(
            f"{name:<30} {r['seconds']:>9.2f} {r['work_seconds']:>8.2f} {r['peak_mb']:>9.0f}"
            f" {r.get('differences', '-')!s:>12}"
            + (f"  {min(spread):.2f}-{max(spread):.2f}" if args.repeat > 1 else "")
        )
    ours = results["lakeshift"]

    def ratio(other: dict[str, Any], base: dict[str, Any] = ours) -> str:
        return (
            f"{other['seconds'] / base['seconds']:.2f}x time"
            f" ({other['work_seconds'] / base['work_seconds']:.2f}x work)"
        )

    for name in ("floor", "hash floor"):
        floor = results[name]
        print(
            f"lakeshift / {name}: {ours['seconds'] / floor['seconds']:.2f}x time"
            f" ({ours['work_seconds'] / floor['work_seconds']:.2f}x work)"
        )
    for peer, same_work in (("datacompy", ours), ("reladiff", ours), ("reladiff", None)):
        if peer not in results:
            continue
        if same_work is None:  # reladiff against lakeshift over the same five columns
            same_work = results["lakeshift, reladiff's columns"]
            label = f"{peer} / lakeshift on its columns"
        else:
            label = f"{peer} / lakeshift"
        print(
            f"{label}: {ratio(results[peer], same_work)}, "
            f"{results[peer]['peak_mb'] / same_work['peak_mb']:.2f}x peak memory"
        )
    dirty = results["lakeshift 0.1% changed"]
    print(
        f"0.1% changed ({changed:,} rows): {ratio(dirty)} the clean run,"
        f" {dirty['differences']:,} differences found"
    )
    if args.all_changed:
        every = results["lakeshift every row changed"]
        print(
            f"every row changed ({everything:,} rows): {ratio(every)} the clean run,"
            f" {every['differences']:,} differences found, "
            f"{every['peak_mb'] / ours['peak_mb']:.2f}x its peak memory"
        )
    for name, measured in runs.items():  # every run, not only the median ones
        expected = {"lakeshift 0.1% changed": changed}.get(name, 0)
        if name == "lakeshift every row changed":
            expected = everything
        if name.startswith("lakeshift"):
            assert all(m["differences"] == expected for m in measured), (name, measured)


if __name__ == "__main__":
    main()
