"""Step 1, analyze: compare each inventory table's schema and row counts between source and lake.

Writes `migration_analysis.json`, `migration_analysis.pkl` (same content) and
`migration_results.csv` (one row per table) into the output folder.
"""

from __future__ import annotations

import csv
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from lakeshift.artifacts import (
    ANALYSIS_JSON,
    ANALYSIS_PICKLE,
    now_utc,
    uploads_by_table,
    write_json,
    write_pickle,
)
from lakeshift.engines.base import Column, Engine, Scope, SourceEngine
from lakeshift.engines.connect import (
    compare_timestamps_at_common_precision,
    connect_lake_engine,
    connect_source,
    open_lake,
)
from lakeshift.errors import ConfigError, LakeshiftError, TableMissingError, TerminalError
from lakeshift.inventory import TableSpec
from lakeshift.lake.writer import METADATA_COLUMNS
from lakeshift.logs import TABLE, progress_logger
from lakeshift.mapping import map_columns
from lakeshift.project import Project
from lakeshift.redaction import display_url, redact
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.progress import progress_over
from lakeshift.types import TEMPORAL_KINDS, compatibility

CSV_FIELDS = (
    "source_table",
    "target_table",
    "status",
    "source_rows",
    "target_rows",
    "columns_only_in_source",
    "columns_only_in_target",
    "type_mismatches",
    "period_mismatches",
    "reason",
)


def preflight(project: Project, source: SourceEngine) -> dict[str, list[Column] | TerminalError]:
    """Check the inventory against the source before any work: every problem is one line.

    Returns the source columns of each enabled table that exists, or the error that fails the
    table alone (several tables match its name); missing tables are left out (they are
    skipped, not errors).
    """
    problems: list[str] = []
    found: dict[str, list[Column] | TerminalError] = {}
    inventory = str(project.meta.input.table)
    for spec in project.enabled_tables:
        try:
            if not source.table_exists(spec.source_table):
                continue
            columns = source.columns(spec.source_table)
        except TerminalError as error:
            found[spec.source_table] = error
            continue
        names = {c.name.lower(): c for c in columns}
        where = f"row {spec.row} ({spec.source_table})"
        if spec.date_column:
            date_column = names.get(spec.date_column.lower())
            if date_column is None:
                problems.append(
                    f"{inventory}: {where}: date_column {spec.date_column} does not exist"
                )
            elif date_column.logical.kind not in TEMPORAL_KINDS:
                problems.append(
                    f"{inventory}: {where}: date_column {spec.date_column} is {date_column.logical}, not a date or timestamp"
                )
        for key in spec.key_columns:
            if key.lower() not in names:
                problems.append(f"{inventory}: {where}: key column {key} does not exist")
        unknown = map_columns(spec, columns, project.mappings[spec.source_table]).unknown
        if unknown:
            problems.append(
                f"{project.meta.input.column_maps}: {spec.source_table}: no source column named {', '.join(unknown)}"
            )
        found[spec.source_table] = columns
    if problems:
        raise ConfigError("\n".join(problems))
    return found


def _naming(table: str, error: LakeshiftError) -> str:
    """The error's message led by the table, which the engines' errors already name first."""
    message = str(error)
    return message if message.startswith(f"{table}: ") else f"{table}: {message}"


def _period_rows(
    source: dict[str | None, int], target: dict[str | None, int] | None
) -> list[dict[str, Any]]:
    """Rows per period on both sides; with no lake table (`target` None), the lake's count and
    the match are null: nothing was compared."""
    seen = target or {}
    periods = sorted(set(source) | set(seen), key=lambda p: (p is None, p or ""))
    return [
        {
            "period": p,
            "source": source.get(p, 0),
            "target": None if target is None else seen.get(p, 0),
            "match": None if target is None else source.get(p, 0) == seen.get(p, 0),
        }
        for p in periods
    ]


def _source_rows(source: SourceEngine, scope: Scope, spec: TableSpec) -> int:
    """The first question with the inventory's `where`: an error there names it and its row."""
    try:
        return source.row_count(scope)
    except TableMissingError:
        raise
    except TerminalError as error:
        if not spec.where:
            raise
        raise ConfigError(
            f"{error}; the query held the inventory's where of row {spec.row}: {spec.where}"
        ) from None


