"""The four steps on a small SQLite source: skips, mappings, strategies, reruns and errors."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from lakeshift.artifacts import (
    ALIGNMENT_JSON,
    ANALYSIS_JSON,
    ANALYSIS_PICKLE,
    read_pickle,
    stats_comparison_name,
)
from lakeshift.cli import app
from lakeshift.errors import ConfigError
from lakeshift.project import Project, load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.pipeline import run_pipeline
from lakeshift.steps.report import write_report
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType


def _source(path: Path, rows: int = 300) -> str:
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, placed_at TIMESTAMP NOT NULL, "
        "total NUMERIC(10,2), status TEXT, internal_memo TEXT)"
    )
    connection.executemany(
        "INSERT INTO orders VALUES (?,?,?,?,?)",
        [
            (
                i,
                f"2024-{1 + i % 6:02d}-{1 + i % 27:02d} 10:00:00.{i:06d}",
                round(i * 1.25, 2),
                ["new", "paid", "", None][i % 4],
                "secret note",
            )
            for i in range(1, rows + 1)
        ],
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


ORDERS = {
    "source_table": "main.orders",
    "target_table": "orders",
    "date_column": "placed_at",
    "key_columns": "order_id",
}


@pytest.fixture
def orders_project(tmp_path: Path, make_project: Any) -> Path:
    url = _source(tmp_path / "source.db")
    return make_project(url, [ORDERS, {"source_table": "main.ghost"}])  # type: ignore[no-any-return]


def _alignment(project_meta: Path) -> dict[str, dict[str, Any]]:
    content = json.loads(
        (project_meta.parent / "output" / ALIGNMENT_JSON).read_text(encoding="utf-8")
    )
    return {t["source_table"]: t for t in content["tables"]}


def test_a_table_missing_from_the_source_is_skipped_and_listed_everywhere(
    orders_project: Path,
) -> None:
    project = load_project(orders_project)
    outcomes = run_pipeline(project)
    by_table = {o.source_table: o for o in outcomes}
    assert by_table["main.orders"].status == "match"
    assert by_table["main.ghost"].status == "skipped"
    output = project.output
    analysis = json.loads((output / ANALYSIS_JSON).read_text(encoding="utf-8"))
    ghost = next(t for t in analysis["tables"] if t["source_table"] == "main.ghost")
    assert ghost["status"] == "skipped" and "does not exist in the source" in ghost["reason"]
    assert read_pickle(output / ANALYSIS_PICKLE) == analysis
    rows = list(csv.DictReader((output / "migration_results.csv").open(encoding="utf-8")))
    assert {r["source_table"]: r["status"] for r in rows} == {
        "main.orders": "not_migrated",
        "main.ghost": "skipped",
    }
    # no periods were compared for either: blank, not a count of 0 differences
    assert {r["period_mismatches"] for r in rows} == {""}
    assert b"\r" not in (output / "migration_results.csv").read_bytes()  # as pandas wrote it
    metadata = json.loads(next(output.glob("upload_metadata_*.json")).read_text(encoding="utf-8"))
    assert {t["source_table"]: t["status"] for t in metadata["tables"]} == {
        "main.orders": "uploaded",
        "main.ghost": "skipped",
    }
    assert _alignment(orders_project)["main.ghost"]["status"] == "skipped"
    stats = json.loads((output / "ghost_stats_comparison.json").read_text(encoding="utf-8"))
    assert stats["status"] == "skipped" and "does not exist in the source" in stats["reason"]


def test_the_results_csv_may_name_a_folder_of_its_own(orders_project: Path) -> None:
    meta = orders_project.read_text(encoding="utf-8")
    orders_project.write_text(
        meta.replace('csv.path = "migration_results.csv"', 'csv.path = "reports/results.csv"'),
        encoding="utf-8",
    )
    project = load_project(orders_project)
    analyze(project)
    assert (project.output / "reports" / "results.csv").is_file()


def test_a_where_that_fails_names_itself_and_its_inventory_row(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(_source(tmp_path / "source.db"), [{**ORDERS, "where": "balanc > 0"}])
    [orders] = analyze(load_project(meta))
    assert orders.status == "error"
    assert "no such column: balanc" in orders.detail
    assert "the inventory's where of row 2: balanc > 0" in orders.detail


def test_lake_rows_without_an_upload_stamp_are_compared_not_hidden(orders_project: Path) -> None:
    """The cutoff `_upload_timestamp <= cutoff` is false for NULL: rows no lakeshift upload
    wrote, which every reader of the lake sees, were invisible to compare and align."""
    project = load_project(orders_project)
    assert {o.status for o in run_pipeline(project)} == {"match", "skipped"}
    path = next((orders_project.parent / "lake").rglob("*.parquet"))
    table = pq.read_table(path)
    stamp = table.schema.get_field_index("_upload_timestamp")
    loose = table.schema.field(stamp).with_nullable(True)
    table = table.set_column(stamp, loose, table.column(stamp))
    foreign = table.slice(0, 2).set_column(stamp, loose, pa.nulls(2, loose.type))
    pq.write_table(pa.concat_tables([table, foreign]), path)
    compare(project)
    [orders] = [o for o in align(project) if o.source_table == "main.orders"]
    assert orders.status == "mismatch"
    [period] = _alignment(orders_project)["main.orders"]["periods_excluded"]
    assert period["target_rows"] == period["source_rows"] + 2


def test_a_value_changed_in_an_excluded_period_is_named(orders_project: Path) -> None:
    """A period missing a row was localized on its keys alone: a value changed in the same
    period was reported nowhere, and the period's rows read as `matched`."""
    project = load_project(orders_project)
    assert {o.status for o in run_pipeline(project)} == {"match", "skipped"}
    path = next((orders_project.parent / "lake").rglob("*.parquet"))
    table = pq.read_table(path).sort_by("order_id")
    period = table.column("placed_at")[0].as_py().strftime("%Y-%m")
    in_period = [
        i
        for i, v in enumerate(table.column("placed_at").to_pylist())
        if v.strftime("%Y-%m") == period
    ]
    dropped, changed = in_period[0], in_period[1]
    changed_key = table.column("order_id")[changed].as_py()
    status = table.column("status").to_pylist()
    status[changed] = "refunded"
    index = table.schema.get_field_index("status")
    table = table.set_column(index, table.schema.field(index), pa.array(status, pa.string()))
    keep = [i for i in range(table.num_rows) if i != dropped]
    pq.write_table(table.take(keep), path)
    compare(project)
    align(project)
    [excluded] = _alignment(orders_project)["main.orders"]["periods_excluded"]
    located = excluded["localized"]
    assert excluded["period"] == period and located["missing"] == 1
    assert located["changed"] == 1 and located["changed_by_column"] == {"status": 1}
    [sample] = [s for s in located["samples"] if s["kind"] == "changed"]
    assert sample["key"] == {"order_id": str(changed_key)}
    assert sample["columns"][0]["target"] == "refunded"


