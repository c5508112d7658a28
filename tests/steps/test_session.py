"""Walking the uploaded tables: a table the source cannot name fails alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from lakeshift.errors import TerminalError
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