def analyze_table(
    spec: TableSpec,
    project: Project,
    source: SourceEngine,
    lake: Engine,
    columns: list[Column],
    cutoff: Any,
) -> dict[str, Any]:
    """The schema and count comparison of one table (no exceptions for expected mismatches)."""
    mapped = map_columns(spec, columns, project.mappings[spec.source_table])
    source_scope = Scope(spec.source_table, where=spec.where)
    date_column = next(
        (c for c in columns if spec.date_column and c.name.lower() == spec.date_column.lower()),
        None,
    )
    entry: dict[str, Any] = {
        "source_rows": _source_rows(source, source_scope, spec),
        "dropped_columns": mapped.dropped,
    }
    source_periods = (
        source.period_counts(source_scope, date_column, spec.period) if date_column else {}
    )
    entry["warnings"] = source.fit_warnings(source_scope, [m.source for m in mapped.mapped])
    for warning in entry["warnings"]:
        logger.warning("{}", warning)  # each names the table and column
    if not lake.table_exists(spec.target_table):
        entry["status"] = "not_migrated"
        entry["reason"] = "the target table does not exist in the lake yet"
        entry["target_rows"] = None
        entry["columns"] = [
            {
                "source": m.source.name,
                "target": m.target_name,
                "source_type": m.source.native_type,
                "logical_type": str(m.source.logical),
                "target_type": None,
                "status": "not_migrated",
            }
            for m in mapped.mapped
        ]
        entry["period_counts"] = _period_rows(source_periods, None)
        entry["mismatches"] = []
        return entry
    target_columns = {c.name.lower(): c for c in lake.columns(spec.target_table)}
    mismatches: list[str] = []
    rows = []
    for m in mapped.mapped:
        target = target_columns.get(m.target_name.lower())
        row = {
            "source": m.source.name,
            "target": m.target_name,
            "source_type": m.source.native_type,
            "logical_type": str(m.source.logical),
            "target_type": str(target.logical) if target else None,
        }
        if target is None:
            row["status"] = "only_in_source"
            mismatches.append(f"column {m.source.name} -> {m.target_name} is missing in the lake")
        elif problem := compatibility(m.source.logical, target.logical):
            row["status"] = "type_mismatch"
            row["note"] = problem
            mismatches.append(f"column {m.source.name}: {problem}")
        else:
            row["status"] = "ok"
        rows.append(row)
    expected = {m.target_name.lower() for m in mapped.mapped} | set(METADATA_COLUMNS)
    for name, target in target_columns.items():
        if name not in expected:
            rows.append(
                {
                    "source": None,
                    "target": target.name,
                    "source_type": None,
                    "logical_type": None,
                    "target_type": str(target.logical),
                    "status": "only_in_target",
                }
            )
            mismatches.append(f"column {target.name} exists only in the lake")
    lake_scope = Scope(spec.target_table, cutoff=cutoff)
    entry["target_rows"] = lake.row_count(lake_scope)
    if entry["target_rows"] != entry["source_rows"]:
        mismatches.append(
            f"row count differs: source {entry['source_rows']}, lake {entry['target_rows']}"
        )
    date_mapped = mapped.by_source(date_column.name) if date_column is not None else None
    lake_date = target_columns.get(date_mapped.target_name.lower()) if date_mapped else None
    if date_column is not None and lake_date is None:
        # Counting the lake's periods needs the column there: without it every period would
        # read as empty in the lake, a false alarm.
        entry["period_counts"] = []
        why = (
            "mapped to null in the column mappings"
            if date_mapped is None
            else f"no column {date_mapped.target_name} in the lake table"
        )
        warning = (
            f"{spec.source_table}.{date_column.name}: the date column is not in the lake "
            f"({why}), so row counts per period are not compared"
        )
        entry["warnings"].append(warning)
        logger.warning("{}", warning)
    elif date_column is not None and lake_date is not None:
        lake_periods = lake.period_counts(lake_scope, lake_date, spec.period)
        entry["period_counts"] = _period_rows(source_periods, lake_periods)
        bad = [p["period"] for p in entry["period_counts"] if not p["match"]]
        if bad:
            mismatches.append(
                f"row counts differ in {len(bad)} period(s): {', '.join(str(p) for p in bad[:10])}"
            )
    else:
        entry["period_counts"] = []
    entry["columns"] = rows
    entry["mismatches"] = mismatches
    entry["status"] = "mismatch" if mismatches else "match"
    return entry