def test_a_lake_repaired_after_compare_is_not_condemned_by_its_old_statistics(
    orders_project: Path,
) -> None:
    """compare saw a changed total; the lake was put right before align ran. Statistics that
    would exclude a column are taken again, not reused from compare."""
    project = load_project(orders_project)
    assert {o.status for o in run_pipeline(project)} == {"match", "skipped"}
    path = next((orders_project.parent / "lake").rglob("*.parquet"))
    original = pq.read_table(path)
    index = original.schema.get_field_index("total")
    totals = original.column(index).to_pylist()
    totals[0] = totals[0] + 1
    field = original.schema.field(index)
    pq.write_table(original.set_column(index, field, pa.array(totals, field.type)), path)
    compare(project)
    pq.write_table(original, path)
    [orders] = [o for o in align(project) if o.source_table == "main.orders"]
    assert orders.status == "match"
    assert _alignment(orders_project)["main.orders"]["statistics_from"] == "computed"


def test_a_lake_column_no_source_column_maps_to_fails_the_schema_level(
    orders_project: Path,
) -> None:
    """The source dropped a column after the upload: the lake still holds its data, which
    analyze reported and compare and align signed off."""
    project = load_project(orders_project)
    assert {o.status for o in run_pipeline(project)} == {"match", "skipped"}
    with sqlite3.connect(orders_project.parent.parent / "source.db") as connection:
        connection.execute("ALTER TABLE orders DROP COLUMN internal_memo")
    [stats, _] = compare(project)
    assert stats.status == "mismatch" and "columns only in the lake: internal_memo" in stats.detail
    [orders] = [o for o in align(project) if o.source_table == "main.orders"]
    assert orders.status == "mismatch"
    entry = _alignment(orders_project)["main.orders"]
    assert entry["columns_only_in_lake"] == ["internal_memo"] and entry["levels"]["schema"] is False


def test_a_column_of_another_kind_fails_the_schema_level_not_the_table(
    tmp_path: Path, make_project: Any
) -> None:
    """A blob column become text in the source: compared as text, the lake's bytes made
    DuckDB fail the table; the column is named and the others still compared."""
    project, _ = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, body BLOB, title TEXT)",
        [(1, b"abc", "one"), (2, b"def", "two")],
        "id",
    )
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.executescript(
            "CREATE TABLE docs2 (id INTEGER PRIMARY KEY, body TEXT, title TEXT);"
            "INSERT INTO docs2 SELECT id, CAST(body AS TEXT), title FROM docs;"
            "DROP TABLE docs; ALTER TABLE docs2 RENAME TO docs;"
        )
    [stats] = compare(project)
    assert stats.status == "mismatch" and "body: source is string, target is binary" in stats.detail
    [docs] = align(project)
    assert docs.status == "mismatch"
    assert _alignment(tmp_path / "project" / "config_meta.cfg")["main.docs"][
        "columns_compared"
    ] == [
        "id",
        "title",
    ]


