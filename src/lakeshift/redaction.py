"""Keep secrets out of logs, artifacts and exceptions.

Every secret lakeshift reads (passwords in connection URLs, keys in `.env`) is registered here
when it is read; `redact` masks all registered secrets in any text before it leaves the process.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
_secrets: set[str] = set()
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|KEY|CREDENTIAL|PWD)", re.IGNORECASE)


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` masks it wherever it appears."""
    if value and len(value) >= 3:
        _secrets.add(value)


def is_secret_name(name: str) -> bool:
    """True for setting names that hold secrets (`DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`, ...)."""
    return bool(_SECRET_NAME.search(name))


def redact(text: str) -> str:
    """Mask every registered secret and any password embedded in a URL."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    # As in urlsplit, the password runs to the last `@` of the authority (it may hold a raw
    # `@`), and the user may be empty (`postgresql://:pw@host`).
    return re.sub(r"(://[^:/@\s]*:)([^/?#\s]+)(@)", rf"\1{MASK}\3", text)


def display_url(url: str) -> str:
    """The URL with its password masked, fit for logs and artifacts.

    >>> display_url("oracle://scott:tiger@db:1521/?service_name=PCDS")
    'oracle://scott:***@db:1521/?service_name=PCDS'
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed authority: mask what is registered and what looks like one
        return redact(url)
    if password is not None:
        netloc = parts.netloc.replace(f":{password}@", f":{MASK}@", 1)
        url = urlunsplit(parts._replace(netloc=netloc))
    return redact(url)  # a password urlsplit cut short, or one in the query, is registered
