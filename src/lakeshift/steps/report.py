"""Step 5, report: render `report.html`, the page a person reads to sign a migration off.

Reads the other steps' artifacts from the output folder; an artifact that does not exist yet is
shown as "not run" and one that cannot be read as "unreadable", never as a failure of this step.
The page holds nothing but what the artifacts hold (they are already redacted).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loguru import logger

from lakeshift.artifacts import (
    ALIGNMENT_JSON,
    ANALYSIS_JSON,
    ANALYSIS_PICKLE,
    UPLOAD_METADATA_GLOB,
    now_utc,
    read_analysis,
    read_json,
    stats_comparison_name,
    uploads_by_table,
)
from lakeshift.errors import ConfigError
from lakeshift.project import Project
from lakeshift.redaction import redact
from lakeshift.report.assemble import Artifacts, assemble
from lakeshift.report.model import ArtifactState
from lakeshift.report.page import render_page

REPORT_HTML = "report.html"
STATS_GLOB = stats_comparison_name("*")

Entry = dict[str, Any]


def _read(path: Path, step: str, states: list[ArtifactState]) -> Entry | None:
    try:
        content = read_analysis(path) if path.suffix == ".pkl" else read_json(path)
    except ConfigError as error:
        states.append(ArtifactState(path.name, step, "unreadable", str(error)))
        return None
    tables = len(content.get("tables", [])) if "tables" in content else None
    detail = f"written {content.get('created_at') or content.get('finished_at') or '?'}"
    states.append(ArtifactState(path.name, step, "read", detail + _tables(tables)))
    return content


def _tables(count: int | None) -> str:
    return "" if count is None else f", {count} table{'' if count == 1 else 's'}"


def _read_analysis(folder: Path, states: list[ArtifactState]) -> Entry | None:
    for name in (ANALYSIS_JSON, ANALYSIS_PICKLE):
        if (folder / name).is_file():
            return _read(folder / name, "analyze", states)
    states.append(ArtifactState(ANALYSIS_JSON, "analyze", "not run"))
    return None


def _read_uploads(
    folder: Path, states: list[ArtifactState]
) -> tuple[dict[str, tuple[Entry, Entry]], dict[str, tuple[Entry, Entry]]]:
    """(latest successful upload per table, latest upload entry of any status per table)."""
    attempts: dict[str, tuple[Entry, Entry]] = {}
    succeeded: dict[str, tuple[Entry, Entry]] = {}
    paths = sorted(folder.glob(UPLOAD_METADATA_GLOB))
    for path in paths:
        try:
            metadata = read_json(path)
        except ConfigError as error:
            states.append(ArtifactState(path.name, "upload", "unreadable", str(error)))
            continue
        entries = metadata.get("tables", [])
        for entry in entries:
            attempts[entry["target_table"]] = (metadata, entry)
            if entry.get("status") == "uploaded":
                succeeded[entry["target_table"]] = (metadata, entry)
        uploaded = sum(1 for e in entries if e.get("status") == "uploaded")
        detail = f"batch {metadata.get('batch_id')}, cutoff {metadata.get('cutoff')}, {uploaded} of {len(entries)} tables uploaded"
        states.append(ArtifactState(path.name, "upload", "read", detail))
    if not paths:
        states.append(ArtifactState(UPLOAD_METADATA_GLOB, "upload", "not run"))
    try:
        return uploads_by_table(folder), attempts
    except ConfigError:  # an unreadable file is already listed; use the files that could be read
        return succeeded, attempts


def _read_stats(folder: Path, states: list[ArtifactState]) -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for path in sorted(folder.glob(STATS_GLOB)):
        try:
            content = read_json(path)
        except ConfigError as error:
            states.append(ArtifactState(path.name, "compare", "unreadable", str(error)))
            continue
        found[content.get("target_table") or path.name.removesuffix(STATS_GLOB[1:])] = content
    if found:
        detail = f"{len(found)} table{'' if len(found) == 1 else 's'}: {', '.join(sorted(found))}"
        states.append(ArtifactState(STATS_GLOB, "compare", "read", detail))
    elif not any(s.step == "compare" for s in states):
        states.append(ArtifactState(STATS_GLOB, "compare", "not run"))
    return found


def read_artifacts(folder: Path, inventory: Iterable[tuple[str, str]] = ()) -> Artifacts:
    """Every artifact in `folder`, read; `inventory` lists (source, target) tables to show even
    when no artifact names them yet."""
    states: list[ArtifactState] = []
    analysis = _read_analysis(folder, states)
    uploads, attempts = _read_uploads(folder, states)
    stats = _read_stats(folder, states)
    alignment = None
    if (folder / ALIGNMENT_JSON).is_file():
        alignment = _read(folder / ALIGNMENT_JSON, "align", states)
    else:
        states.append(ArtifactState(ALIGNMENT_JSON, "align", "not run"))
    return Artifacts(analysis, uploads, attempts, stats, alignment, states, list(inventory))


def render_report(folder: Path | str, inventory: Iterable[tuple[str, str]] = ()) -> str:
    """The report of the artifacts in `folder`, as one self-contained HTML document."""
    generated = now_utc().isoformat(timespec="seconds")
    # The artifacts are redacted when written; masking again costs nothing and covers old ones.
    return redact(render_page(assemble(read_artifacts(Path(folder), inventory), generated)))


def write_report(project: Project) -> Path:
    """Write `report.html` into the project's output folder from the artifacts there.

    >>> write_report(load_project("config_meta.cfg"))  # doctest: +SKIP
    PosixPath('output/report.html')
    """
    folder = project.output
    inventory = [(spec.source_table, spec.target_table) for spec in project.tables]
    path = folder / REPORT_HTML
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(render_report(folder, inventory), encoding="utf-8")
    temporary.replace(path)
    logger.info("report written: {}", path)
    return path
