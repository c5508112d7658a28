"""Step 3, compare: per-column statistics pushed down to both engines, lake cut at the upload.

Writes `{table}_stats_comparison.json` per table into the output folder.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from lakeshift.artifacts import now_utc, read_json, stats_comparison_name, write_json
from lakeshift.engines.base import ColumnStats, Engine
from lakeshift.project import Project
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.pairing import TablePair
from lakeshift.steps.session import each_uploaded_table, open_engines, scanned_since
from lakeshift.verify.shown import shown_pair
from lakeshift.verify.stats import compare_stats


def column_statistics(
    pair: TablePair, source: Engine, lake: Engine, tolerance: float
) -> tuple[list[dict[str, Any]], int, int]:
    """Stats of every paired column on both sides, compared; plus both row counts."""
    types = [c.logical for c in pair.columns]
    ours: dict[str, ColumnStats] = source.column_stats(
        pair.source_scope, [c.source for c in pair.columns], types
    )
    theirs: dict[str, ColumnStats] = lake.column_stats(
        pair.lake_scope, [c.lake for c in pair.columns], types
    )
    rows = []
    for column in pair.columns:
        a, b = ours[column.source.name], theirs[column.lake.name]
        differences = compare_stats(a, b, column.logical, tolerance)
        recorded_a, recorded_b = asdict(a), asdict(b)
        for name in ("min", "max"):  # compared whole above; a text may be megabytes long
            if isinstance(recorded_a[name], str) or isinstance(recorded_b[name], str):
                recorded_a[name], recorded_b[name] = shown_pair(recorded_a[name], recorded_b[name])
        rows.append(
            {
                "column": column.source.name,
                "target_column": column.lake.name,
                "type": str(column.logical),
                "match": not differences,
                "differences": [d.stat for d in differences],
                "source": recorded_a,
                "target": recorded_b,
            }
        )
    source_rows = next(iter(ours.values())).rows if ours else source.row_count(pair.source_scope)
    lake_rows = next(iter(theirs.values())).rows if theirs else lake.row_count(pair.lake_scope)
    return rows, source_rows, lake_rows


def recorded_statistics(project: Project, pair: TablePair) -> list[dict[str, Any]] | None:
    """The column statistics `compare` recorded for this very upload and columns, if any."""
    path = project.output / stats_comparison_name(pair.spec.target_table)
    if not path.is_file():
        return None
    content = read_json(path)
    same = (
        content.get("batch_id") == pair.batch_id
        and content.get("cutoff") == pair.cutoff.isoformat()
        and content.get("float_relative_tolerance") == project.meta.verify.float_relative_tolerance
        and [c["column"] for c in content.get("columns", [])]
        == [c.source.name for c in pair.columns]
    )
    return content["columns"] if same else None


def compare(project: Project) -> list[TableOutcome]:
    """Compare statistics of every uploaded table; one JSON file per table."""
    tolerance = project.meta.verify.float_relative_tolerance

    with open_engines(project) as engines:

        def work(pair: TablePair) -> dict[str, Any]:
            started = now_utc()
            scanned_before = engines.lake.bytes_scanned
            columns, source_rows, lake_rows = column_statistics(
                pair, engines.source, engines.lake, tolerance
            )
            mismatched = [c["column"] for c in columns if not c["match"]]
            problems = pair.schema_problems() + pair.unseen_rows()
            if source_rows != lake_rows:
                problems.append(f"row count differs: source {source_rows}, lake {lake_rows}")
            if mismatched:
                problems.append(f"statistics differ for {', '.join(mismatched)}")
            entry = {
                "status": "mismatch" if problems else "match",
                "created_at": started,  # the report tells whether align ran since
                "batch_id": pair.batch_id,
                "mismatches": problems,
                "cutoff": pair.cutoff,
                "lake_filter": f"_upload_timestamp <= TIMESTAMP '{pair.cutoff.isoformat(sep=' ')}'"
                " OR _upload_timestamp IS NULL",
                "source_cutoff_method": pair.cutoff_method,
                "rows": {"source": source_rows, "target": lake_rows},
                "rows_after_cutoff": pair.rows_after_cutoff,
                "float_relative_tolerance": tolerance,
                "columns": columns,
                "columns_missing_in_lake": pair.missing_in_lake,
                "columns_only_in_lake": pair.only_in_lake,
                "type_mismatches": pair.type_mismatches,
                "precision": {"timestamp": engines.lake.timestamps_at},
                "bytes_scanned": scanned_since(engines.lake, scanned_before),
                "seconds": round((now_utc() - started).total_seconds(), 3),
            }
            name = stats_comparison_name(pair.spec.target_table)
            write_json(
                project.output / name,
                {
                    "step": "compare",
                    "source_table": pair.spec.source_table,
                    "target_table": pair.spec.target_table,
                    **entry,
                },
            )
            return entry

        entries = each_uploaded_table(project, engines, "compare", work)
    for entry in entries:  # skipped, disabled and failed tables are listed with their reason too
        if "columns" not in entry:
            write_json(
                project.output / stats_comparison_name(entry["target_table"]),
                {"step": "compare", **entry},
            )
    return [TableOutcome.from_entry(e) for e in entries]
