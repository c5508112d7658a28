"""Secrets never leave the process: registered ones anywhere in text, URL passwords always."""

from __future__ import annotations

import uuid

import pytest

from lakeshift.redaction import MASK, display_url, is_secret_name, redact, register_secret


def _secret(prefix: str = "pw") -> str:
    # Unique per test: the registry is process-wide, and a common word would mask other tests' text.
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_registered_secret_is_masked_anywhere_in_text() -> None:
    secret = _secret()
    register_secret(secret)

    text = f"start{secret} middle ({secret}) end:{secret}"

    assert redact(text) == f"start{MASK} middle ({MASK}) end:{MASK}"


def test_text_without_secrets_is_unchanged() -> None:
    register_secret(_secret())
    text = "table HR.EMPLOYEES: 1200 rows, 3 files"
    assert redact(text) == text


def test_a_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    short = _secret()
    register_secret(short)
    register_secret(short + "-and-more")

    assert redact(f"[{short}-and-more]") == f"[{MASK}]"


@pytest.mark.parametrize("value", [None, "", "ab"])
def test_empty_or_two_character_values_are_not_registered(value: str | None) -> None:
    # Masking every "ab" in every message would destroy the logs more than it protects.
    register_secret(value)
    assert redact("about ab") == "about ab"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "oracle://scott:tiger@db:1521/?service_name=PCDS",
            "oracle://scott:***@db:1521/?service_name=PCDS",
        ),
        (
            "failed: postgresql://app:p4ss@127.0.0.1:5432/test",
            "failed: postgresql://app:***@127.0.0.1:5432/test",
        ),
        ("mysql://root:x@h and mysql://u:y@k", "mysql://root:***@h and mysql://u:***@k"),
        ("postgresql://:lonely@host/db", "postgresql://:***@host/db"),
        ("oracle://u:p@ss@host:1521/", "oracle://u:***@host:1521/"),
        ("'mysql://u:pa%40ss@h/db'", "'mysql://u:***@h/db'"),
    ],
)
def test_url_passwords_are_masked_even_when_not_registered(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "sqlite:///home/user/source.db",
        "postgresql://app@db:5432/sales",
        "http://127.0.0.1:5000/bucket/key@version",
        "s3://bucket/prefix/table/month=2024-01/file.parquet",
    ],
)
def test_urls_without_passwords_are_unchanged(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("ORACLE_PASSWORD", True),
        ("db_pwd", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("API_TOKEN", True),
        ("GOOGLE_CREDENTIALS", True),
        ("DB_HOST", False),
        ("LAKESHIFT_SOURCE_URL", False),
        ("AWS_PROFILE", False),
    ],
)
def test_secret_setting_names_are_recognized(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_display_url_masks_only_the_password() -> None:
    assert display_url("oracle://scott:tiger@db:1521/?service_name=PCDS") == (
        "oracle://scott:***@db:1521/?service_name=PCDS"
    )


def test_display_url_masks_an_encoded_password() -> None:
    assert display_url("postgresql://app:p%40ss%3Aword@db/sales") == "postgresql://app:***@db/sales"


def test_display_url_masks_a_password_equal_to_the_user_once() -> None:
    assert display_url("mysql://tiger:tiger@db/x") == "mysql://tiger:***@db/x"


@pytest.mark.parametrize(
    "url", ["sqlite:////data/source.db", "postgresql://app@db/sales", "mysql://db/sales"]
)
def test_display_url_without_password_is_unchanged(url: str) -> None:
    assert display_url(url) == url
