"""Upload and its reruns never lose or double rows silently: a changed plan, slices the plan no
longer has, rows outside every slice, empty slices, and a run cut short by an unexpected error."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE, uploads_by_table
from lakeshift.project import Project, load_project
from lakeshift.steps import progress
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload

ORDERS = {
    "source_table": "main.orders",
    "target_table": "orders",
    "date_column": "placed_at",
    "key_columns": "order_id",
}


def _orders(path: Path, ids: range | list[int], months: int = 6, table: str = "orders") -> str:
    with sqlite3.connect(path) as connection:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (order_id INTEGER PRIMARY KEY, "
            "placed_at TIMESTAMP NOT NULL, total NUMERIC(10,2))"
        )
        connection.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?)",
            [(i, f"2024-{1 + i % months:02d}-{1 + i % 27:02d} 10:00:00", i * 1.25) for i in ids],
        )
    return f"sqlite:///{path}"


def _upload(project: Project, strategy: PartitionStrategy, force: bool = False) -> dict[str, Any]:
    """The table's entry in the upload metadata this run wrote."""
    upload(project, project.output / ANALYSIS_PICKLE, strategy, force=force)
    latest = sorted(project.output.glob("upload_metadata_*.json"))[-1]
    [entry] = json.loads(latest.read_text(encoding="utf-8"))["tables"]
    return entry  # type: ignore[no-any-return]


def _lake_ids(folder: Path) -> list[int]:
    return sorted(
        i
        for f in (folder / "lake").rglob("*.parquet")
        for i in pq.read_table(f)["order_id"].to_pylist()
    )


def _verified(project: Project) -> str:
    compare(project)
    [orders] = align(project)
    return orders.status


@pytest.fixture
def orders_project(tmp_path: Path, make_project: Any) -> Project:
    meta = make_project(_orders(tmp_path / "source.db", range(1, 3001)), [ORDERS], chunk_size=50)
    project = load_project(meta)
    analyze(project)
    return project


def test_key_ranges_that_moved_with_the_table_are_refused_until_forced(
    orders_project: Project, tmp_path: Path
) -> None:
    """The key plan depends on the table's size: after it grows, the finished slices hold
    other ranges than the plan's, and skipping them would write some rows twice."""
    assert _upload(orders_project, PartitionStrategy.KEY)["status"] == "uploaded"
    _orders(tmp_path / "source.db", range(3001, 4501))
    refused = _upload(orders_project, PartitionStrategy.KEY)
    assert refused["status"] == "failed"
    assert "no longer in the plan" in refused["reason"] and "--force" in refused["reason"]
    assert _lake_ids(tmp_path / "project") == list(range(1, 3001))  # nothing added twice
    forced = _upload(orders_project, PartitionStrategy.KEY, force=True)
    assert forced["status"] == "uploaded" and forced["rows"] == 4500
    assert _lake_ids(tmp_path / "project") == list(range(1, 4501))
    assert _verified(orders_project) == "match"


def test_a_changed_period_is_refused_instead_of_adding_days_beside_months(
    orders_project: Project, tmp_path: Path, make_project: Any
) -> None:
    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}", [{**ORDERS, "period": "day"}], chunk_size=50
    )
    by_day = load_project(meta)
    refused = _upload(by_day, PartitionStrategy.DATE)
    assert refused["status"] == "failed"
    assert "period 'month' -> 'day'" in refused["reason"] and "--force" in refused["reason"]
    assert len(_lake_ids(tmp_path / "project")) == 3000


def test_a_changed_filter_is_refused(
    orders_project: Project, tmp_path: Path, make_project: Any
) -> None:
    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{**ORDERS, "where": "order_id > 10"}],
        chunk_size=50,
    )
    refused = _upload(load_project(meta), PartitionStrategy.DATE)
    assert refused["status"] == "failed" and "where None -> 'order_id > 10'" in refused["reason"]


def test_column_names_in_another_case_are_the_same_plan(
    orders_project: Project, tmp_path: Path, make_project: Any
) -> None:
    """The inventory names columns in any case: writing PLACED_AT for placed_at changes no
    slice, so the rerun resumes instead of asking for --force."""
    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{**ORDERS, "date_column": "PLACED_AT", "key_columns": "Order_ID"}],
        chunk_size=50,
    )
    again = _upload(load_project(meta), PartitionStrategy.DATE)
    assert again["status"] == "uploaded", again.get("reason")
    assert again["slices_skipped_as_finished"] == 6


