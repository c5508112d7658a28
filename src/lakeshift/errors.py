"""Error vocabulary: what went wrong, where, and whether trying again can help.

Terminal errors fail one unit of work (a run for configuration, a table otherwise) with a message
that names the file, table or column at fault. Transient errors (throttling, dropped connections)
are the only ones the retry layer retries.
"""

from __future__ import annotations


class LakeshiftError(Exception):
    """Base of every error lakeshift raises on purpose."""


class ConfigError(LakeshiftError):
    """Bad usage or configuration: the whole run stops before any work (exit code 2)."""

    def __init__(self, message: str, *, file: str | None = None, where: str | None = None):
        self.file = file
        self.where = where
        location = ": ".join(part for part in (file, where) if part)
        super().__init__(f"{location}: {message}" if location else message)


class TerminalError(LakeshiftError):
    """A failure that retrying will not fix; it fails the table it happened in."""


# Where the catalog lists only the tables the user may read (MySQL's information_schema,
# Oracle's ALL_ views), a table without SELECT looks exactly like one that does not exist.
UNREADABLE_LOOKS_MISSING = "or the user of LAKESHIFT_SOURCE_URL lacks SELECT on it"


class TableMissingError(TerminalError):
    """The table does not exist on the engine asked about (`maybe_unreadable`: or, for all the
    engine can tell, the user may not read it)."""

    def __init__(self, table: str, engine: str, *, maybe_unreadable: bool = False):
        self.table = table
        self.engine = engine
        hint = f" ({UNREADABLE_LOOKS_MISSING})" if maybe_unreadable else ""
        super().__init__(f"table {table} does not exist in the {engine}{hint}")


class ConversionError(TerminalError):
    """A value cannot be represented exactly in the target type."""

    def __init__(self, table: str, column: str, reason: str):
        self.table = table
        self.column = column
        self.reason = reason
        super().__init__(f"{table}.{column}: {reason}")


class TransientError(LakeshiftError):
    """A failure that may go away if the same work is tried again (with backoff)."""
