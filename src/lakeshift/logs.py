"""Logging: loguru to the console and to a log file in the output folder, secrets redacted."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from lakeshift.redaction import redact

if TYPE_CHECKING:
    from loguru import Logger

LOG_FILE = "lakeshift.log"
_file_sinks: dict[Path, int] = {}

# Progress events carry `progress` in their extra: "table" when a table starts or ends, "rows"
# for a long table's rows so far. Without a terminal there are no progress bars: the table lines
# then show at the default verbosity too (a run from cron or CI still says where it is), and
# with a terminal the rows lines stay in the log file (the bar shows them).
TABLE = "table"
ROWS = "rows"


def first_few(items: Sequence[str], shown: int = 5) -> str:
    """The first `shown` of `items` for a message, then how many more.

    >>> first_few(["a", "b", "c"], 2)
    'a, b and 1 more'
    """
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def progress_logger(kind: str) -> Logger:
    """The logger for progress events of `kind` (`TABLE` or `ROWS`), logged at INFO."""
    return logger.bind(progress=kind)


def _console_filter(verbosity: int, terminal: bool) -> Callable[[Any], bool]:
    threshold = logger.level({0: "WARNING", 1: "INFO"}.get(verbosity, "DEBUG")).no

    def shown(record: Any) -> bool:
        kind = record["extra"].get("progress")
        if kind == ROWS and terminal:
            return False
        if kind == TABLE and not terminal and record["level"].no >= logger.level("INFO").no:
            return True
        return bool(record["level"].no >= threshold)

    return shown


def _redact_record(record: Any) -> None:
    record["message"] = redact(record["message"])
    if record["exception"] is not None:
        value = record["exception"].value
        if value is not None:
            value.args = tuple(redact(str(a)) if isinstance(a, str) else a for a in value.args)


def configure_console(verbosity: int = 0, stream: TextIO | None = None) -> None:
    """Console logging (to stderr): warnings by default, INFO with -v, DEBUG with -vv; where
    stderr is not a terminal, also each table's start and end by default."""
    stream = stream or sys.stderr
    logger.remove()
    _file_sinks.clear()
    logger.configure(patcher=_redact_record)
    # diagnose=False: loguru would annotate a traceback's frames with their variables' values,
    # which the redacting patcher never sees (a password in a local variable).
    logger.add(
        stream,
        level="DEBUG",
        filter=_console_filter(verbosity, getattr(stream, "isatty", lambda: False)()),
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