def test_a_period_gone_from_the_source_is_named_not_kept_silently(
    orders_project: Project, tmp_path: Path
) -> None:
    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("DELETE FROM orders WHERE placed_at LIKE '2024-03-%'")
    refused = _upload(orders_project, PartitionStrategy.DATE)
    assert refused["status"] == "failed" and "_period=2024-03" in refused["reason"]
    assert _upload(orders_project, PartitionStrategy.DATE, force=True)["rows"] == 2500
    assert _verified(orders_project) == "match"


def test_a_replacement_cut_short_after_its_swap_is_finished_by_a_plain_rerun(
    orders_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the catalog names the new generation, --force left the old generation's
    files and manifest; the next plain upload deletes them, and a partition no finished slice
    holds (as Glue leaves one whose delete failed) is unregistered."""
    from lakeshift.lake import generation

    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("DELETE FROM orders WHERE placed_at LIKE '2024-03-%'")
    analyze(orders_project)
    deleting = generation.delete_other_generations

    def killed(*arguments: Any) -> int:
        raise OSError("killed")

    monkeypatch.setattr(generation, "delete_other_generations", killed)
    assert _upload(orders_project, PartitionStrategy.DATE, force=True)["status"] == "failed"
    monkeypatch.setattr(generation, "delete_other_generations", deleting)
    lake = tmp_path / "project" / "lake"
    table = lake / "test" / "orders"
    old_files = sorted(table.glob("_period=*/*.parquet"))
    assert old_files and [p for p in old_files if "2024-03" in str(p)]
    catalog = lake / "_lakeshift" / "catalog" / "test" / "orders.json"
    content = json.loads(catalog.read_text(encoding="utf-8"))
    assert "_period=2024-03" not in content["partitions"]
    content["partitions"]["_period=2024-03"] = "test/orders/_period=2024-03"  # Glue's leftover
    catalog.write_text(json.dumps(content), encoding="utf-8")

    rerun = _upload(orders_project, PartitionStrategy.DATE)
    assert rerun["status"] == "uploaded" and rerun["rows"] == 2500
    assert rerun["slices_skipped_as_finished"] == 5
    assert not [p for p in table.rglob("*.parquet") if not p.parent.parent.name.startswith("_v")]
    assert not (lake / "_lakeshift" / "manifest" / "test" / "orders.json").exists()
    partitions = json.loads(catalog.read_text(encoding="utf-8"))["partitions"]
    assert sorted(partitions) == [f"_period=2024-{m:02d}" for m in (1, 2, 4, 5, 6)]
    assert all(folder.startswith("test/orders/_v") for folder in partitions.values())
    assert _verified(orders_project) == "match"


def test_a_rerun_under_the_same_plan_still_resumes(orders_project: Project) -> None:
    first = _upload(orders_project, PartitionStrategy.KEY)
    again = _upload(orders_project, PartitionStrategy.KEY)
    assert again["status"] == "uploaded"
    assert again["slices_skipped_as_finished"] == len(first["slices"]) > 1
    # a run that wrote no row says when the rows it kept were stamped, and no speed
    assert again["uploaded_at"] == first["uploaded_at"]
    assert again["rows_per_second"] is None and first["rows_per_second"] > 0


def test_a_finished_slice_whose_rows_changed_since_is_kept_with_a_warning(
    orders_project: Project, tmp_path: Path
) -> None:
    from loguru import logger

    _upload(orders_project, PartitionStrategy.DATE)
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("DELETE FROM orders WHERE order_id IN (6, 12)")  # month 2024-01
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    try:
        again = _upload(orders_project, PartitionStrategy.DATE)
    finally:
        logger.remove(sink)
    assert again["slices_skipped_as_finished"] == 6
    [warning] = [w for w in warnings if "kept as written" in w]
    assert "_period=2024-01 (written 500, now 498)" in warning


def test_an_empty_key_range_registers_no_partition_and_the_table_reads(
    tmp_path: Path, make_project: Any
) -> None:
    """Keys 1-100 and 10,001-10,100 in slices of 50 keys' width: the ranges between are empty."""
    url = _orders(tmp_path / "source.db", [*range(1, 101), *range(10_001, 10_101)])
    project = load_project(make_project(url, [ORDERS], chunk_size=1))
    analyze(project)
    entry = _upload(project, PartitionStrategy.KEY)
    assert entry["status"] == "uploaded" and entry["rows"] == 200
    empty = [s for s in entry["slices"] if s["rows"] == 0]
    assert empty, "the plan was meant to have empty ranges"
    catalog = json.loads(
        (
            tmp_path / "project" / "lake" / "_lakeshift" / "catalog" / "test" / "orders.json"
        ).read_text()
    )
    assert len(catalog["partitions"]) == len(entry["slices"]) - len(empty)
    assert _verified(project) == "match"
    # A lake an earlier version wrote has its empty folders registered: it reads all the same.
    from lakeshift.engines.connect import open_catalog, open_lake

    storage = open_lake(project.migration)
    folder = f"{storage.table_location('orders')}/_key_range=99999"
    open_catalog(storage, project.migration).register_partitions(
        "orders", {"_key_range=99999": folder}
    )
    assert _verified(project) == "match"


def test_a_first_upload_that_finished_no_slice_asks_for_no_force_when_the_schema_changes(
    tmp_path: Path, make_project: Any
) -> None:
    """The first upload registers the table before its slice fails; once the mappings drop the
    column at fault, as the error advises, a plain rerun replaces that empty definition."""
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE T (id INTEGER PRIMARY KEY, n NUMERIC)")
        connection.execute("INSERT INTO T VALUES (1, 0.3333333333333333)")
    table = {"source_table": "main.T", "target_table": "t"}
    project = load_project(make_project(f"sqlite:///{path}", [table]))
    analyze(project)
    failed = _upload(project, PartitionStrategy.DATE)
    assert failed["status"] == "failed" and "main.T.n" in failed["reason"]
    catalog = tmp_path / "project" / "lake" / "_lakeshift" / "catalog" / "test" / "t.json"
    assert "n" in [c["name"] for c in json.loads(catalog.read_text())["columns"]]

    project = load_project(make_project(f"sqlite:///{path}", [table], {"main.T": {"n": None}}))
    analyze(project)
    entry = _upload(project, PartitionStrategy.DATE)
    assert entry["status"] == "uploaded" and entry["rows"] == 1
    columns = [c["name"] for c in json.loads(catalog.read_text())["columns"]]
    assert columns[:2] == ["id", "_upload_timestamp"]
    assert _verified(project) == "match"


def test_a_table_holding_slices_is_still_refused_when_its_schema_changes(
    orders_project: Project, tmp_path: Path, make_project: Any
) -> None:
    assert _upload(orders_project, PartitionStrategy.DATE)["status"] == "uploaded"
    url = f"sqlite:///{tmp_path / 'source.db'}"
    project = load_project(make_project(url, [ORDERS], {"main.orders": {"total": None}}))
    analyze(project)
    refused = _upload(project, PartitionStrategy.DATE)
    assert refused["status"] == "failed"
    assert "column total removed (decimal(10,2))" in refused["reason"]
    assert "--force" in refused["reason"]


def _two_tables_failing(
    tmp_path: Path,
    make_project: Any,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    error: BaseException,
) -> Project:
    """Two analyzed tables, orders then other, whose slices of `table` raise `error`."""
    from lakeshift.steps import upload as upload_module

    url = _orders(tmp_path / "source.db", range(1, 301))
    _orders(tmp_path / "source.db", range(1, 301), table="other")
    other = {**ORDERS, "source_table": "main.other", "target_table": "other"}
    project = load_project(make_project(url, [ORDERS, other]))
    analyze(project)
    written = upload_module.write_here

    def failing(context: Any, task: Any, progress: Any = None, **options: Any) -> Any:
        if task.target_table == table:
            raise error
        return written(context, task, progress, **options)

    monkeypatch.setattr(upload_module, "write_here", failing)
    return project


def test_an_unexpected_error_fails_its_table_and_the_run_is_still_recorded(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk is no LakeshiftError: the table fails with the error named, the other tables
    are uploaded, and the metadata records both."""
    disk_full = OSError(28, "No space left on device")
    project = _two_tables_failing(tmp_path, make_project, monkeypatch, "orders", disk_full)
    outcomes = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    by_table = {o.target_table: o for o in outcomes}
    assert by_table["orders"].status == "failed"
    assert "No space left on device" in by_table["orders"].detail
    assert by_table["other"].status == "uploaded"
    assert set(uploads_by_table(project.output)) == {"other"}


def test_a_run_cut_short_records_the_tables_it_finished(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted in its second table, the run's metadata still holds the first: a table it
    replaced with --force is read at this run's cutoff."""
    project = _two_tables_failing(tmp_path, make_project, monkeypatch, "other", KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE, force=True)
    assert set(uploads_by_table(project.output)) == {"orders"}
    [metadata] = project.output.glob("upload_metadata_*.json")
    assert json.loads(metadata.read_text(encoding="utf-8"))["interrupted"] is True


@contextmanager
def _postgres_table(url: str, name: str, ddl: str, rows: str) -> Iterator[dict[str, str]]:
    """A scratch table in the PostgreSQL service, dropped after; yields its inventory row."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {name}")
        connection.execute(f"CREATE TABLE {name} ({ddl})")
        connection.execute(f"INSERT INTO {name} VALUES {rows}")
    try:
        yield {"source_table": f"public.{name}", "target_table": name, "date_column": "d"}
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {name}")


def _date_upload(url: str, make_project: Any, table: dict[str, str]) -> tuple[Project, Any]:
    """Analyze, then upload by date, one table of the PostgreSQL service: (project, outcome)."""
    project = load_project(make_project(url, [table]))
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    return project, outcome


def test_a_bc_date_is_refused_by_name_not_dropped_from_its_slice(
    postgres_url: str, tmp_path: Path, make_project: Any
) -> None:
    """PostgreSQL prints a BC date's month without its era: as the period '0044-03' it would
    select the AD month and fall out of every slice; and `to_char` fails on a date past a
    timestamp's range (year 300000), which stopped analyze. Their period is NULL instead, and
    the NULL slice's conversion refuses them by name; nothing of the slice is recorded."""
    import psycopg

    with _postgres_table(
        postgres_url,
        "upload_bc",
        "id int PRIMARY KEY, d date NOT NULL",
        "(1, '2024-01-05'), (2, '0044-03-15 BC'), (3, '2024-02-01'), (4, '300000-01-01')",
    ) as table:
        project, outcome = _date_upload(postgres_url, make_project, table)
        assert outcome.status == "failed"
        assert "upload_bc" in outcome.detail and "outside years 1-9999" in outcome.detail
        recorded = [
            slice_id
            for path in (tmp_path / "project" / "lake" / "_lakeshift").rglob("*.json")
            if "manifest" in path.parts
            for slice_id in json.loads(path.read_text())["slices"]
        ]
        assert "_period=__HIVE_DEFAULT_PARTITION__" not in recorded
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute("DELETE FROM upload_bc WHERE id IN (2, 4)")
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
        assert outcome.status == "uploaded"
        assert _verified(project) == "match"


def test_a_slice_that_reads_fewer_rows_than_planned_in_one_snapshot_is_refused(
    postgres_url: str, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a slice's predicate and the period text ever disagree (as they did for BC dates),
    the rows the plan counted and the slice missed fail the slice instead of vanishing."""
    from lakeshift.engines.postgres import PostgresEngine

    planned = PostgresEngine.period_predicate

    def missing_one(self: Any, column: Any, period: Any, value: str | None) -> str:
        return f"({planned(self, column, period, value)} AND id <> 3)"

    monkeypatch.setattr(PostgresEngine, "period_predicate", missing_one)
    with _postgres_table(
        postgres_url,
        "upload_short",
        "id int PRIMARY KEY, d date NOT NULL",
        "(1, '2024-01-05'), (2, '2024-01-06'), (3, '2024-02-01')",
    ) as table:
        _project, outcome = _date_upload(postgres_url, make_project, table)
    assert outcome.status == "failed"
    assert "slice _period=2024-02 read 0 rows, the plan counted 1" in outcome.detail


def test_a_year_key_uploads_whole_by_key_ranges(mariadb_url: str, make_project: Any) -> None:
    """MariaDB compares a YEAR with a literal past 2155 as false: the last key range, ending at
    2156, read no row and the upload said "uploaded". A range now ends at the largest key."""
    from mariadb_support import MariaDBServer

    server = MariaDBServer(mariadb_url)
    try:
        name = server.create(
            "kyear", "y YEAR PRIMARY KEY, v INT", [(2024, 1), (1999, 2), (2155, 3)]
        )
        table = {"source_table": f"test.{name}", "target_table": "kyear", "key_columns": "y"}
        project = load_project(make_project(mariadb_url, [table]))
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.KEY)
        assert outcome.status == "uploaded"
        years = [
            y
            for f in (project.meta_path.parent / "lake").rglob("*.parquet")
            for y in pq.read_table(f)["y"].to_pylist()
        ]
        assert sorted(years) == [1999, 2024, 2155]
        assert _verified(project) == "match"
    finally:
        server.close()


def test_key_ranges_of_a_32_bit_key_wider_than_its_type_are_counted(
    postgres_url: str, make_project: Any
) -> None:
    """PostgreSQL subtracts two `integer`s in 32 bits: counting the ranges of keys from -1 to
    2^31-1 overflowed ("integer out of range") and failed the upload."""
    with _postgres_table(
        postgres_url,
        "upload_int4",
        "id integer PRIMARY KEY, d date NOT NULL",
        "(-1, '2024-01-05'), (0, '2024-01-06'), (2147483647, '2024-02-01')",
    ) as table:
        project = load_project(make_project(postgres_url, [table]))
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.KEY)
        assert outcome.status == "uploaded", outcome.detail
        assert _verified(project) == "match"


def test_a_key_range_that_reads_fewer_rows_than_counted_is_refused(
    postgres_url: str, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key ranges are counted by arithmetic on the key, apart from their predicates: should a
    range's predicate miss rows, the slice fails instead of being recorded short."""
    from lakeshift.engines.postgres import PostgresEngine

    counted = PostgresEngine.key_range_counts

    def one_more(self: Any, *args: Any) -> dict[int, int]:
        return {index: rows + 1 for index, rows in counted(self, *args).items()}

    monkeypatch.setattr(PostgresEngine, "key_range_counts", one_more)
    with _postgres_table(
        postgres_url, "upload_counted", "id int PRIMARY KEY, d date NOT NULL", "(1, '2024-01-05')"
    ) as table:
        project = load_project(make_project(postgres_url, [table]))
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.KEY)
    assert outcome.status == "failed"
    assert "read 1 rows, the plan counted 2" in outcome.detail


def test_an_infinite_date_reaches_the_conversion_and_names_itself(
    postgres_url: str, make_project: Any
) -> None:
    """`infinity` has no period text: it belongs to the NULL period's slice, whose conversion
    refuses it by name, instead of falling out of every slice."""
    with _postgres_table(
        postgres_url,
        "upload_infinity",
        "id int PRIMARY KEY, d timestamp",
        "(1, '2024-01-05'), (2, 'infinity'), (3, NULL)",
    ) as table:
        _project, outcome = _date_upload(postgres_url, make_project, table)
        assert outcome.status == "failed"
        assert "outside years 1-9999" in outcome.detail and "upload_infinity" in outcome.detail


def test_a_table_without_a_date_column_uploads_unpartitioned_in_a_date_run(
    tmp_path: Path, make_project: Any
) -> None:
    """`date`, the default strategy, slices by the inventory's date_column: a table without one
    is uploaded as one unpartitioned slice beside the others, not failed."""
    url = _orders(tmp_path / "source.db", range(1, 41))
    _orders(tmp_path / "source.db", range(1, 11), table="notes")
    undated = {"source_table": "main.notes", "target_table": "notes", "key_columns": "order_id"}
    project = load_project(make_project(url, [ORDERS, undated]))
    analyze(project)
    outcomes = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    assert [o.status for o in outcomes] == ["uploaded", "uploaded"]
    latest = sorted(project.output.glob("upload_metadata_*.json"))[-1]
    entries = {e["target_table"]: e for e in json.loads(latest.read_text())["tables"]}
    assert entries["notes"]["partition_strategy"] == "none"
    assert [s["slice"] for s in entries["notes"]["slices"]] == ["all"]
    assert entries["orders"]["partition_strategy"] == "date"
    assert {o.status for o in align(project)} == {"match"}


def test_sigterm_records_the_tables_an_upload_finished(tmp_path: Path, make_project: Any) -> None:
    """systemd, containers and CI time-outs stop a process with SIGTERM: the upload then records
    the tables it finished, as on Ctrl-C, so compare and align see their rows."""
    url = _orders(tmp_path / "source.db", range(1, 41))
    _orders(tmp_path / "source.db", range(1, 11), table="notes")
    undated = {"source_table": "main.notes", "target_table": "notes", "key_columns": "order_id"}
    meta = make_project(url, [ORDERS, undated])
    analyze(load_project(meta))
    script = f"""
import sys, time
from lakeshift.steps import upload
finish = upload.upload_table
def stalled(context, spec):
    if spec.target_table == "notes":
        print("stalled", flush=True)
        time.sleep(120)
    return finish(context, spec)
upload.upload_table = stalled
sys.argv = ["lakeshift", "upload", "--meta-config", {str(meta)!r}]
from lakeshift.cli import main
main()
"""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=meta.parent
    )
    assert process.stdout is not None
    while (line := process.stdout.readline()) and line != "stalled\n":
        pass
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 130
    [metadata] = (meta.parent / "output").glob("upload_metadata_*.json")
    content = json.loads(metadata.read_text(encoding="utf-8"))
    assert content["interrupted"] is True
    assert [(t["target_table"], t["status"]) for t in content["tables"]] == [("orders", "uploaded")]


def _progress_lines(project: Project) -> list[tuple[str, str]]:
    """(kind, message) of each progress line an upload logs; kind is table or rows."""
    logged: list[tuple[str, str]] = []
    sink = logger.add(
        lambda m: logged.append((m.record["extra"]["progress"], m.record["message"])),
        filter=lambda record: "progress" in record["extra"],
    )
    try:
        upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.NONE, force=True)
    finally:
        logger.remove(sink)
    return logged


