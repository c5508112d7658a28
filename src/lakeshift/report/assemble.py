"""Build the report's model from the artifacts' plain dicts, one table at a time.

A table's status comes from the most downstream step that looked at it: align's verdict when it
ran, otherwise a mismatch or failure an earlier step found, otherwise `not_run`. Nothing is
invented: every number on the page is one an artifact recorded, and the page says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lakeshift.report.findings import column_exclusion, period_exclusion, period_label, samples_of
from lakeshift.report.model import (
    LEVELS,
    ArtifactState,
    Level,
    Report,
    StatRow,
    TableReport,
    UploadInfo,
    worst_first,
)
from lakeshift.report.periods import period_counts

Entry = dict[str, Any]
KNOWN_STATUSES = {"match", "mismatch", "skipped", "disabled", "error"}
ANALYSIS_SAW_LAKE = {"match", "mismatch"}


@dataclass
class Artifacts:
    """The artifacts of one output folder, read; a step that has not run is None or empty."""

    analysis: Entry | None = None
    uploads: dict[str, tuple[Entry, Entry]] = field(default_factory=dict)
    upload_attempts: dict[str, tuple[Entry, Entry]] = field(default_factory=dict)
    stats: dict[str, Entry] = field(default_factory=dict)
    alignment: Entry | None = None
    states: list[ArtifactState] = field(default_factory=list)
    inventory: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class TableArtifacts:
    """Everything the artifacts say about one target table."""

    analysis: Entry | None = None
    upload: tuple[Entry, Entry] | None = None
    attempt: tuple[Entry, Entry] | None = None
    stats: Entry | None = None
    align: Entry | None = None
    aligned_at: str | None = None  # when the align run that wrote `align` started


def _by_target(document: Entry | None) -> dict[str, Entry]:
    return {t["target_table"]: t for t in (document or {}).get("tables", []) if "target_table" in t}


def assemble(artifacts: Artifacts, generated_at: str = "") -> Report:
    """The report of every table any artifact (or the inventory) names, worst first."""
    analysis = _by_target(artifacts.analysis)
    alignment = _by_target(artifacts.alignment)
    names: dict[str, str] = {}
    for source, target in artifacts.inventory:
        names.setdefault(target, source)
    for entries in (analysis, alignment):
        for target, entry in entries.items():
            names.setdefault(target, entry.get("source_table", target))
    for target, (_, entry) in {**artifacts.upload_attempts, **artifacts.uploads}.items():
        names.setdefault(target, entry.get("source_table", target))
    for target, entry in artifacts.stats.items():
        names.setdefault(target, entry.get("source_table", target))
    tables = [
        table_report(
            source,
            target,
            TableArtifacts(
                analysis.get(target),
                artifacts.uploads.get(target),
                artifacts.upload_attempts.get(target),
                artifacts.stats.get(target),
                alignment.get(target),
                (artifacts.alignment or {}).get("created_at"),
            ),
        )
        for target, source in names.items()
    ]
    meta = artifacts.analysis or {}
    return Report(
        worst_first(tables),
        artifacts.states,
        source=meta.get("source"),
        lake=meta.get("lake"),
        generated_at=generated_at,
    )


def table_report(source_table: str, target_table: str, found: TableArtifacts) -> TableReport:
    """One table's section of the report, from what each step recorded about it."""
    status, reason = table_status(found)
    report = TableReport(source_table, target_table, status, reason)
    report.problems = _problems(found)
    report.notes = _stale_notes(found)
    report.source_rows, report.target_rows = _rows(found)
    report.upload = _upload_info(found.upload)
    report.source_cutoff_method = (found.align or found.stats or {}).get("source_cutoff_method")
    report.levels = table_levels(found)
    report.statistics, report.statistics_note = _statistics(found)
    report.periods, report.periods_note = period_counts(
        found.analysis, found.upload, found.align, saw_lake=_analysis_saw_lake(found.analysis)
    )
    align = found.align or {}
    report.columns_excluded = [column_exclusion(c) for c in align.get("columns_excluded", [])]
    report.periods_excluded = [period_exclusion(p) for p in align.get("periods_excluded", [])]
    report.values = align.get("values") or {}
    report.columns_compared = list(align.get("columns_compared") or [])
    report.columns_dropped_by_mapping = list(align.get("columns_dropped_by_mapping") or [])
    report.precision = align.get("precision") or {}
    report.samples = samples_of(align)
    return report


def _analysis_saw_lake(entry: Entry | None) -> bool:
    """Whether analyze counted the lake side (it ran after the upload)."""
    return entry is not None and entry.get("status") in ANALYSIS_SAW_LAKE and "target_rows" in entry


