"""The lake: Parquet files under a root, a catalog of tables and partitions, and the manifest."""
