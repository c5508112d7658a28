"""The embedded default: a generated SQLite source, a local lake and DuckDB, end to end."""
