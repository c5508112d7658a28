"""Walking the uploaded tables: a table the source cannot name fails alone; each table says when
it starts and ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.errors import TerminalError, TransientError
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.session import Engines, each_uploaded_table
from lakeshift.steps.upload import upload

AMBIGUOUS = 'main.b: several tables match ignoring case (main."B", main."b")'


class NamingSource:
    """A source where `main.b` matches several tables."""

    def table_exists(self, table: str) -> bool:
        if table == "main.b":
            raise TerminalError(AMBIGUOUS)
        return True


def test_a_name_the_source_cannot_resolve_fails_its_table_and_the_others_go_on(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.b"}, {"source_table": "main.a"}],
    )
    engines = Engines(cast(Any, NamingSource()), cast(Any, None), cast(Any, None))
    entries = each_uploaded_table(load_project(meta), engines, "compare", lambda pair: {})
    by_table = {e["source_table"]: e for e in entries}
    assert by_table["main.b"]["status"] == "error" and by_table["main.b"]["reason"] == AMBIGUOUS
    assert by_table["main.a"]["status"] == "skipped"  # not uploaded: looked at all the same


class DroppedSource:
    """A source whose connection drops while the first table is looked up."""

    def table_exists(self, table: str) -> bool:
        raise TransientError("connection to PostgreSQL lost: server closed the connection")


def test_a_connection_lost_while_naming_a_table_stops_the_step(
    tmp_path: Path, make_project: Any
) -> None:
    """Only a name the source cannot resolve fails its table alone: a lost connection would
    fail every table in turn, each recorded as an error, instead of the run saying to retry."""
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.b"}, {"source_table": "main.a"}],
    )
    engines = Engines(cast(Any, DroppedSource()), cast(Any, None), cast(Any, None))
    with pytest.raises(TransientError, match="server closed the connection"):
        each_uploaded_table(load_project(meta), engines, "compare", lambda pair: {})


def test_compare_and_align_say_when_each_table_and_each_long_pass_starts(
    dated_project: Any,
) -> None:
    """compare and align logged a table only when it ended: a 1M-row table was seconds of
    silence, with no line naming it."""
    project = load_project(dated_project(200))
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    logged: list[tuple[str | None, str]] = []
    sink = logger.add(
        lambda m: logged.append((m.record["extra"].get("progress"), m.record["message"])),
        level="INFO",
        filter=lambda record: record["message"].startswith("main.t: "),
    )
    try:
        compare(project)
        align(project)
    finally:
        logger.remove(sink)
    assert logged[:2] == [
        ("table", "main.t: compare with test.t started"),
        ("table", "main.t: compare match"),
    ]
    assert logged[2:] == [
        ("table", "main.t: align with test.t started"),
        (None, "main.t: align counting rows per period on both sides"),
        (
            None,
            "main.t: align values of 3 column(s) in 2 bucket(s) a period: "
            "pass 1, a count and checksum per group, one scan a side",
        ),
        ("table", "main.t: align match"),
    ]
