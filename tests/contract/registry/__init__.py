"""Contract tests of the registry: HTTP in process against a real Postgres."""
