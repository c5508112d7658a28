"""lakeshift: move relational tables into a Parquet data lake and prove they arrived intact."""

__version__ = "0.1.0"
