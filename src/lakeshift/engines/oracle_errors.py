"""Oracle and python-oracledb errors as lakeshift errors: one line, the table named, no secrets.

python-oracledb raises `oracledb.DatabaseError` (and subclasses) whose first argument is an
`_Error` with `.code` (the ORA number, 0 for driver errors) and `.full_code` (`ORA-00942`,
`DPY-4011`, ...). Thin mode reports a dropped connection as DPY-4011 while keeping the ORA code
(3113, 3135, ...), so both are looked at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakeshift.errors import (
    ConfigError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.redaction import MASK, redact

# Dropped connections, timeouts and an instance that is starting or stopping: worth retrying.
TRANSIENT_CODES = frozenset(
    {
        "ORA-03113",
        "ORA-03114",
        "ORA-03135",
        "ORA-12170",
        "ORA-12537",
        "ORA-12547",
        "ORA-12570",
        "ORA-12571",
        "ORA-01033",
        "ORA-01034",
        "ORA-01089",
        "ORA-01090",
        "ORA-00028",
        "DPY-4011",
        "DPY-4024",
        "DPY-6005",
    }
)
_LOGIN = {
    "ORA-01017": "invalid user name or password",
    "ORA-28000": "the account is locked",
    "ORA-28001": "the password has expired",
}
_SERVICE = frozenset({"ORA-12154", "ORA-12514", "ORA-12505", "DPY-6001", "DPY-6003", "DPY-4027"})
_TOO_LONG = frozenset({"ORA-01489", "ORA-22835", "ORA-06502"})


class TextTooLongError(TerminalError):
    """A value, or a row's canonical text, is longer than Oracle's SQL text holds."""

    def __init__(self, message: str, code: str = "ORA-01489"):
        super().__init__(message)
        self.code = code


SQL_TEXT_BYTES = 4000  # VARCHAR2 in SQL; 32767 with MAX_STRING_SIZE = EXTENDED
WIDEST_NAMED = 3


def declared_text_bytes(widths: Sequence[tuple[str, str, int | None]]) -> int | None:
    """The most bytes a row's canonical text takes by the declared widths (None with a LOB):
    each column's text and a `|` between two, before escapes."""
    declared = [width for _, _, width in widths]
    if None in declared:
        return None
    return sum(w or 0 for w in declared) + max(len(declared) - 1, 0)


def widest_columns(widths: Sequence[tuple[str, str, int | None]]) -> str:
    """`NOTES (CLOB, as long as its values), NAME (VARCHAR2(4000 BYTE), up to 4000 bytes)`."""
    ranked = sorted(widths, key=lambda w: (w[2] is not None, -(w[2] or 0)))
    return ", ".join(
        f"{name} ({native}, "
        + ("as long as its values" if width is None else f"up to {width} bytes")
        + ")"
        for name, native, width in ranked[:WIDEST_NAMED]
    )


def wide_row_message(table: str, code: str, widths: Sequence[tuple[str, str, int | None]]) -> str:
    """What to say when a row's canonical text is too long: Oracle names no column, so the
    widest ones as declared are named, from (name, declared type, most bytes of its text, None
    for a LOB), with what the user can do."""
    total = declared_text_bytes(widths)
    in_all = (
        "" if total is None else f"; by the declared widths a row's text takes up to {total} bytes"
    )
    return (
        f"{table}: {code} a value or a row's canonical text is longer than Oracle SQL text holds "
        f"({SQL_TEXT_BYTES} bytes, 32767 with MAX_STRING_SIZE=EXTENDED); widest columns: "
        f"{widest_columns(widths)}{in_all}. Map a wide column to null in column_mappings.json "
        "to leave it out of compare and align, or compare on a database with "
        "MAX_STRING_SIZE=EXTENDED"
    )


