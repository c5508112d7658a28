"""Step 4, align: exclude what statistics and counts already condemn, prove the rest value by value.

Per table: periods whose row counts differ are excluded; then, on the remaining periods, columns
whose statistics differ are excluded; every remaining row is compared with the bucketed row-hash
diff. Excluded columns and periods are then localized (which keys, which values) from samples.
Writes `data_alignment_results.json` into the output folder.
"""

from __future__ import annotations

import time
from typing import Any

from loguru import logger

from lakeshift.artifacts import ALIGNMENT_JSON, now_utc, write_json
from lakeshift.engines.base import RowPlan
from lakeshift.project import Project
from lakeshift.steps.compare import column_statistics, recorded_statistics
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.pairing import ColumnPair, TablePair
from lakeshift.steps.session import Engines, each_uploaded_table, open_engines, scanned_since
from lakeshift.verify.canonical import FLOAT_PRECISION
from lakeshift.verify.diff import DiffResult, Side, bucket_diff

LOCALIZE_GROUPS = 16  # pass-2 groups read to sample an excluded column or period


ROWS_PER_BUCKET = 64  # small groups keep pass 2 cheap when a few scattered rows differ


def bucket_count(configured_minimum: int, largest_period_rows: int) -> int:
    """Buckets per period: about `ROWS_PER_BUCKET` rows each, never fewer than configured."""
    return max(configured_minimum, min(1_000_000, -(-largest_period_rows // ROWS_PER_BUCKET)))


def _plan(pair: TablePair, columns: list[ColumnPair], buckets: int) -> tuple[RowPlan, RowPlan]:
    keys = [k.lower() for k in pair.key_columns]
    positions = tuple(i for i, c in enumerate(columns) if c.source.name.lower() in keys)
    if len(positions) != len(keys):  # a key column is not compared: rows as a multiset
        compared = {c.source.name.lower() for c in columns}
        logger.warning(
            "{}: key column(s) {} not compared (mapped to null, missing from the lake, or of "
            "another type there): rows are compared as a multiset, and changed rows show as "
            "one missing and one extra",
            pair.spec.source_table,
            ", ".join(k for k in pair.key_columns if k.lower() not in compared),
        )
        positions = ()
    types = tuple(c.logical for c in columns)
    return (
        RowPlan(tuple(c.source for c in columns), types, positions, buckets),
        RowPlan(tuple(c.lake for c in columns), types, positions, buckets),
    )


def _diff(
    engines: Engines,
    pair: TablePair,
    columns: list[ColumnPair],
    project: Project,
    buckets: int,
    doing: str,
    **options: Any,
) -> DiffResult:
    source_plan, lake_plan = _plan(pair, columns, buckets)

    def on_pass(what: str) -> None:
        logger.info("{}: align {}: {}", pair.spec.source_table, doing, what)

    return bucket_diff(
        Side(engines.source, pair.source_scope, source_plan),
        Side(engines.lake, pair.lake_scope, lake_plan),
        max_samples=project.meta.verify.max_samples,
        on_pass=on_pass,
        **options,
    )


def _summary(diff: DiffResult) -> dict[str, Any]:
    return {
        "rows_source": diff.rows_source,
        "rows_target": diff.rows_target,
        "matched": diff.matched,
        "missing": diff.missing,
        "extra": diff.extra,
        "changed": diff.changed,
        "changed_by_column": dict(diff.changed_by_column),
        "changed_rows_detailed": diff.changed_detailed,
        "groups": diff.groups,
        "groups_mismatched": diff.groups_mismatched,
        "groups_read": diff.groups_read,
        "complete": diff.complete,
        "rows_not_read": {"source": diff.unread_source, "target": diff.unread_target},
        "samples": diff.samples,
    }


def align_table(pair: TablePair, engines: Engines, project: Project) -> dict[str, Any]:
    started = time.perf_counter()
    scanned_before = engines.lake.bytes_scanned
    spec = pair.spec
    excluded_periods: list[dict[str, Any]] = []
    largest_period = None
    if pair.source_scope.period_column is not None and pair.lake_scope.period_column is not None:
        logger.info("{}: align counting rows per period on both sides", spec.source_table)
        ours = engines.source.period_counts(
            pair.source_scope, pair.source_scope.period_column, spec.period
        )
        theirs = engines.lake.period_counts(
            pair.lake_scope, pair.lake_scope.period_column, spec.period
        )
        excluded_periods = [
            {"period": p, "source_rows": ours.get(p, 0), "target_rows": theirs.get(p, 0)}
            for p in sorted(set(ours) | set(theirs), key=lambda p: (p is None, p or ""))
            if ours.get(p, 0) != theirs.get(p, 0)
        ]
        largest_period = max([*ours.values(), *theirs.values()], default=0)
    if largest_period is None:  # the larger side: a lake holding many times the source's rows
        # sized by the source alone would be read in a few huge groups to localize a column
        logger.info("{}: align counting rows on both sides", spec.source_table)
        largest_period = max(
            engines.source.row_count(pair.source_scope), engines.lake.row_count(pair.lake_scope)
        )
    buckets = bucket_count(project.meta.verify.buckets, largest_period)
    aligned = pair.with_periods(excluded_periods=frozenset(p["period"] for p in excluded_periods))
    # Without excluded periods the statistics are those `compare` just recorded for this upload.
    stats = None if excluded_periods else recorded_statistics(project, pair)
    if stats is not None and not all(s["match"] for s in stats):
        stats = None  # a column is excluded only on statistics taken now (the lake may be repaired)
    statistics_from = "compare" if stats is not None else "computed"
    if stats is None:
        logger.info("{}: align computing column statistics on both sides", spec.source_table)
        tolerance = project.meta.verify.float_relative_tolerance
        stats, _, _ = column_statistics(aligned, engines.source, engines.lake, tolerance)
    keys = {k.lower() for k in pair.key_columns}
    excluded_names = {
        s["column"] for s in stats if not s["match"] and s["column"].lower() not in keys
    }
    compared = [c for c in pair.columns if c.source.name not in excluded_names]
    diff = _diff(
        engines,
        aligned,
        compared,
        project,
        buckets,
        f"values of {len(compared)} column(s) in {buckets} bucket(s) a period",
    )

    excluded_columns = []
    for column in pair.columns:
        if column.source.name not in excluded_names:
            continue
        column_stats = next(s for s in stats if s["column"] == column.source.name)
        key_columns = [c for c in pair.columns if c.source.name.lower() in keys]
        entry: dict[str, Any] = {
            "column": column.source.name,
            "target_column": column.lake.name,
            "reason": f"statistics differ: {', '.join(column_stats['differences'])}",
            "source": column_stats["source"],
            "target": column_stats["target"],
        }
        if key_columns:
            located = _diff(
                engines,
                aligned,
                [*key_columns, column],
                project,
                buckets,
                f"localizing column {column.source.name}",
                max_groups_read=LOCALIZE_GROUPS,
            )
            entry["localized"] = _summary(located)
        excluded_columns.append(entry)
    for period in excluded_periods:
        # Every column, excluded ones too: a value changed in a period whose count differs is
        # named here or nowhere (the columns' localizing diffs skip excluded periods).
        only = pair.with_periods(only_periods=frozenset({period["period"]}))
        located = _diff(
            engines,
            only,
            pair.columns,
            project,
            buckets,
            f"localizing period {period['period']}",
            max_groups_read=LOCALIZE_GROUPS,
        )
        period["reason"] = "row counts differ"
        period["localized"] = _summary(located)

    levels = {
        # A lake type that cannot hold the source's values fails here even if the values
        # compare equal: rendering both in one type could have rounded the difference away.
        "schema": pair.schema_matches,
        "counts": (
            not excluded_periods
            and diff.rows_source == diff.rows_target
            and not pair.rows_after_cutoff
        ),
        # Key columns are never excluded (rows are compared by them), but their statistics
        # count here: a key changed in the lake fails this level too.
        "statistics": all(s["match"] for s in stats),
        # Any mismatching group fails, even if pass 2 could not name a row (e.g. the source
        # changed between the scans): the listing may be partial, the verdict never is.
        "values": diff.groups_mismatched == 0,
    }
    return {
        "status": "match" if all(levels.values()) else "mismatch",
        "levels": levels,
        "statistics_from": statistics_from,
        "cutoff": pair.cutoff,
        "source_cutoff_method": pair.cutoff_method,
        "key_columns": pair.key_columns,
        "columns_compared": [c.source.name for c in compared],
        "columns_missing_in_lake": pair.missing_in_lake,
        "columns_only_in_lake": pair.only_in_lake,
        "columns_dropped_by_mapping": pair.dropped_by_mapping,
        "type_mismatches": pair.type_mismatches,
        "columns_excluded": excluded_columns,
        "periods_excluded": excluded_periods,
        "rows_compared": diff.rows_source,
        "rows_after_cutoff": pair.rows_after_cutoff,
        "buckets": buckets,
        "values": _summary(diff),
        "precision": _precision(engines, compared),
        "bytes_scanned": scanned_since(engines.lake, scanned_before),
        "seconds": round(time.perf_counter() - started, 3),
        "mismatches": _mismatch_lines(pair, excluded_columns, excluded_periods, diff),
    }


def _precision(engines: Engines, compared: list[ColumnPair]) -> dict[str, Any]:
    """What the values level proves; `conversions` names the columns read into the lake through a
    conversion (Oracle's FLOAT(126) kept as a double, say), which it compares as the lake keeps
    them: a source difference the conversion erases is not seen."""
    converted = {
        c.source.name: "; ".join(notes)
        for c in compared
        if (notes := engines.source.conversion_notes(c.source))
    }
    return {
        "timestamp": engines.lake.timestamps_at,
        "float": FLOAT_PRECISION,
        "decimal": "exact, at the column's scale",
        **({"conversions": converted} if converted else {}),
    }


def _mismatch_lines(
    pair: TablePair, columns: list[dict[str, Any]], periods: list[dict[str, Any]], diff: DiffResult
) -> list[str]:
    lines = pair.schema_problems() + pair.unseen_rows()
    lines += [f"column {c['column']}: {c['reason']}" for c in columns]
    lines += [
        f"period {p['period']}: source {p['source_rows']} rows, lake {p['target_rows']}"
        for p in periods
    ]
    if diff.differences or not diff.complete:
        counts = f"{diff.missing} missing, {diff.extra} extra, {diff.changed} changed rows"
        if not diff.complete:
            counts = (
                f"at least {counts} (in the {diff.groups_read} of {diff.groups_mismatched} "
                f"differing groups read; {diff.unread_source} source and {diff.unread_target} "
                "lake rows of the others not read)"
            )
        lines.append(f"values: {counts}")
    return lines


def align(project: Project) -> list[TableOutcome]:
    """Value-level comparison of every uploaded table; writes data_alignment_results.json."""
    started = now_utc()
    with open_engines(project) as engines:
        entries = each_uploaded_table(
            project, engines, "align", lambda pair: align_table(pair, engines, project)
        )
    write_json(
        project.output / ALIGNMENT_JSON,
        {
            "step": "align",
            "created_at": started,
            "finished_at": now_utc(),
            "buckets": project.meta.verify.buckets,
            "tables": entries,
            "settings": project.meta.verify.model_dump(),
        },
    )
    return [TableOutcome.from_entry(e) for e in entries]
