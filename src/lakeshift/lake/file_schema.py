"""Every data file of a lake table holds the types its catalog entry declares.

A reader casts what it finds to one schema: DuckDB to the first file's, pyarrow to the one it is
given, and both turn a DOUBLE 1.2349 into DECIMAL(10,2) 1.23 without a word. A file lakeshift did
not write (or one rewritten since) could then compare equal where Athena, reading the same folder,
fails or reads other values. So each file's footer is read and its types checked before a table
is queried; a file whose type differs is named, with the column and both types. So is a file
holding a column the catalog does not declare: DuckDB, Hive and Athena match names regardless of
case, so a file's `V` beside its `v` may be the one read as `v`.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

from lakeshift.errors import TerminalError
from lakeshift.lake.catalog import CatalogTable
from lakeshift.lake.storage import LakeStorage
from lakeshift.types import LogicalType

FOOTER_READERS = 8  # footers read at once (on S3, one request each)
# A plain upload keeps a finished slice's folder as it is; --force writes every file anew.
MENDED_BY = "remove it, or rerun upload with --force"
NOT_OURS = f"it was not written by this upload; {MENDED_BY}"


def check_file_schemas(storage: LakeStorage, entry: CatalogTable, files: Sequence[str]) -> None:
    """Raise naming the first file whose column types differ from `entry`'s."""
    expected = {c["name"]: LogicalType.parse(c["type"]).to_arrow() for c in entry.columns}

    def footer(path: str) -> pa.Schema:
        try:
            return pq.read_schema(path, filesystem=storage.fs)
        except (pa.ArrowException, OSError) as error:  # truncated, not Parquet, unreadable
            raise TerminalError(
                f"{entry.name}: lake file {path} cannot be read as Parquet ({error}): {MENDED_BY}"
            ) from None

    with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
        for path, schema in zip(files, pool.map(footer, files), strict=True):
            extra = [name for name in schema.names if name not in expected]
            if extra or len(schema.names) != len(set(schema.names)):
                named = ", ".join(extra) or "a column twice"
                raise TerminalError(
                    f"{entry.name}: lake file {path} holds {named}, which the catalog does not"
                    f" declare: the file or the catalog changed since the upload; {MENDED_BY}"
                )
            for name, wanted in expected.items():
                index = schema.get_field_index(name)
                if index < 0:
                    raise TerminalError(
                        f"{entry.name}: lake file {path} has no column {name}, which the catalog"
                        f" declares: {NOT_OURS}"
                    )
                found = schema.field(index).type
                if not same_type(found, wanted):
                    raise TerminalError(
                        f"{entry.name}: lake file {path} holds column {name} as {found}, where the"
                        f" catalog declares {wanted}: {NOT_OURS}"
                    )


_LAYOUTS = ({"string", "large_string", "string_view"}, {"binary", "large_binary", "binary_view"})


def same_type(found: pa.DataType, wanted: pa.DataType) -> bool:
    """Equal types, counting the string and binary layouts Parquet does not tell apart."""
    return found == wanted or any(
        str(found) in layouts and str(wanted) in layouts for layouts in _LAYOUTS
    )
