"""Oracle errors as lakeshift errors: the right class, one line, the table named, no password.

The exceptions are python-oracledb's own (`oracledb.DatabaseError` around its `_Error`), built
the way the driver builds them, so `.code` and `.full_code` are what thin mode reports (ORA-03113
arrives as DPY-4011, for instance). Each driver message below carries the password, as a
connect-string echo could, to prove it never reaches the lakeshift message. Not exercised: which
codes a real server actually sends in each situation.
"""

from __future__ import annotations

from typing import Any

import oracledb
import pytest
from oracledb import errors as driver_errors

from lakeshift.engines.oracle_errors import TextTooLongError, translate
from lakeshift.errors import (
    ConfigError,
    LakeshiftError,
    TableMissingError,
    TerminalError,
    TransientError,
)

PASSWORD = "Tiger-Pass-42"
SOURCE = "oracle://scott:***@db:1521/?service_name=PCDS"
TABLE = "HR.EMPLOYEES"


def oracle_error(code: int, text: str) -> oracledb.DatabaseError:
    detail = driver_errors._Error(f"ORA-{code:05d}: {text} (login scott/{PASSWORD})", code=code)
    return detail.exc_type(detail)


def driver_error(number: int, **arguments: Any) -> oracledb.DatabaseError:
    detail = driver_errors._create_err(number, **arguments)
    detail.message += f"\nconnect string scott/{PASSWORD}@db"
    return detail.exc_type(detail)


def mapped(error: BaseException, table: str | None = TABLE) -> LakeshiftError:
    result = translate(error, source=SOURCE, table=table, secrets=(PASSWORD,))
    text = str(result)
    assert PASSWORD not in text
    assert "\n" not in text
    return result


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            oracle_error(1017, "invalid username/password; logon denied"),
            ConfigError,
            ["ORA-01017", "user and password"],
        ),
        (oracle_error(28000, "the account is locked"), ConfigError, ["locked"]),
        (
            oracle_error(12154, "TNS:could not resolve the connect identifier specified"),
            ConfigError,
            ["ORA-12154", "service"],
        ),
        (
            oracle_error(12514, "TNS:listener does not currently know of service"),
            ConfigError,
            ["ORA-12514", "service_name"],
        ),
        (
            driver_error(
                driver_errors.ERR_INVALID_SERVICE_NAME, service_name="PCDS", host="db", port=1521
            ),
            ConfigError,
            ["DPY-6001", "service"],
        ),
        (
            oracle_error(942, "table or view does not exist"),
            TableMissingError,
            [TABLE, "does not exist"],
        ),
        (
            oracle_error(1031, "insufficient privileges"),
            TerminalError,
            [TABLE, "ORA-01031", "FLASHBACK", "snapshot=none"],
        ),
        (oracle_error(1555, "snapshot too old"), TerminalError, [TABLE, "UNDO_RETENTION"]),
        (
            oracle_error(22835, "Buffer too small for CLOB to CHAR or BLOB to RAW conversion"),
            TextTooLongError,
            [TABLE, "4000 bytes", "map long LOB columns to null"],
        ),
        (
            oracle_error(904, '"UTL_RAW"."CAST_FROM_BINARY_DOUBLE": invalid identifier'),
            TerminalError,
            ["EXECUTE on UTL_RAW"],
        ),
        (
            oracle_error(3113, "end-of-file on communication channel"),
            TransientError,
            [TABLE, "ORA-03113"],
        ),
        (oracle_error(3135, "connection lost contact"), TransientError, ["ORA-03135"]),
        (driver_error(driver_errors.ERR_CONNECTION_CLOSED), TransientError, ["DPY-4011"]),
        (
            oracle_error(1722, "invalid number"),
            TerminalError,
            [TABLE, "ORA-01722", "invalid number"],
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None) or str(value)[:12],
)
def test_error_mapping(error: BaseException, kind: type[LakeshiftError], words: list[str]) -> None:
    result = mapped(error)
    assert type(result) is kind
    for word in words:
        assert word in str(result)


def test_thin_mode_reports_a_dropped_connection_under_both_codes() -> None:
    detail = oracle_error(3113, "end-of-file on communication channel").args[0]
    assert (detail.code, detail.full_code) == (3113, "DPY-4011")  # what the mapping relies on


def test_errors_while_connecting_name_the_source_not_a_table() -> None:
    result = mapped(oracle_error(1017, "invalid username/password; logon denied"), table=None)
    assert SOURCE in str(result)
    missing = mapped(oracle_error(942, "table or view does not exist"), table=None)
    assert type(missing) is TerminalError and SOURCE in str(missing)


def test_a_password_in_a_url_inside_the_message_is_masked_even_if_unregistered() -> None:
    detail = driver_errors._Error(
        "ORA-12541: no listener at oracle://scott:other-secret@db:1521/x", code=12541
    )
    result = translate(detail.exc_type(detail), source=SOURCE, table=TABLE)
    assert "other-secret" not in str(result)


def test_a_connection_that_fails_says_why() -> None:
    """Thin mode gives the cause on a second line ("[Errno 111] Connection refused"): without
    it the one line read "cannot connect to database" only."""
    refused = driver_errors._create_err(
        6005, connection_id="abc", cause=ConnectionRefusedError(111, "Connection refused")
    )
    result = mapped(refused.exc_type(refused), table=None)
    assert type(result) is TransientError
    assert "cannot connect to database" in str(result) and "Connection refused" in str(result)
    assert SOURCE in str(result)