def test_an_unexpected_error_in_analyze_fails_its_table_and_the_rest_is_written(
    orders_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakeshift.steps import analyze as analyze_module

    def broken(*arguments: Any) -> Any:
        raise ValueError("'real' is not a valid Kind")

    monkeypatch.setattr(analyze_module, "analyze_table", broken)
    outcomes = analyze(load_project(orders_project))
    by_table = {o.source_table: o for o in outcomes}
    assert by_table["main.orders"].status == "error"
    assert "internal error (ValueError" in by_table["main.orders"].detail
    assert by_table["main.ghost"].status == "skipped"
    assert (orders_project.parent / "output" / ANALYSIS_JSON).is_file()


@pytest.mark.parametrize("name", ["_period", "_upload_timestamp", "_key_range"])
def test_a_source_column_named_as_the_lakes_own_is_refused(
    tmp_path: Path, make_project: Any, name: str
) -> None:
    """A Hive reader puts the partition value in place of a `_period` column: the lake would
    read otherwise than lakeshift, which reads the files' own."""
    connection = sqlite3.connect(tmp_path / "source.db")
    connection.execute(f'CREATE TABLE t (id INTEGER PRIMARY KEY, "{name}" TEXT)')
    connection.commit()
    connection.close()
    meta = make_project(f"sqlite:///{tmp_path / 'source.db'}", [{"source_table": "main.t"}])
    with pytest.raises(ConfigError, match=rf"main\.t: the lake column\(s\) {name} .*rename"):
        analyze(load_project(meta))


def test_sqlite_declared_types_read_as_written() -> None:
    from lakeshift.engines.sqlite import logical_type

    policy = LogicalType(Kind.DECIMAL, 38, 10)
    assert logical_type("TIMESTAMP WITHOUT TIME ZONE", policy) == LogicalType(Kind.TIMESTAMP)
    assert logical_type("TIMESTAMP WITH TIME ZONE", policy) == LogicalType(Kind.TIMESTAMP, tz="UTC")
    assert logical_type("NUMERIC(10,-2)", policy) == LogicalType(Kind.DECIMAL, 12, 0)
    assert logical_type("DECIMAL(3, 5)", policy) == LogicalType(Kind.DECIMAL, 5, 5)


def test_sqlite_timestamps_not_spelled_day_first_are_refused_not_misfiled(
    tmp_path: Path, make_project: Any
) -> None:
    """'20240105T060708' is a January instant to Python, but its text sorts after December's:
    the text ranges that select a period's rows filed it in the wrong month, and align agreed."""
    connection = sqlite3.connect(tmp_path / "source.db")
    connection.execute("CREATE TABLE ev (id INTEGER PRIMARY KEY, at DATETIME NOT NULL)")
    connection.executemany(
        "INSERT INTO ev VALUES (?, ?)",
        [(1, "2024-01-03 10:00:00"), (2, "20240105T060708"), (3, "2024-12-01 00:00:00")],
    )
    connection.commit()
    connection.close()
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.ev", "key_columns": "id", "date_column": "at"}],
    )
    project = load_project(meta)
    [analyzed] = analyze(project)
    assert analyzed.status == "error"
    assert "'20240105T060708' is not an ISO-8601 timestamp" in analyzed.detail
    assert "match" not in {o.status for o in run_pipeline(project)}


def test_sqlite_floats_summing_to_nan_match_the_lake(tmp_path: Path, make_project: Any) -> None:
    """+inf and -inf sum to NaN, which SQLite gives as NULL: it read as no sum at all."""
    _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE f (id INTEGER PRIMARY KEY, x REAL)",
        [(1, float("inf")), (2, float("-inf")), (3, 1.5)],
        "id",
    )


def test_sqlite_text_keys_holding_a_nul_are_named_when_their_row_changed(
    tmp_path: Path, make_project: Any
) -> None:
    project, lake_file = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE k (code TEXT PRIMARY KEY, v INTEGER)",
        [("a\x00b", 1), ("c", 2)],
        "code",
    )
    table = pq.read_table(lake_file)
    index = table.schema.get_field_index("v")
    values = [
        10 if code == "a\x00b" else v
        for code, v in zip(table["code"].to_pylist(), table["v"].to_pylist(), strict=True)
    ]
    pq.write_table(
        table.set_column(index, table.schema.field(index), pa.array(values, pa.int64())), lake_file
    )
    [outcome] = align(project)
    assert outcome.status == "mismatch"
    [sample] = _alignment(tmp_path / "project" / "config_meta.cfg")["main.k"]["values"]["samples"]
    assert sample["key"] == {"code": "a\x00b"} and sample["columns"][0]["target"] == "10"


def test_a_sqlite_column_without_a_declared_type_fails_its_table_until_mapped_away(
    tmp_path: Path, make_project: Any
) -> None:
    """A view's expression column has no declared type: it stopped every table's analyze, and
    mapping it to null could not help, as the columns were refused before the mapping."""
    url = _source(tmp_path / "source.db")
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("CREATE VIEW shown AS SELECT order_id, total * 2 AS doubled FROM orders")
    shown = {"source_table": "main.shown", "target_table": "shown", "key_columns": "order_id"}
    project = load_project(make_project(url, [ORDERS, shown]))
    analysis = {o.source_table: o for o in analyze(project)}
    assert analysis["main.orders"].status == "not_migrated"
    entries = json.loads((project.output / ANALYSIS_JSON).read_text(encoding="utf-8"))["tables"]
    [view] = [t for t in entries if t["source_table"] == "main.shown"]
    assert any("doubled" in w and "map it to null" in w for w in view["warnings"])
    uploaded = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.NONE)
    by_table = {o.source_table: o for o in uploaded}
    assert by_table["main.orders"].status == "uploaded"
    assert (
        by_table["main.shown"].status == "failed"
        and "shown.doubled" in by_table["main.shown"].detail
    )
    mapped = load_project(
        make_project(url, [ORDERS, shown], mappings={"main.shown": {"doubled": None}})
    )
    assert {o.status for o in run_pipeline(mapped, PartitionStrategy.NONE)} == {"match"}


def test_the_reserved_names_are_the_uploads_own() -> None:
    from lakeshift.lake.writer import METADATA_COLUMNS
    from lakeshift.mapping import RESERVED_NAMES
    from lakeshift.steps.slicing import KEY_PARTITION, PERIOD_PARTITION

    assert {*METADATA_COLUMNS, PERIOD_PARTITION, KEY_PARTITION} == RESERVED_NAMES


def test_analyze_before_any_upload_exits_0_so_the_next_step_can_follow(
    tmp_path: Path, make_project: Any
) -> None:
    """`lakeshift analyze && lakeshift upload`: tables not in the lake yet are no failure."""
    meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
    result = CliRunner().invoke(app, ["analyze", "-c", str(meta)])
    assert result.exit_code == 0, result.output
    assert "not_migrated" in result.output


def test_an_interrupted_step_says_what_is_kept_and_exits_130() -> None:
    import typer

    from lakeshift.cli import _exit

    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(typer.Exit) as caught:
        _exit(interrupted)
    assert caught.value.exit_code == 130


