"""Walking the uploaded tables: a table the source cannot name fails alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from lakeshift.errors import TerminalError, TransientError
from lakeshift.project import load_project
from lakeshift.steps.session import Engines, each_uploaded_table

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
