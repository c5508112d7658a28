"""Write the demo's five configuration files in the user's formats, to read and copy."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

INVENTORY = [
    ("source_table", "target_table", "date_column", "key_columns", "where", "period", "enabled"),
    ("main.customers", "customers", "signup_ts", "customer_id", None, "month", True),
    ("main.accounts", "accounts", "opened_on", "account_id", None, "year", True),
    ("main.transactions", "transactions", "txn_ts", "txn_id", None, "month", True),
]
COLUMN_MAPPINGS = {
    "main.customers": {"full_name": "customer_name"},
    "main.transactions": {"txn_ts": "transaction_ts"},
}
META_CONFIG = """\
[input]
table = "input_tables.xlsx"
column_maps = "column_mappings.json"
env = ".env"

[output]
folder = "output/"
csv.path = "migration_results.csv"
"""
MIGRATION_CONFIG = {"chunk_size": 50000, "max_memory_mb": 512, "lake": "lake", "database": "demo"}
ENV = "# connection settings; secrets here never reach logs or artifacts\nLAKESHIFT_SOURCE_URL=sqlite:///source.db\n"


def write_demo_configs(folder: Path) -> list[Path]:
    """config_meta.cfg, migration_config.cfg, .env, input_tables.xlsx, column_mappings.json."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "tables"
    for row in INVENTORY:
        sheet.append(list(row))
    paths = [
        folder / name
        for name in (
            "config_meta.cfg",
            "migration_config.cfg",
            ".env",
            "input_tables.xlsx",
            "column_mappings.json",
        )
    ]
    paths[0].write_text(META_CONFIG, encoding="utf-8")
    paths[1].write_text(json.dumps(MIGRATION_CONFIG, indent=2) + "\n", encoding="utf-8")
    paths[2].write_text(ENV, encoding="utf-8")
    book.save(paths[3])
    paths[4].write_text(json.dumps(COLUMN_MAPPINGS, indent=2) + "\n", encoding="utf-8")
    return paths