def test_a_target_not_yet_uploaded_is_reported_not_migrated(orders_project: Path) -> None:
    project = load_project(orders_project)
    [orders, _] = analyze(project)
    assert orders.status == "not_migrated"
    analysis = json.loads((project.output / ANALYSIS_JSON).read_text(encoding="utf-8"))
    entry = next(t for t in analysis["tables"] if t["source_table"] == "main.orders")
    assert entry["target_rows"] is None and entry["source_rows"] > 0
    periods = entry["period_counts"]
    # the source's rows per period, and nothing said of a lake that has no such table
    assert periods and all(p["source"] > 0 for p in periods)
    assert {(p["target"], p["match"]) for p in periods} == {(None, None)}


def test_a_key_column_the_source_lacks_fails_the_table_not_silently_a_multiset(
    tmp_path: Path, make_project: Any
) -> None:
    """A key misspelt after analyze (which checks it) would otherwise compare the table as a
    multiset: a changed row would show as one missing and one extra, with no key named."""
    meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    inventory = meta.parent / "input_tables.csv"
    inventory.write_text(inventory.read_text().replace('"order_id"', '"order_idd"'))
    [outcome] = align(load_project(meta))
    assert outcome.status == "error"
    assert "input_tables.csv: row 2: key column order_idd does not exist in main.orders" in (
        outcome.detail
    )


@pytest.mark.parametrize("streams", [True, False])
def test_pass_2_past_its_scans_reads_every_row_once_or_says_its_listing_is_cut_short(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch, streams: bool
) -> None:
    """More differing rows than pass 2's scans of chosen groups cover: engines that stream
    are read once more in full, sorted by bucket, and every difference is counted; otherwise
    the counts are lower bounds, and the results, the mismatch line and the page say so."""
    from lakeshift.engines.sqlite import SQLiteEngine
    from lakeshift.verify import diff as diff_module

    meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    source = sqlite3.connect(tmp_path / "source.db")  # statuses rotated: statistics stay equal
    source.execute(
        "UPDATE orders SET status = "
        "CASE order_id % 4 WHEN 0 THEN 'paid' WHEN 1 THEN '' WHEN 2 THEN NULL ELSE 'new' END"
    )
    source.commit()
    source.close()
    monkeypatch.setattr(diff_module, "PASS2_ROWS_PER_SCAN", 40)
    monkeypatch.setattr(diff_module, "MAX_PASS2_SCANS", 1)
    monkeypatch.setattr(SQLiteEngine, "streams_rows", streams)
    [outcome] = align(load_project(meta))
    values = _alignment(meta)["main.orders"]["values"]
    page = write_report(load_project(meta)).read_text(encoding="utf-8")
    assert outcome.status == "mismatch" and values["matched"] == 0
    if streams:
        assert values["complete"] is True and values["groups_read"] == values["groups_mismatched"]
        assert (values["changed"], values["missing"], values["extra"]) == (300, 0, 0)
        assert values["changed_by_column"] == {"status": 300}
        assert "values: 0 missing, 0 extra, 300 changed rows" in outcome.detail
        assert "listing incomplete" not in page
    else:
        assert values["complete"] is False and "values: at least" in outcome.detail
        assert values["changed"] + values["rows_not_read"]["source"] == 300
        assert "listing incomplete" in page and "at least" in page


@pytest.mark.parametrize("many_periods", [0, 100])
def test_pass_2_finds_the_same_rows_whether_groups_are_selected_per_period_or_in_one_list(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch, many_periods: int
) -> None:
    """Past `MANY_PERIODS` periods, pass 2 selects its groups by one list of 'period#bucket'
    texts (thousands of daily periods took minutes as one clause a period), on both sides."""
    from lakeshift.engines import base

    monkeypatch.setattr(base, "MANY_PERIODS", many_periods)
    meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    source = sqlite3.connect(tmp_path / "source.db")  # statuses rotated in all six months
    source.execute(
        "UPDATE orders SET status = CASE order_id % 4 WHEN 0 THEN 'paid' WHEN 1 THEN '' "
        "WHEN 2 THEN NULL ELSE 'new' END WHERE order_id % 28 < 4"
    )
    source.commit()
    source.close()
    [outcome] = align(load_project(meta))
    values = _alignment(meta)["main.orders"]["values"]
    assert outcome.status == "mismatch" and values["complete"]
    changed = [i for i in range(1, 301) if i % 28 < 4]
    assert (values["changed"], values["missing"], values["extra"]) == (len(changed), 0, 0)
    assert values["changed_by_column"] == {"status": len(changed)}
    assert len({f"2024-{1 + i % 6:02d}" for i in changed}) == 6


def test_column_mapping_renames_and_drops_in_the_lake(tmp_path: Path, make_project: Any) -> None:
    meta = make_project(
        _source(tmp_path / "source.db"),
        [ORDERS],
        mappings={"main.orders": {"total": "order_total", "internal_memo": None}},
    )
    project = load_project(meta)
    assert {o.status for o in run_pipeline(project)} == {"match"}
    lake_file = next((meta.parent / "lake").rglob("*.parquet"))
    names = pq.read_schema(lake_file).names
    assert "order_total" in names and "total" not in names and "internal_memo" not in names
    assert names[-3:] == ["_upload_timestamp", "_upload_date", "_upload_batch_id"]
    [orders] = analyze(project)
    assert orders.status == "match"
    # The sign-off names what it did not compare, in the results and on the page
    assert _alignment(meta)["main.orders"]["columns_dropped_by_mapping"] == ["internal_memo"]
    page = (project.output / "report.html").read_text(encoding="utf-8")
    assert "mapped to null" in page and "<code>internal_memo</code>" in page


