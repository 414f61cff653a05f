"""A throwaway cluster with template databases: every timed run gets an identical fresh copy."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from core.demo.cluster import LocalCluster

# Cheaper than the defaults for a 2-core box and less noisy: no autovacuum racing the timed
# statement (every run starts from a fresh copy anyway), no parallel workers stealing the core
# the client needs.
BENCH_SETTINGS = {
    "autovacuum": "off",
    "max_parallel_workers_per_gather": "0",
    "jit": "off",
}


@dataclass
class BenchCluster:
    base: Path
    cluster: LocalCluster = field(init=False)
    _n: Iterator[int] = field(default_factory=lambda: count(1), init=False)

    @classmethod
    def create(cls) -> BenchCluster:
        base = Path(tempfile.mkdtemp(prefix="pruner-bench-"))
        os.chmod(base, 0o755)  # as root the postgres OS user must traverse it
        bc = cls(base)
        bc.cluster = LocalCluster(base / "pg")
        bc.cluster.start()
        for key, value in BENCH_SETTINGS.items():
            bc.cluster.psql(f"ALTER SYSTEM SET {key} = '{value}'")
        bc.cluster.psql("SELECT pg_reload_conf()")
        return bc

    def destroy(self) -> None:
        self.cluster.destroy()
        shutil.rmtree(self.base, ignore_errors=True)

    def sql(self, sql: str, database: str = "postgres") -> str:
        return self.cluster.psql(sql, database)

    def url(self, database: str) -> str:
        return self.cluster.url(database)

    def new_database(self, name: str) -> str:
        return self.cluster.create_database(name)

    def clone(self, template: str) -> str:
        """A fresh copy of `template` (a file copy: much faster than WAL_LOG for big databases)."""
        name = f"run_{next(self._n)}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return name

    def drop(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def copy_of(self, template: str) -> Iterator[str]:
        """The URL of a fresh copy of `template`, dropped afterwards."""
        name = self.clone(template)
        try:
            yield self.url(name)
        finally:
            self.drop(name)

    def size(self, database: str) -> int:
        return int(self.sql(f"SELECT pg_database_size('{database}')"))
