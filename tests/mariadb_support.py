"""A root session on the MariaDB service for tests: uniquely named tables and users, dropped at the end."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import pymysql


class MariaDBServer:
    """A root session that creates uniquely named tables and users, dropped at the end."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 3306
        self.url = url
        self.connection = pymysql.connect(
            host=self.host,
            port=self.port,
            user=parts.username or "root",
            password=parts.password or "",
            database=parts.path.lstrip("/"),
            autocommit=True,
            charset="utf8mb4",
        )
        self.prefix = f"lst_{secrets.token_hex(4)}_"
        self.tables: list[str] = []
        self.users: list[str] = []
        self.execute("SET SESSION lock_wait_timeout = 20")  # a leaked snapshot fails, not hangs

    def execute(self, sql: str, parameters: Any = None) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())

    def create(self, name: str, columns: str, rows: list[tuple[Any, ...]] | None = None) -> str:
        table = self.prefix + name
        self.execute(f"CREATE TABLE {table} ({columns}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        self.tables.append(table)
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            with self.connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        return table

    def user(self, password: str, grants: list[str]) -> str:
        name = self.prefix + f"u{len(self.users)}"
        self.execute(f"CREATE USER '{name}'@'%%' IDENTIFIED BY %s", (password,))
        self.users.append(name)
        for grant in grants:
            self.execute(f"GRANT {grant} TO '{name}'@'%'")
        return name

    def url_for(self, user: str, password: str) -> str:
        return f"mysql://{user}:{quote(password, safe='')}@{self.host}:{self.port}/test"

    def close(self) -> None:
        for table in self.tables:
            self.execute(f"DROP TABLE IF EXISTS {table}")
        for user in self.users:
            self.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        self.connection.close()