@pytest.mark.parametrize("strategy", list(PartitionStrategy))
def test_every_partition_strategy_uploads_and_verifies(
    tmp_path: Path, make_project: Any, strategy: PartitionStrategy
) -> None:
    meta = make_project(_source(tmp_path / "source.db", rows=2500), [ORDERS], chunk_size=100)
    project = load_project(meta)
    assert {o.status for o in run_pipeline(project, strategy)} == {"match"}
    table = meta.parent / "lake" / "test" / "orders"
    partitions = sorted(p.name for p in table.iterdir() if p.is_dir())
    if strategy is PartitionStrategy.DATE:
        assert partitions == [f"_period=2024-{m:02d}" for m in range(1, 7)]
    elif strategy is PartitionStrategy.KEY:
        assert len(partitions) >= 2 and all(p.startswith("_key_range=") for p in partitions)
    else:
        assert partitions == [] and list(table.glob("*.parquet"))
    total = sum(pq.read_metadata(f).num_rows for f in table.rglob("*.parquet"))
    assert total == 2500


def test_rerunning_upload_skips_finished_slices_and_duplicates_nothing(
    orders_project: Path,
) -> None:
    project = load_project(orders_project)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    files_before = sorted((orders_project.parent / "lake").rglob("*.parquet"))
    [orders, _] = upload(project, project.output / ANALYSIS_PICKLE)
    assert orders.status == "uploaded"
    assert sorted((orders_project.parent / "lake").rglob("*.parquet")) == files_before
    metadata = sorted(project.output.glob("upload_metadata_*.json"))[-1]
    entry = json.loads(metadata.read_text(encoding="utf-8"))["tables"][0]
    assert entry["slices_skipped_as_finished"] == 6 and entry["rows"] == 300
    compare(project)
    assert {o.status for o in align(project) if o.source_table == "main.orders"} == {"match"}


def test_force_replaces_the_table(orders_project: Path) -> None:
    project = load_project(orders_project)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    first = sorted((orders_project.parent / "lake").rglob("*.parquet"))
    upload(project, project.output / ANALYSIS_PICKLE, force=True)
    second = sorted((orders_project.parent / "lake").rglob("*.parquet"))
    assert len(first) == len(second) and not set(first) & set(second)
    compare(project)
    assert {o.status for o in align(project) if o.source_table == "main.orders"} == {"match"}


def test_a_date_column_mapped_to_null_is_no_period_mismatch_and_no_date_slices(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(
        _source(tmp_path / "source.db"), [ORDERS], mappings={"main.orders": {"placed_at": None}}
    )
    project = load_project(meta)
    analyze(project)
    [failed] = upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    assert failed.status == "failed"
    assert "date_column placed_at is not uploaded" in failed.detail
    upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.NONE)
    [orders] = analyze(project)
    assert orders.status == "match", orders.detail
    analysis = json.loads((project.output / ANALYSIS_JSON).read_text(encoding="utf-8"))
    [entry] = analysis["tables"]
    assert entry["period_counts"] == []
    assert any(
        "(mapped to null in the column mappings), so row counts per period are not compared" in w
        for w in entry["warnings"]
    )


def test_a_missing_date_column_is_a_configuration_error(tmp_path: Path, make_project: Any) -> None:
    meta = make_project(_source(tmp_path / "source.db"), [{**ORDERS, "date_column": "shipped_at"}])
    with pytest.raises(
        ConfigError, match=r"input_tables.csv: row 2 \(main.orders\): date_column shipped_at"
    ):
        analyze(load_project(meta))