def table_status(found: TableArtifacts) -> tuple[str, str]:
    """(status, reason) of a table: align's verdict, else what an earlier step found."""
    attempt = found.attempt[1] if found.attempt else None
    upload_failed = attempt is not None and attempt.get("status") == "failed"
    failure = f"upload failed: {attempt.get('reason', '')}".strip() if attempt else ""
    if found.align is not None:
        status = found.align.get("status", "error")
        if status == "skipped" and upload_failed and found.upload is None:
            return "error", failure
        verified, latest = found.align.get("batch_id"), _latest_batch(found)
        attempted = found.attempt[0].get("batch_id") if found.attempt else None
        if status == "match" and upload_failed and attempted and attempted != verified:
            # A failed upload may have registered some of its slices: the lake is no longer
            # what align read, and readers see those rows.
            return "error", (
                f"{failure}; align verified batch {verified}, before that upload: rerun upload, "
                "compare and align"
            )
        if status in {"match", "mismatch"} and verified and latest and verified != latest:
            # The lake now holds a later upload, which align never read: nothing is proven.
            return "not_run", (
                f"align verified batch {verified}, but the latest upload is batch {latest}: "
                "rerun compare and align"
            )
        if status == "match" and (since := _mismatch_since_align(found)) is not None:
            return "mismatch", since
        reason = found.align.get("reason") or "; ".join(found.align.get("mismatches") or [])
        return (status if status in KNOWN_STATUSES else "error"), reason
    for entry in (found.stats, found.analysis):
        if entry and entry.get("status") in {"disabled", "skipped", "error"}:
            return entry["status"], entry.get("reason", "")
    if upload_failed and found.upload is None:
        return "error", failure
    if attempt and attempt.get("status") in {"disabled", "skipped"} and found.upload is None:
        return attempt["status"], attempt.get("reason", "")
    earlier = [e for e in (found.stats, found.analysis) if e and e.get("status") == "mismatch"]
    if earlier and (found.stats is not None or _analysis_saw_lake(found.analysis)):
        lines = "; ".join(earlier[0].get("mismatches") or []) or "an earlier step found differences"
        return "mismatch", f"{lines} (align has not run)"
    if found.upload is None:
        return "not_run", "not uploaded yet: run upload, compare and align"
    if found.stats is None:
        return "not_run", "compare and align have not run for this table"
    return "not_run", "align has not run for this table"


def _moment(text: Any) -> datetime | None:
    """An artifact's time; one written without a zone (by hand) is read as UTC."""
    try:
        moment = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _mismatch_since_align(found: TableArtifacts) -> str | None:
    """What compare found wrong, where it ran after align on the batch align verified: the lake
    or the source changed after align's match, which then proves nothing about them now.

    Unknown (None) where either run's start was not recorded (compare recorded none before)."""
    stats, align = found.stats or {}, found.align or {}
    if stats.get("status") != "mismatch" or stats.get("batch_id") != align.get("batch_id"):
        return None
    compared, aligned = _moment(stats.get("created_at")), _moment(found.aligned_at)
    if compared is None or aligned is None or compared <= aligned:
        return None
    lines = "; ".join(stats.get("mismatches") or []) or "statistics differ"
    return (
        f"compare, run after align's match on batch {align.get('batch_id')}, found: {lines}; "
        "the lake or the source changed since: rerun align"
    )


def table_levels(found: TableArtifacts) -> list[Level]:
    """The four levels: align's when it ran, otherwise what analyze and compare recorded; a
    compare run since align's match that found differences fails the levels it checks."""
    recorded = (found.align or {}).get("levels")
    if isinstance(recorded, dict):
        levels = [
            Level(
                n, "not_run" if n not in recorded else ("pass" if recorded[n] else "fail"), "align"
            )
            for n in LEVELS
        ]
        if _mismatch_since_align(found) is None:
            return levels
        stats = found.stats or {}
        rows = stats.get("rows") or {}
        failed = {
            "schema": bool(
                stats.get("columns_missing_in_lake")
                or stats.get("columns_only_in_lake")
                or stats.get("type_mismatches")
            ),
            "counts": rows.get("source") != rows.get("target")
            or bool(stats.get("rows_after_cutoff")),
            "statistics": not all(c.get("match") for c in stats.get("columns") or []),
        }
        return [
            Level(level.name, "fail", "compare") if failed.get(level.name) else level
            for level in levels
        ]
    analysis = found.analysis if _analysis_saw_lake(found.analysis) else None
    states: dict[str, Level] = {}
    if analysis is not None:
        columns_ok = all(c.get("status") == "ok" for c in analysis.get("columns", []))
        counts_ok = analysis.get("source_rows") == analysis.get("target_rows") and all(
            p.get("match") for p in analysis.get("period_counts", [])
        )
        states["schema"] = Level("schema", "pass" if columns_ok else "fail", "analyze")
        states["counts"] = Level("counts", "pass" if counts_ok else "fail", "analyze")
    if found.stats is not None and found.stats.get("columns") is not None:
        columns_ok = all(c.get("match") for c in found.stats["columns"])
        states["statistics"] = Level("statistics", "pass" if columns_ok else "fail", "compare")
    return [states.get(n, Level(n, "not_run", "")) for n in LEVELS]


