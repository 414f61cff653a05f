"""Development and demo tooling: throwaway PostgreSQL clusters and demo data.

Nothing in the library imports this package; tests, benchmarks, the console's embedded demo and
`pruner demo` do. `cluster` starts a real server with initdb/pg_ctl; `seed` fills a database.
"""