def test_a_mapping_naming_no_source_column_is_a_configuration_error(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(
        _source(tmp_path / "source.db"), [ORDERS], mappings={"main.orders": {"totl": "x"}}
    )
    with pytest.raises(
        ConfigError, match=r"column_mappings.json: main.orders: no source column named totl"
    ):
        analyze(load_project(meta))


def test_compare_before_upload_says_what_to_run(orders_project: Path) -> None:
    orders, ghost = compare(load_project(orders_project))
    assert (orders.status, ghost.status) == ("skipped", "skipped")
    assert "run upload" in orders.detail
    assert "does not exist in the source" in ghost.detail


def test_a_schema_change_after_upload_is_reported(orders_project: Path) -> None:
    project = load_project(orders_project)
    run_pipeline(project)
    connection = sqlite3.connect(orders_project.parent.parent / "source.db")
    connection.execute("ALTER TABLE orders ADD COLUMN coupon TEXT")
    connection.commit()
    connection.close()
    [orders, _] = analyze(project)
    assert orders.status == "mismatch"
    assert "coupon" in orders.detail


class TestCommandLine:
    def test_analyze_exits_2_naming_a_missing_config_file(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(app, ["analyze", "--config", str(tmp_path / "nope.cfg")])
        assert result.exit_code == 2
        assert "nope.cfg" in result.output and "not found" in result.output

    def test_an_error_is_printed_as_it_reads_brackets_and_all(
        self, tmp_path: Path, make_project: Any
    ) -> None:
        """Rich took `[output]` for markup and printed ` folder: ...`, the section gone."""
        meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
        text = meta.read_text(encoding="utf-8").replace('"output/"', '"output/"  # mine')
        meta.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(app, ["analyze", "-c", str(meta)])
        assert result.exit_code == 2
        assert f"{meta}: [output] folder: a comment after the value" in result.output

    @pytest.mark.parametrize("command", ["upload", "run", "demo", "align"])
    def test_help_shows_flags_as_flags_not_as_options_taking_a_value(self, command: str) -> None:
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0
        rows = [line for line in result.output.splitlines() if "--" in line]
        flags = [r for r in rows if any(f in r for f in ("--force", "--drift", "--verbose"))]
        assert flags, result.output
        assert not [r for r in flags if "<" in r], flags

    def test_steps_find_their_configs_in_the_working_directory(
        self, orders_project: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(orders_project.parent)
        runner = CliRunner()
        assert (
            runner.invoke(app, ["analyze"]).exit_code == 1
        )  # not migrated yet, and a skipped table
        result = runner.invoke(
            app,
            [
                "upload",
                "--config",
                "migration_config.cfg",
                "--analysis-output",
                "output/migration_analysis.pkl",
            ],
        )
        assert result.exit_code == 1, result.output  # the missing table was skipped
        assert "uploaded" in result.output
        result = runner.invoke(app, ["compare"])
        assert "main.orders" in result.output and result.exit_code == 1
        result = runner.invoke(app, ["align"])
        assert result.exit_code == 1 and "1 of 2 table(s) did not pass" in result.output

    def test_upload_finds_the_analysis_in_the_output_folder_the_config_names(
        self, orders_project: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The original scripts' `--analysis-output migration_analysis.pkl`, run from the
        project folder, and a plain `lakeshift upload`, whatever `[output] folder` says."""
        meta = orders_project
        meta.write_text(meta.read_text().replace('folder = "output/"', 'folder = "out/"'))
        monkeypatch.chdir(meta.parent)
        runner = CliRunner()
        assert runner.invoke(app, ["analyze"]).exit_code == 1  # not migrated yet
        legacy = ["upload", "--config", "migration_config.cfg"]
        result = runner.invoke(app, [*legacy, "--analysis-output", "migration_analysis.pkl"])
        assert "uploaded" in result.output, result.output
        result = runner.invoke(app, ["upload"])
        assert "uploaded" in result.output, result.output
        assert len(list((meta.parent / "out").glob("upload_metadata_*.json"))) == 2
        result = runner.invoke(app, ["upload", "--analysis-output", "nowhere.pkl"])
        assert result.exit_code == 2 and "run `lakeshift analyze` first" in result.output
        assert "out/nowhere.pkl" in result.output  # where it looked

    def test_a_copied_project_uploads_with_its_own_configs(
        self, orders_project: Path, tmp_path: Path
    ) -> None:
        """The analysis records the config it was made with: a copy of the project folder must
        write its own lake and upload metadata, not the original's."""
        original = orders_project.parent
        assert CliRunner().invoke(app, ["analyze", "--config", str(orders_project)]).exit_code == 1
        copy = tmp_path / "copy"
        shutil.copytree(original, copy)
        result = CliRunner().invoke(
            app,
            [
                "upload",
                "--config",
                str(copy / "migration_config.cfg"),
                "--analysis-output",
                str(copy / "output" / ANALYSIS_PICKLE),
            ],
        )
        assert "uploaded" in result.output, result.output
        assert list((copy / "output").glob("upload_metadata_*.json"))
        assert not list((original / "output").glob("upload_metadata_*.json"))
        assert not list(original.rglob("*.parquet")) and list(copy.rglob("*.parquet"))

    def test_every_table_equal_exits_0(self, tmp_path: Path, make_project: Any) -> None:
        meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
        result = CliRunner().invoke(app, ["run", "--config", str(meta)])
        assert result.exit_code == 0, result.output

    def test_a_foreign_pickle_is_refused(self, orders_project: Path, tmp_path: Path) -> None:
        evil = tmp_path / "evil.pkl"
        evil.write_bytes(b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR.")
        result = CliRunner().invoke(
            app,
            [
                "upload",
                "--config",
                str(orders_project.parent / "migration_config.cfg"),
                "--analysis-output",
                str(evil),
                "--meta-config",
                str(orders_project),
            ],
        )
        assert result.exit_code == 2
        assert "refusing to load" in result.output
        assert not (tmp_path / "pwned").exists()


class TestSourceCutoff:
    """compare and align read the source at the upload's snapshot where the engine can."""

    class _Flashback:
        def __init__(self, snapshot: str) -> None:
            from lakeshift.engines.base import Capabilities

            self.capabilities = Capabilities("test", snapshot, "microsecond")
            self.pinned: list[tuple[str, str]] = []

        def use_snapshot(self, table: str, token: str) -> None:
            self.pinned.append((table, token))

    def test_a_flashback_engine_reads_at_the_uploaded_scn(self) -> None:
        from lakeshift.inventory import TableSpec
        from lakeshift.steps.pairing import SNAPSHOT, _read_at_upload_snapshot

        engine = self._Flashback("flashback")
        upload = {"snapshot": {"kind": "flashback", "token": "123456"}}
        method = _read_at_upload_snapshot(engine, TableSpec("HR.EMP", "emp"), upload)  # type: ignore[arg-type]
        assert method == SNAPSHOT and engine.pinned == [("HR.EMP", "123456")]

    @pytest.mark.parametrize(
        ("kind", "snapshot"),
        [("repeatable_read", {"kind": "repeatable_read", "token": "0000-1"}), ("flashback", {})],
    )
    def test_otherwise_the_current_state_is_compared_and_said(
        self, kind: str, snapshot: dict[str, str]
    ) -> None:
        from lakeshift.inventory import TableSpec
        from lakeshift.steps.pairing import CURRENT_STATE, _read_at_upload_snapshot

        engine = self._Flashback(kind)
        method = _read_at_upload_snapshot(engine, TableSpec("s.t", "t"), {"snapshot": snapshot})  # type: ignore[arg-type]
        assert method == CURRENT_STATE and engine.pinned == []


def test_a_source_type_changed_after_upload_fails_the_schema_level(orders_project: Path) -> None:
    """The lake holds 10:00:00.000123 where the source now holds a DATE: rendering both as dates
    would round the difference away, so the type change itself must fail the table."""
    project = load_project(orders_project)
    run_pipeline(project)
    connection = sqlite3.connect(orders_project.parent.parent / "source.db")
    connection.executescript(
        "CREATE TABLE orders_new (order_id INTEGER PRIMARY KEY, placed_at DATE NOT NULL, "
        "total NUMERIC(10,2), status TEXT, internal_memo TEXT);"
        "INSERT INTO orders_new SELECT order_id, date(placed_at), total, status, internal_memo FROM orders;"
        "DROP TABLE orders; ALTER TABLE orders_new RENAME TO orders;"
    )
    connection.close()
    compare(project)
    [orders, _] = align(project)
    assert orders.status == "mismatch"
    entry = _alignment(orders_project)["main.orders"]
    assert entry["levels"]["schema"] is False
    assert any("placed_at" in problem for problem in entry["type_mismatches"])


def _sqlite_project(
    tmp_path: Path, make_project: Any, ddl: str, rows: list[tuple[Any, ...]], key: str
) -> tuple[Project, Path]:
    """A SQLite source of one table (`ddl`, then `rows`), uploaded and proven equal; returns
    the project and its only lake file."""
    connection = sqlite3.connect(tmp_path / "source.db")
    connection.execute(ddl)
    table = ddl.split()[2]
    marks = ", ".join("?" * len(rows[0]))
    connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    connection.commit()
    connection.close()
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": f"main.{table}", "key_columns": key}],
    )
    project = load_project(meta)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    [lake_file] = (meta.parent / "lake").rglob("*.parquet")
    return project, lake_file


def test_a_null_in_an_integer_key_is_compared_not_a_crash(
    tmp_path: Path, make_project: Any
) -> None:
    project, lake_file = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE refs (ref_id INTEGER, label TEXT)",
        [(None, "orphan"), (1, "a"), (2, "b")],
        "ref_id",
    )
    table = pq.read_table(lake_file)
    labels = ["changed" if v == "orphan" else v for v in table.column("label").to_pylist()]
    pq.write_table(table.set_column(1, "label", pa.array(labels)), lake_file)
    compare(project)
    assert [o.status for o in align(project)] == ["mismatch"]


def test_a_changed_key_fails_the_statistics_level_though_keys_are_never_excluded(
    tmp_path: Path, make_project: Any
) -> None:
    project, lake_file = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE refs (ref_id INTEGER PRIMARY KEY, label TEXT)",
        [(1, "a"), (2, "b"), (3, "c")],
        "ref_id",
    )
    table = pq.read_table(lake_file)
    keys = [4 if v == 3 else v for v in table.column("ref_id").to_pylist()]
    pq.write_table(table.set_column(0, "ref_id", pa.array(keys, pa.int64())), lake_file)
    compare(project)
    assert [o.status for o in align(project)] == ["mismatch"]
    entry = _alignment(project.meta_path)["main.refs"]
    assert entry["levels"]["statistics"] is False and entry["levels"]["values"] is False
    assert entry["columns_excluded"] == []  # the key is still compared, not excluded
    assert entry["values"]["missing"] == 1 and entry["values"]["extra"] == 1


def test_sqlite_text_with_a_nul_has_its_whole_length(tmp_path: Path, make_project: Any) -> None:
    """SQLite's length() stops at a NUL, DuckDB's does not: the statistics must still match."""
    project, _ = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        [(1, "a\x00bcdefgh"), (2, "é\x00"), (3, "plain")],
        "id",
    )
    stats = json.loads((project.output / stats_comparison_name("notes")).read_text())
    body = next(c for c in stats["columns"] if c["column"] == "body")
    assert body["source"]["max_length"] == body["target"]["max_length"] == 9
    assert body["source"]["min_length"] == 2


def test_sqlite_decimal_sums_read_a_real_as_the_upload_does(
    tmp_path: Path, make_project: Any
) -> None:
    """Past 2**63 SQLite keeps a NUMERIC value as a REAL (1e+23); the upload reads it from its
    shortest text, so the exact sum must too, not from the binary value's 99999999999999991611392."""
    project, _ = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE big (id INTEGER PRIMARY KEY, amount NUMERIC(38,2))",
        [(1, "100000000000000000000000"), (2, "12.50"), (3, 0.1)],
        "id",
    )
    stats = json.loads((project.output / "big_stats_comparison.json").read_text(encoding="utf-8"))
    [amount] = [c for c in stats["columns"] if c["column"] == "amount"]
    assert amount["source"]["sum"] == "100000000000000000000012.60"
    assert amount["match"]