def analyze(project: Project) -> list[TableOutcome]:
    """Run the analysis over the inventory and write its three artifacts."""
    started = now_utc()
    source = connect_source(project.source.url, project.migration)
    storage = open_lake(project.migration)
    lake = connect_lake_engine(storage, project.migration)
    compare_timestamps_at_common_precision(source, lake)  # period counts of rounded timestamps
    try:
        found = preflight(project, source)
        uploads = uploads_by_table(project.output)
        tables: list[dict[str, Any]] = []
        for spec in progress_over(project.tables, "analyze", lambda s: s.source_table):
            base = {
                "source_table": spec.source_table,
                "target_table": spec.target_table,
                "enabled": spec.enabled,
                "date_column": spec.date_column,
                "key_columns": list(spec.key_columns),
                "period": spec.period.value,
                "where": spec.where,
            }
            if not spec.enabled:
                tables.append({**base, "status": "disabled", "reason": "disabled in the inventory"})
                continue
            if spec.source_table not in found:
                missing = source.capabilities.missing_source_table
                logger.warning("{}: {}; skipped", spec.source_table, missing)
                tables.append({**base, "status": "skipped", "reason": missing})
                continue
            upload = uploads.get(spec.target_table)
            cutoff = datetime.fromisoformat(upload[0]["cutoff"]) if upload else None
            columns = found[spec.source_table]
            progress_logger(TABLE).info("{}: analyze started", spec.source_table)
            try:
                if isinstance(columns, TerminalError):
                    raise columns
                entry = analyze_table(spec, project, source, lake, columns, cutoff)
            except LakeshiftError as error:
                logger.error("{}", _naming(spec.source_table, error))
                entry = {"status": "error", "reason": redact(str(error))}
            except Exception as error:  # a defect fails its table, and the artifacts are written
                logger.opt(exception=error).error(
                    "{}: analyze failed unexpectedly", spec.source_table
                )
                reason = f"internal error ({type(error).__name__}: {error}); see lakeshift.log"
                entry = {"status": "error", "reason": redact(reason)}
            tables.append({**base, **entry})
            progress_logger(TABLE).info(
                "{}: analyze {} ({} source rows)",
                spec.source_table,
                entry["status"],
                entry.get("source_rows"),
            )
        content = {
            "step": "analyze",
            "created_at": started,
            "config_meta": str(project.meta_path),
            # from the output folder: a copied or moved project finds its own config
            "config_meta_relative": os.path.relpath(project.meta_path, project.output.resolve()),
            "source": display_url(project.source.url),
            "lake": storage.display_root(),
            "tables": tables,
        }
        folder = project.output
        write_json(folder / ANALYSIS_JSON, content)
        write_pickle(folder / ANALYSIS_PICKLE, content)
        _write_csv(folder / project.meta.output.csv_path, tables)
        return [TableOutcome.from_entry(t) for t in tables]
    finally:
        source.close()
        lake.close()


def _write_csv(path: Path, tables: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)  # csv.path may name a folder of its own
    with path.open("w", newline="", encoding="utf-8") as handle:
        # lines end in \n, as the original scripts' pandas wrote them (csv's default is \r\n)
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for table in tables:
            columns = table.get("columns", [])
            writer.writerow(
                {
                    "source_table": table["source_table"],
                    "target_table": table["target_table"],
                    "status": table["status"],
                    "source_rows": table.get("source_rows", ""),
                    "target_rows": table.get("target_rows", ""),
                    "columns_only_in_source": ";".join(
                        c["source"] for c in columns if c["status"] == "only_in_source"
                    ),
                    "columns_only_in_target": ";".join(
                        c["target"] for c in columns if c["status"] == "only_in_target"
                    ),
                    "type_mismatches": ";".join(
                        c["source"] for c in columns if c["status"] == "type_mismatch"
                    ),
                    # counted only where both sides' periods were: blank, not 0, elsewhere
                    "period_mismatches": sum(
                        1 for p in table.get("period_counts", []) if not p["match"]
                    )
                    if table["status"] in ("match", "mismatch")
                    else "",
                    "reason": table.get("reason") or "; ".join(table.get("mismatches", [])),
                }
            )
