"""Verification benchmark: lakeshift's value-level proof against the floor and a dataframe peer.

    python benchmarks/verify.py --source sqlite --rows 1000000
    python benchmarks/verify.py --source postgres --rows 5000000

A generated table is uploaded into a local lake once; then, each in its own process (so peak RSS
is its own), measured in the same run:

- lakeshift: the two-pass bucketed row-hash diff over every column (what `align` runs), clean;
- lakeshift, 0.1% changed: the same after changing one value in 0.1% of the lake's rows;
- floor: a plain full scan of each side inside its engine (COUNT of every column), nothing
  compared: no verification can read less;
- datacompy: both sides pulled into pandas dataframes and compared on the key.

Prints seconds and peak RSS of each, and lakeshift's ratios to the floor and to datacompy.
Needs the `bench` extra (pandas, datacompy) and, for PostgreSQL, the service on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from upload import TABLE, create_postgres, create_sqlite, upload_with_lakeshift, write_project


def prepare(url: str, folder: Path) -> Path:
    """A project over the generated table, analyzed and uploaded (strategy none)."""
    meta = write_project(url, folder, chunk_size=100_000)
    upload_with_lakeshift(meta)
    return meta


def change_lake(meta: Path, fraction: float) -> int:
    """Add 1 to `amount` in `fraction` of the lake's rows (every n-th id); returns how many."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    changed, step = 0, round(1 / fraction)
    for path in (meta.parent / "lake").rglob("*.parquet"):
        table = pq.read_table(path)
        index = table.schema.get_field_index("amount")
        amounts = table.column("amount").to_pylist()
        for row, key in enumerate(table.column("id").to_pylist()):
            if key % step == 0 and amounts[row] is not None:
                amounts[row] += Decimal(1)
                changed += 1
        field = table.schema.field(index)
        pq.write_table(table.set_column(index, field, pa.array(amounts, field.type)), path)
    return changed


_OPEN: list[Any] = []


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


def run_lakeshift(meta: Path) -> dict[str, Any]:
    from lakeshift.engines.base import RowPlan
    from lakeshift.steps.align import bucket_count
    from lakeshift.verify.diff import Side, bucket_diff

    engines, pair = _pair(meta)
    types = tuple(c.logical for c in pair.columns)
    key = tuple(i for i, c in enumerate(pair.columns) if c.source.name == "id")
    buckets = bucket_count(256, engines.source.row_count(pair.source_scope))
    source_plan = RowPlan(tuple(c.source for c in pair.columns), types, key, buckets)
    lake_plan = RowPlan(tuple(c.lake for c in pair.columns), types, key, buckets)
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
    """Each engine reads every column of every row once, inside the engine, and compares nothing."""
    engines, pair = _pair(meta)
    rows = 0
    for engine, scope, columns in (
        (engines.source, pair.source_scope, [c.source for c in pair.columns]),
        (engines.lake, pair.lake_scope, [c.lake for c in pair.columns]),
    ):
        counts = ", ".join(f"COUNT({engine.quote(c.name)})" for c in columns)
        sql = f"SELECT COUNT(*), {counts} FROM {engine.table_sql(scope.table)}{engine.where_sql(scope)}"
        rows += int(engine.query(sql)[0][0])
    return {"rows": rows // 2}


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


CONTENDERS = {"lakeshift": run_lakeshift, "floor": run_floor, "datacompy": run_datacompy}


def measure(name: str, meta: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--meta", str(meta)]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{name} failed:\n{result.stderr[-3000:]}")
    return {**json.loads(result.stdout.strip().splitlines()[-1]), "seconds": seconds}


def child(name: str, meta: Path) -> None:
    report = CONTENDERS[name](meta)
    report["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child")
    parser.add_argument("--meta", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.meta)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = (
            create_sqlite(Path(folder) / "bench.db", args.rows)
            if args.source == "sqlite"
            else create_postgres(args.rows)
        )
        meta = prepare(url, Path(folder))
        results = {name: measure(name, meta) for name in CONTENDERS}
        changed = change_lake(meta, 0.001)
        results["lakeshift 0.1% changed"] = measure("lakeshift", meta)
    print(
        f"\nvalue-level verification of {args.rows:,} rows, {args.source} source vs DuckDB over the lake"
    )
    print(f"{'contender':<24} {'seconds':>9} {'peak MB':>9} {'differences':>12}")
    for name, r in results.items():
        print(
            f"{name:<24} {r['seconds']:>9.2f} {r['peak_mb']:>9.0f} {r.get('differences', '-')!s:>12}"
        )
    ours = results["lakeshift"]["seconds"]
    print(f"lakeshift / floor: {ours / results['floor']['seconds']:.2f}x time")
    print(
        f"datacompy / lakeshift: {results['datacompy']['seconds'] / ours:.2f}x time, "
        f"{results['datacompy']['peak_mb'] / results['lakeshift']['peak_mb']:.2f}x peak memory"
    )
    print(
        f"0.1% changed ({changed:,} rows): {results['lakeshift 0.1% changed']['seconds'] / ours:.2f}x the clean time, "
        f"{results['lakeshift 0.1% changed']['differences']:,} differences found"
    )
    assert results["lakeshift"]["differences"] == 0
    assert results["lakeshift 0.1% changed"]["differences"] == changed


if __name__ == "__main__":
    main()