@pytest.mark.parametrize("large", ["6000000000000000000000000000", "9990000000000000000000000000"])
def test_a_decimal_sum_past_38_digits_is_exact_in_the_lake(
    tmp_path: Path, make_project: Any, large: str
) -> None:
    """DuckDB's SUM of a DECIMAL(38,10) overflows past 38 digits, at two values of 6e27 (the
    default policy allows 28 integer digits), and its HUGEINT accumulator at two of 9.99e27:
    either way the column is summed in parts instead of failing."""
    project, _ = _sqlite_project(
        tmp_path,
        make_project,
        "CREATE TABLE wide (id INTEGER PRIMARY KEY, amount NUMERIC(38,10))",
        # -0.000017 is a REAL whose shortest text has an exponent: summed as a Decimal, which
        # Python's default context would round to 28 digits
        [
            (1, large),
            (2, large),
            (3, "-0.000017"),
        ],
        "id",
    )
    stats = json.loads((project.output / "wide_stats_comparison.json").read_text(encoding="utf-8"))
    [amount] = [c for c in stats["columns"] if c["column"] == "amount"]
    exact = Context(prec=60).subtract(2 * Decimal(large), Decimal("0.000017"))
    assert Decimal(amount["source"]["sum"]) == Decimal(amount["target"]["sum"]) == exact
    assert amount["match"]