def test_one_long_slice_logs_its_rows_as_it_goes_and_a_short_one_does_not(
    orders_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table uploaded as one slice said nothing until it was done: without a terminal (no bar)
    a line every LOG_EVERY_SECONDS tells rows so far, rows/s and the share done."""
    monkeypatch.setattr(progress, "_enabled", lambda: False)
    short = _progress_lines(orders_project)
    assert [kind for kind, _ in short] == ["table", "table"]
    assert short[0][1] == "main.orders: upload to test.orders started"
    assert short[1][1].startswith("main.orders: 3000 rows uploaded in ")
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)
    long = _progress_lines(orders_project)
    rows = [message for kind, message in long[1:-1]]
    assert [long[0][0], long[-1][0]] == ["table", "table"]
    assert len(rows) > 50  # 3,000 rows in batches of 50, all in the one slice
    assert all(kind == "rows" for kind, _ in long[1:-1])
    assert rows[1].startswith("upload orders: 50 of about 3,000 rows (2%), ")
    assert " rows/s, about " in rows[1] and rows[-1].startswith("upload orders: 3,000 of about")


def test_a_slice_its_executor_stops_stops_at_its_next_batch_and_leaves_no_file(
    dated_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor's stop (another slice failed, Ctrl-C) reaches a running slice through its
    batches: it stops there and deletes what it wrote."""
    from lakeshift.steps import upload as upload_module

    meta = dated_project(3000, chunk_size=100)  # three month slices of ten batches
    project = load_project(meta)
    analyze(project)
    written = upload_module.write_here
    told: list[int] = []

    def stopped_after_two_batches(*args: Any, **options: Any) -> Any:
        batches = [0]

        def stopped() -> bool:
            batches[0] += 1
            told.append(batches[0])
            return batches[0] > 3  # the call before the first batch, then two batches

        return written(*args, **{**options, "stopped": stopped})

    monkeypatch.setattr(upload_module, "write_here", stopped_after_two_batches)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, workers=2)
    assert outcome.status == "failed" and "stopped before this slice finished" in outcome.detail
    assert max(told) == 4  # no slice read on past its stop
    assert not list((meta.parent / "lake").rglob("*.parquet"))
