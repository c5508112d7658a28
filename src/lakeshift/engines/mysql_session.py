"""MySQL/MariaDB connection settings (as mysqlclient takes them) and the errors a connection
raises, as lakeshift errors.

The URL's password is decoded, registered as a secret and never put in a message or a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from MySQLdb.constants import CR, ER

from lakeshift.errors import ConfigError, TransientError
from lakeshift.redaction import display_url, register_secret

# Errors that trying again (on a new connection) can fix.
TRANSIENT_CODES = frozenset(
    {
        CR.SERVER_GONE_ERROR,
        CR.SERVER_LOST,
        2055,  # connection dropped
        1927,  # MariaDB: connection was killed
        ER.LOCK_WAIT_TIMEOUT,
        ER.LOCK_DEADLOCK,
        1412,  # table definition changed since the snapshot started (concurrent DDL)
        ER.CON_COUNT_ERROR,
        1203,  # too many connections
    }
)
PRIVILEGE_CODES = frozenset(
    {
        ER.TABLEACCESS_DENIED_ERROR,
        ER.COLUMNACCESS_DENIED_ERROR,
        ER.DBACCESS_DENIED_ERROR,
        ER.SPECIFIC_ACCESS_DENIED_ERROR,
    }
)
URL_OPTIONS = {
    "connect_timeout": int,
    "read_timeout": int,
    "write_timeout": int,
    "unix_socket": str,
    "ssl_ca": str,
    "ssl_cert": str,
    "ssl_key": str,
}


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    display: str = ""  # the URL with its password masked

    @classmethod
    def from_url(cls, url: str) -> ConnectionSettings:
        """`mysql://user:pw@host:port/database?connect_timeout=10` (also `mariadb://`)."""
        display = display_url(url)
        parts = urlsplit(url)
        password = unquote(parts.password or "")
        register_secret(password)  # the decoded form, which is what a driver could echo
        options: dict[str, Any] = {}
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name not in URL_OPTIONS:
                known = ", ".join(sorted(URL_OPTIONS))
                raise ConfigError(f"source {display}: unknown option {name!r}; use one of {known}")
            try:
                options[name] = URL_OPTIONS[name](value)
            except ValueError:
                raise ConfigError(f"source {display}: option {name} must be a number") from None
        try:
            port = parts.port or 3306
        except ValueError:
            raise ConfigError(f"source {display}: the port is not a number") from None
        database = unquote(parts.path.lstrip("/")) or None
        return cls(
            parts.hostname or "127.0.0.1",
            port,
            unquote(parts.username or ""),
            password,
            database,
            options,
            display,
        )

    def driver_options(self) -> dict[str, Any]:
        """The URL's options as mysqlclient's keyword arguments (TLS files in its `ssl` dict)."""
        options = {k: v for k, v in self.options.items() if not k.startswith("ssl_")}
        tls = {k.removeprefix("ssl_"): v for k, v in self.options.items() if k.startswith("ssl_")}
        return {**options, "ssl": tls} if tls else options


def error_code(error: Exception) -> int:
    """The MySQL error number the driver puts first in an error's arguments (0 if none)."""
    arguments: tuple[Any, ...] = error.args
    return int(arguments[0]) if arguments and isinstance(arguments[0], int) else 0


def error_message(error: Exception) -> str:
    arguments: tuple[Any, ...] = error.args
    return str(arguments[1]) if len(arguments) > 1 else str(error) or type(error).__name__


def connection_error(
    error: Exception, settings: ConnectionSettings
) -> ConfigError | TransientError:
    """The one-line error for a failed connection; the message never holds the password."""
    code, where = error_code(error), f"source {settings.display}"
    if code == ER.ACCESS_DENIED_ERROR:
        return ConfigError(
            f"{where}: access denied for user {settings.user!r}; "
            "check the user and password in LAKESHIFT_SOURCE_URL"
        )
    if code == ER.BAD_DB_ERROR:
        return ConfigError(f"{where}: database {settings.database!r} does not exist")
    if code in PRIVILEGE_CODES:
        return ConfigError(f"{where}: the user lacks a privilege: {error_message(error)}")
    if code == CR.UNKNOWN_HOST or "Name or service not known" in error_message(error):
        return ConfigError(f"{where}: unknown host {settings.host!r}")
    if code in TRANSIENT_CODES:
        return TransientError(f"{where}: {error_message(error)}")
    if code in (CR.CONN_HOST_ERROR, CR.CONNECTION_ERROR):  # TCP, or the unix socket
        return ConfigError(
            f"{where}: cannot connect to {settings.host}:{settings.port} "
            f"({error_message(error)}); is the server running and the port right?"
        )
    return ConfigError(f"{where}: cannot connect: {error_message(error)}")
