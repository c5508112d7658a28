"""One module per engine; `connect_source` and `connect_lake_engine` pick the right one."""
