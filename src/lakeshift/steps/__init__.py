"""The steps of a migration and its proof: analyze, upload, compare, align."""