def _problems(found: TableArtifacts) -> list[str]:
    first = (
        (found.stats, found.align) if _mismatch_since_align(found) else (found.align, found.stats)
    )
    for entry in (*first, found.analysis):
        if entry and entry.get("mismatches"):
            return [str(line) for line in entry["mismatches"]]
    return []


def _latest_batch(found: TableArtifacts) -> str | None:
    return found.upload[0].get("batch_id") if found.upload else None


def _stale_notes(found: TableArtifacts) -> list[str]:
    batch = _latest_batch(found)
    notes = []
    for step, entry in (("compare", found.stats), ("align", found.align)):
        recorded = (entry or {}).get("batch_id")
        if recorded and batch and recorded != batch:
            notes.append(
                f"{step} results are for batch {recorded}, but the latest upload is batch {batch}: rerun {step}"
            )
    return notes


def _rows(found: TableArtifacts) -> tuple[int | None, int | None]:
    rows = (found.stats or {}).get("rows") or {}
    source, target = rows.get("source"), rows.get("target")
    if source is None and found.analysis:
        source = found.analysis.get("source_rows")
    if target is None and _analysis_saw_lake(found.analysis):
        target = (found.analysis or {}).get("target_rows")
    if target is None and found.upload is not None:
        target = found.upload[1].get("rows")
    return source, target


def _upload_info(upload: tuple[Entry, Entry] | None) -> UploadInfo | None:
    if upload is None:
        return None
    metadata, entry = upload
    snapshot = entry.get("snapshot") or {}
    kind = snapshot.get("kind")
    token = snapshot.get("token")
    return UploadInfo(
        batch_id=str(metadata.get("batch_id", "")),
        cutoff=metadata.get("cutoff"),
        uploaded_at=entry.get("uploaded_at"),
        partition_strategy=entry.get("partition_strategy", metadata.get("partition_strategy")),
        snapshot=f"{kind} {token}" if kind and token else kind,
        files=entry.get("files"),
        bytes=entry.get("bytes"),
        seconds=entry.get("seconds"),
    )


def _statistics(found: TableArtifacts) -> tuple[list[StatRow], str]:
    if found.stats is not None and found.stats.get("columns") is not None:
        rows = [_stat_row(c, tuple(c.get("differences") or ())) for c in found.stats["columns"]]
        return rows, f"compare, batch {found.stats.get('batch_id', '?')}" + _recomputed(found.align)
    excluded = (found.align or {}).get("columns_excluded") or []
    if excluded:
        rows = [_stat_row(c, _differences_from_reason(c.get("reason", ""))) for c in excluded]
        return rows, "compare has not run; the columns align excluded are shown"
    return [], "compare has not run for this table"


def _recomputed(align: Entry | None) -> str:
    """What align found on the statistics after excluding periods, when it recomputed them."""
    periods = [period_label(p.get("period")) for p in (align or {}).get("periods_excluded") or []]
    if not align or align.get("statistics_from") != "computed" or not periods:
        return ""
    columns = [str(c.get("column")) for c in align.get("columns_excluded") or []]
    differ = f"only {', '.join(columns)} still differ" if columns else "every column is equal"
    return (
        f", over all rows; without period {', '.join(periods)} align recomputed them and found"
        f" that {differ} (the other differences here come from the excluded periods' rows)"
    )


def _stat_row(column: Entry, differences: tuple[str, ...]) -> StatRow:
    return StatRow(
        column=str(column.get("column", "")),
        target_column=str(column.get("target_column", column.get("column", ""))),
        type=str(column.get("type", "")),
        match=bool(column.get("match", not differences)),
        differences=differences,
        source=column.get("source") or {},
        target=column.get("target") or {},
    )


def _differences_from_reason(reason: str) -> tuple[str, ...]:
    _, _, names = reason.partition(": ")
    return tuple(n.strip() for n in names.split(",") if n.strip())
