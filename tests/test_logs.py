"""Log sinks: a traceback in the log file never shows a secret held in a variable; the log file
is where the output folder says, braces and all."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from loguru import logger

from lakeshift.logs import ROWS, TABLE, configure_console, log_to_folder, progress_logger
from lakeshift.redaction import register_secret


def _connect(url: str) -> None:
    password = url.rpartition(":")[2]
    raise ConnectionError("refused", len(password))


def test_a_logged_traceback_does_not_print_the_values_of_variables(tmp_path: Path) -> None:
    """loguru's `diagnose` would annotate each frame with its variables' values, which the
    redacting patcher never sees: a password held in a local variable would reach the file."""
    secret = f"pw-{uuid.uuid4().hex}"
    register_secret(secret)
    configure_console()
    path = log_to_folder(tmp_path)
    url = f"oracle://scott:{secret}"
    try:
        _connect(url)
    except ConnectionError:
        logger.exception("connecting failed")
    finally:
        configure_console()
    text = path.read_text(encoding="utf-8")
    assert "connecting failed" in text and "ConnectionError" in text
    assert secret not in text


def test_the_log_file_path_is_taken_literally_braces_and_all(tmp_path: Path) -> None:
    """loguru formats a file sink's path: `${HOME}/out` failed with KeyError: 'HOME'."""
    configure_console()
    folder = tmp_path / "${HOME}" / "{time}"
    try:
        path = log_to_folder(folder)
        logger.info("written")
    finally:
        configure_console()
    assert path == folder.resolve() / "lakeshift.log"
    assert "written" in path.read_text(encoding="utf-8")


class _Stream(io.StringIO):
    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def _console(verbosity: int, terminal: bool) -> str:
    stream = _Stream(terminal)
    configure_console(verbosity, stream)
    try:
        progress_logger(TABLE).info("main.t: upload started")
        progress_logger(ROWS).info("upload t: 1,000 rows written")
        logger.info("t all: 1000 rows")
        logger.warning("a warning")
    finally:
        configure_console()
    return stream.getvalue()


def test_without_a_terminal_tables_starting_show_by_default_and_rows_with_v() -> None:
    """No terminal, no bars: a run from cron or CI still says which table it is on."""
    quiet = _console(0, terminal=False)
    assert "main.t: upload started" in quiet and "a warning" in quiet
    assert "rows written" not in quiet and "1000 rows" not in quiet
    verbose = _console(1, terminal=False)
    assert all(line in verbose for line in ("upload started", "rows written", "1000 rows"))


def test_on_a_terminal_the_bars_show_progress_and_the_lines_do_not() -> None:
    quiet = _console(0, terminal=True)
    assert "upload started" not in quiet and "rows written" not in quiet
    assert "a warning" in quiet
    verbose = _console(2, terminal=True)
    assert "upload started" in verbose and "1000 rows" in verbose
    assert "rows written" not in verbose


def test_progress_lines_reach_the_log_file_whatever_the_console(tmp_path: Path) -> None:
    configure_console(0, _Stream(terminal=True))
    try:
        path = log_to_folder(tmp_path)
        progress_logger(ROWS).info("upload t: 1,000 rows written")
    finally:
        configure_console()
    assert "1,000 rows written" in path.read_text(encoding="utf-8")


def test_a_long_list_in_a_message_shows_its_first_five_and_how_many_more() -> None:
    from lakeshift.logs import first_few

    assert first_few(["a", "b"]) == "a, b"
    assert first_few([str(i) for i in range(7)]) == "0, 1, 2, 3, 4 and 2 more"