def test_sqlite_statistics_are_of_values_not_of_their_spelling(
    tmp_path: Path, make_project: Any
) -> None:
    """The same instants spelled differently, and text in a NOCASE column, compare equal."""
    connection = sqlite3.connect(tmp_path / "source.db")
    connection.execute(
        "CREATE TABLE events (id INTEGER PRIMARY KEY, at TIMESTAMP, zoned TIMESTAMPTZ, name TEXT COLLATE NOCASE)"
    )
    connection.executemany(
        "INSERT INTO events VALUES (?,?,?,?)",
        [
            (1, "2024-01-01T10:00:00", "2024-01-01 10:00:00+02:00", "Alpha"),
            (2, "2024-01-01 10:00:00.000000", "2024-01-01 08:00:00+00:00", "alpha"),
            (3, "2024-01-02 09:00:00.5", "2024-01-01 03:00:00-05:00", "beta"),
        ],
    )
    connection.commit()
    connection.close()
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.events", "key_columns": "id"}],
    )
    project = load_project(meta)
    assert [o.status for o in run_pipeline(project, PartitionStrategy.NONE)] == ["match"]
    stats = json.loads(
        (project.output / "events_stats_comparison.json").read_text(encoding="utf-8")
    )
    by_name = {c["column"]: c["source"] for c in stats["columns"]}
    assert by_name["at"]["distinct"] == 2 and by_name["at"]["max"] == "2024-01-02 09:00:00.500000"
    assert (
        by_name["zoned"]["distinct"] == 1
        and by_name["zoned"]["min"] == "2024-01-01 08:00:00.000000"
    )
    assert by_name["name"]["distinct"] == 3 and by_name["name"]["min"] == "Alpha"


def test_lake_rows_of_an_upload_that_recorded_nothing_fail_compare_and_align(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed upload registers its finished slices but writes no metadata, so no cutoff
    covers their rows: the checks read the lake at the previous cutoff and would say "match"
    about a lake that readers see with rows the source lacks."""
    from lakeshift.steps import upload as upload_module

    meta = make_project(_source(tmp_path / "source.db"), [ORDERS])
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    source = sqlite3.connect(tmp_path / "source.db")
    source.execute(
        "INSERT INTO orders VALUES (1001, '2024-07-01 10:00:00', 1.00, 'new', 'x'), "
        "(1002, '2024-07-02 10:00:00', 2.00, 'new', 'x')"
    )
    source.commit()
    project = load_project(meta)
    monkeypatch.setattr(upload_module, "_write_metadata", lambda *args: None)  # killed
    upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    monkeypatch.undo()
    source.execute("DELETE FROM orders WHERE order_id > 1000")  # as it was at the last cutoff
    source.commit()
    source.close()
    [compared] = compare(project)
    [aligned] = align(project)
    assert compared.status == aligned.status == "mismatch"
    for outcome in (compared, aligned):
        assert "2 lake rows were written after the cutoff" in outcome.detail
    values = _alignment(meta)["main.orders"]
    assert values["rows_after_cutoff"] == 2 and values["levels"]["counts"] is False
    assert values["levels"]["values"] is True  # what the cutoff covers still matches


def test_groups_are_sized_by_rows_unless_a_least_number_is_configured(
    tmp_path: Path, make_project: Any
) -> None:
    """Each period gets one bucket per 64 rows of the largest period: 256 a period made groups
    of a few rows for tables of many small periods, all overhead. `[verify] buckets` is a least."""
    meta = make_project(_source(tmp_path / "source.db", rows=1200), [ORDERS])  # 200 a month
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    assert _alignment(meta)["main.orders"]["buckets"] == 4  # ceil(200 / 64)
    with meta.open("a", encoding="utf-8") as config:
        config.write("\n[verify]\nbuckets = 16\n")
    assert {o.status for o in align(load_project(meta))} == {"match"}
    assert _alignment(meta)["main.orders"]["buckets"] == 16


def test_long_values_are_cut_in_results_around_their_difference(
    tmp_path: Path, make_project: Any
) -> None:
    """A sample or a statistic of a 20,000-character text held it whole, twice: results of a
    few wide columns ran to hundreds of MB. They are cut to a window where the values part."""
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        connection.executemany(
            "INSERT INTO notes VALUES (?, ?)", [(i, f"{i:03d}" + "a" * 20_000) for i in range(50)]
        )
    table = {"source_table": "main.notes", "target_table": "notes", "key_columns": "id"}
    meta = make_project(f"sqlite:///{path}", [table])
    assert {o.status for o in run_pipeline(load_project(meta))} == {"match"}
    with sqlite3.connect(path) as connection:  # the last character of a middle row
        connection.execute("UPDATE notes SET body = substr(body, 1, 20002) || 'b' WHERE id = 7")
    [outcome] = run_pipeline(load_project(meta))
    assert outcome.status == "mismatch"
    [sample] = _alignment(meta)["main.notes"]["values"]["samples"]
    [column] = sample["columns"]
    assert sample["key"] == {"id": "7"} and column["column"] == "body"
    assert "ab (20,003 characters in all, md5 " in column["source"]  # changed in the source
    assert "aa (20,003 characters in all, md5 " in column["target"]
    statistics = json.loads((meta.parent / "output" / "notes_stats_comparison.json").read_text())
    [body] = [c for c in statistics["columns"] if c["column"] == "body"]
    assert len(body["source"]["max"]) < 300 and "characters in all" in body["source"]["max"]


def test_groups_are_sized_by_the_larger_side(tmp_path: Path, make_project: Any) -> None:
    """Sized by the source alone, a lake holding far more rows (the source emptied since the
    upload) made a few huge groups, which localizing a column then read whole."""
    table = {**ORDERS, "date_column": None}
    meta = make_project(_source(tmp_path / "source.db", rows=1280), [table])
    project = load_project(meta)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.NONE)
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("DELETE FROM orders WHERE order_id > 64")
    assert {o.status for o in align(project)} == {"mismatch"}
    assert _alignment(meta)["main.orders"]["buckets"] == 20  # 1,280 lake rows / 64
