"""Log sinks: a traceback in the log file never shows a secret held in a variable; the log file
is where the output folder says, braces and all."""

from __future__ import annotations

import uuid
from pathlib import Path

from loguru import logger

from lakeshift.logs import configure_console, log_to_folder
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
