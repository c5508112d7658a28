"""Generate the demo's SQLite source: customers, accounts and transactions of a small bank.

The data is deterministic for a seed and holds what real migrations trip over: decimals with
scale, floats, text with non-ASCII characters, pipes and backslashes, empty strings beside NULLs,
dates, timestamps with microseconds and booleans.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    full_name TEXT NOT NULL,
    email TEXT,
    city TEXT,
    birth_date DATE,
    signup_ts TIMESTAMP NOT NULL,
    is_active BOOLEAN NOT NULL,
    credit_score INTEGER,
    notes TEXT
);
CREATE TABLE accounts (
    account_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    account_type VARCHAR(20) NOT NULL,
    currency CHAR(3) NOT NULL,
    balance NUMERIC(14,2) NOT NULL,
    interest_rate NUMERIC(6,4),
    opened_on DATE NOT NULL,
    closed_on DATE,
    risk_weight REAL
);
CREATE TABLE transactions (
    txn_id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    txn_ts TIMESTAMP NOT NULL,
    amount NUMERIC(12,2) NOT NULL,
    fx_rate DOUBLE,
    channel TEXT NOT NULL,
    description TEXT,
    is_reversal BOOLEAN NOT NULL
);
"""

FIRST = [
    "Anna",
    "Björn",
    "Chloé",
    "Dmitri",
    "Eéva",
    "Fatima",
    "Günther",
    "Hiroshi",
    "Inés",
    "Jürgen",
    "Katarzyna",
    "Luís",
    "Mårten",
    "Nnamdi",
    "Øyvind",
    "Priya",
    "Søren",
    "Zoë",
    "王",
    "Ольга",
]
LAST = [
    "Müller",
    "Ng",
    "O'Brien",
    "Paz",
    "Quist",
    "Rødal",
    "Słowacki",
    "Tanaka",
    "Úlfsson",
    "Van der Berg",
    "Wójcik",
    "Xu",
    "Yılmaz",
    "Zapata",
    "Ævarsson",
    "García-López",
    "Nakamura",
    "Kowalczyk",
]
CITIES = [
    "Zürich",
    "São Paulo",
    "Kraków",
    "東京",
    "Ærøskøbing",
    "Reykjavík",
    "Montréal",
    "Łódź",
    "Malmö",
    "Ciudad de México",
    "İstanbul",
    "Αθήνα",
    "Praha",
    "Düsseldorf",
]
NOTES = [
    "",
    "VIP",
    "moved | new address",
    "C:\\legacy\\import",
    "prefers e-mail 📧",
    "  padded  ",
    "NULL",
]
CHANNELS = ["branch", "online", "mobile", "atm", "transfer"]
DESCRIPTIONS = [
    "",
    "Café ☕",
    "Grocery store",
    "Rent | March",
    "ATM withdrawal",
    "Refund \\ partial",
    "Salary",
    "Ünïcödé shop",
    "Transfer to savings",
]
START = datetime(2022, 1, 1)
SPAN_SECONDS = 3 * 365 * 24 * 3600


def split_rows(total: int) -> tuple[int, int, int]:
    """Rows per table for a total: 5% customers, 15% accounts, 80% transactions."""
    customers = max(total // 20, 10)
    accounts = max(total * 3 // 20, 20)
    return customers, accounts, max(total - customers - accounts, 50)


def _moment(rng: random.Random) -> str:
    moment = START + timedelta(
        seconds=rng.randrange(SPAN_SECONDS), microseconds=rng.randrange(1_000_000)
    )
    return moment.isoformat(sep=" ", timespec="microseconds")


def _customers(rng: random.Random, count: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = None if rng.random() < 0.08 else f"{first.lower()}.{i}@example.org"
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
        notes = None if rng.random() < 0.5 else rng.choice(NOTES)
        yield (
            i,
            f"{first} {last}",
            email,
            rng.choice(CITIES),
            birth.isoformat(),
            _moment(rng),
            int(rng.random() < 0.9),
            None if rng.random() < 0.05 else rng.randrange(300, 851),
            notes,
        )


def _accounts(rng: random.Random, count: int, customers: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        opened = date(2010, 1, 1) + timedelta(days=rng.randrange(365 * 15))
        closed = (
            (opened + timedelta(days=rng.randrange(1, 2000))).isoformat()
            if rng.random() < 0.1
            else None
        )
        balance = round(rng.uniform(-5_000, 250_000), 2)
        rate = None if rng.random() < 0.2 else round(rng.uniform(0, 0.08), 4)
        weight = None if rng.random() < 0.1 else rng.random() * 1.5
        yield (
            i,
            rng.randrange(1, customers + 1),
            rng.choice(["checking", "savings", "credit", "loan"]),
            rng.choice(["EUR", "USD", "CHF", "NOK"]),
            balance,
            rate,
            opened.isoformat(),
            closed,
            weight,
        )


def _transactions(rng: random.Random, count: int, accounts: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, count + 1):
        amount = round(rng.uniform(-2_000, 2_000), 2)
        fx = 1.0 if rng.random() < 0.7 else rng.uniform(0.5, 1.5)
        description = None if rng.random() < 0.1 else rng.choice(DESCRIPTIONS)
        yield (
            i,
            rng.randrange(1, accounts + 1),
            _moment(rng),
            amount,
            fx,
            rng.choice(CHANNELS),
            description,
            int(rng.random() < 0.02),
        )


def create_demo_database(path: Path, total_rows: int, seed: int = 7) -> dict[str, int]:
    """Write the three tables into a new SQLite file; returns the rows of each table."""
    path.unlink(missing_ok=True)
    rng = random.Random(seed)
    customers, accounts, transactions = split_rows(total_rows)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA)
        connection.executemany(
            "INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?)", _customers(rng, customers)
        )
        connection.executemany(
            "INSERT INTO accounts VALUES (?,?,?,?,?,?,?,?,?)", _accounts(rng, accounts, customers)
        )
        connection.executemany(
            "INSERT INTO transactions VALUES (?,?,?,?,?,?,?,?)",
            _transactions(rng, transactions, accounts),
        )
        connection.commit()
    finally:
        connection.close()
    return {"customers": customers, "accounts": accounts, "transactions": transactions}
