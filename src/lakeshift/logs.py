"""Logging: loguru to the console and to a log file in the output folder, secrets redacted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from loguru import logger

from lakeshift.redaction import redact

LOG_FILE = "lakeshift.log"
_file_sinks: dict[Path, int] = {}


def _redact_record(record: Any) -> None:
    record["message"] = redact(record["message"])
    if record["exception"] is not None:
        value = record["exception"].value
        if value is not None:
            value.args = tuple(redact(str(a)) if isinstance(a, str) else a for a in value.args)


def configure_console(verbosity: int = 0) -> None:
    """Console logging: warnings by default, INFO with -v, DEBUG with -vv."""
    level = {0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")
    logger.remove()
    _file_sinks.clear()
    logger.configure(patcher=_redact_record)
    # diagnose=False: loguru would annotate a traceback's frames with their variables' values,
    # which the redacting patcher never sees (a password in a local variable).
    logger.add(
        sys.stderr,
        level=level,
        format="<level>{level: <8}</level> {message}",
        colorize=None,
        diagnose=False,
    )


def log_to_folder(folder: Path) -> Path:
    """Also log everything (DEBUG and up) to `lakeshift.log` in the output folder."""
    path = folder.resolve() / LOG_FILE
    if path not in _file_sinks:
        folder.mkdir(parents=True, exist_ok=True)
        _file_sinks[path] = logger.add(
            # loguru formats a file sink's path ({time}): a brace of the folder's is doubled
            str(path).replace("{", "{{").replace("}", "}}"),
            level="DEBUG",
            format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {message}",
            encoding="utf-8",
            diagnose=False,
        )
    return path