@dataclass(frozen=True)
class OracleFailure:
    """What an error says, independent of how the driver shaped it."""

    codes: frozenset[str]
    message: str  # the driver's first line, and for a failed connection its cause

    @classmethod
    def of(cls, error: BaseException) -> OracleFailure:
        detail = error.args[0] if error.args else None
        codes = set()
        number = getattr(detail, "code", 0) or 0
        if number:
            codes.add(f"ORA-{number:05d}")
        full_code = getattr(detail, "full_code", "") or ""
        if full_code:
            codes.add(full_code)
        text = str(getattr(detail, "message", None) or detail or error)
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        message = lines[0] if lines else ""
        if CONNECTION_FAILED in codes and len(lines) > 1:
            # thin mode puts why on the next line: "[Errno 111] Connection refused"
            message = f"{message} {lines[1]}"
        return cls(frozenset(codes), message)

    def has(self, *codes: str) -> bool:
        return bool(self.codes.intersection(codes))

    def main_code(self) -> str:
        ora = sorted(code for code in self.codes if code.startswith("ORA-"))
        return (ora or sorted(self.codes) or ["error"])[0]


CONNECTION_FAILED = "DPY-6005"  # cannot connect to database: its cause follows


def _clean(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return redact(text)


def translate(
    error: BaseException, *, source: str, table: str | None = None, secrets: tuple[str, ...] = ()
) -> LakeshiftError:
    """The lakeshift error for an Oracle error met while working on `table` (None: connecting)."""
    failure = OracleFailure.of(error)
    where = table or f"source {source}"
    code = failure.main_code()
    driver = _clean(failure.message, secrets)
    if failure.has(*TRANSIENT_CODES):
        return TransientError(f"{where}: connection to Oracle lost or not ready ({code}): {driver}")
    for login_code, meaning in _LOGIN.items():
        if failure.has(login_code):
            return ConfigError(
                f"source {source}: {login_code} {meaning}; check the user and "
                "password in LAKESHIFT_SOURCE_URL"
            )
    if failure.has(*_SERVICE):
        return ConfigError(
            f"source {source}: {code} the listener does not know this service or "
            "SID; check host, port and service_name in LAKESHIFT_SOURCE_URL"
        )
    if failure.has("ORA-00942") and table is not None:
        # ORA-00942 is also what a user without SELECT on the table is told
        return TableMissingError(table, "Oracle source", maybe_unreadable=True)
    if failure.has(*_TOO_LONG):
        return TextTooLongError(_terminal_message(failure, where, code, driver), code)
    return TerminalError(_terminal_message(failure, where, code, driver))


def _terminal_message(failure: OracleFailure, where: str, code: str, driver: str) -> str:
    if failure.has("ORA-01031"):
        return (
            f"{where}: ORA-01031 insufficient privileges: grant SELECT on it, and FLASHBACK "
            "for reads AS OF SCN (or add snapshot=none to the source URL to read the "
            "current state)"
        )
    if failure.has("ORA-01555"):
        return (
            f"{where}: ORA-01555 snapshot too old: the undo for the recorded SCN is gone; "
            "rerun sooner or raise UNDO_RETENTION"
        )
    if failure.has("ORA-01466", "ORA-08180", "ORA-08181"):
        return (
            f"{where}: {code} the table cannot be read as of the recorded SCN (its definition "
            "changed, or the SCN is too old); rerun the upload"
        )
    if failure.has(*_TOO_LONG):
        return (
            f"{where}: {code} a value or a row's canonical text is longer than Oracle SQL "
            "text holds (4000 bytes, 32767 with MAX_STRING_SIZE=EXTENDED); compare fewer "
            "columns or map long LOB columns to null"
        )
    if failure.has("ORA-00904") and "UTL_RAW" in failure.message.upper():
        # What Oracle says when the package is missing or the user may not execute it.
        return (
            f"{where}: float columns are compared through UTL_RAW.CAST_FROM_BINARY_DOUBLE; "
            "grant EXECUTE on UTL_RAW (Oracle grants it to PUBLIC by default)"
        )
    return f"{where}: Oracle {code}: {driver}"


def is_table_missing(error: BaseException) -> bool:
    return OracleFailure.of(error).has("ORA-00942")
