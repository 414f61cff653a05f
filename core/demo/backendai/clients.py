"""Reaching a PostgreSQL server with its client programs: the connection parameters (`Conn`) and
the psql / pg_dump binary to run."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from core.demo.backendai.common import BackendAIError
from core.demo.cluster import DB_SUPERUSER, ClusterError, LocalCluster, find_bindir


@dataclass(frozen=True)
class Conn:
    """libpq parameters of a server (password passed through the environment only)."""

    host: str
    port: int
    user: str
    password: str | None

    @classmethod
    def of(cls, target: str | LocalCluster) -> Conn:
        if isinstance(target, LocalCluster):
            return cls("127.0.0.1", target.port, DB_SUPERUSER, target.password)
        url = make_url(target)
        if url.get_backend_name() != "postgresql":
            raise BackendAIError("the database URL must point at PostgreSQL")
        return cls(url.host or "127.0.0.1", url.port or 5432, url.username or "postgres",
                   url.password)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def args(self, database: str) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user, "-d", database]

    def url(self, database: str, driver: str = "postgresql") -> str:
        from sqlalchemy.engine import URL

        return URL.create(driver, self.user, self.password, self.host, self.port,
                          database).render_as_string(hide_password=False)

    def psql(self, sql: str, database: str = "postgres", **variables: str) -> str:
        """Run fixed SQL of ours and return its unaligned output. Values travel as psql
        variables (`:'name'` for a literal, `:"name"` for an identifier), never spliced in."""
        cmd = [str(_client("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At",
               *self.args(database)]
        for key, value in variables.items():
            cmd += ["-v", f"{key}={value}"]
        try:
            proc = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=900,
                                  env=self.env())
        except subprocess.TimeoutExpired:
            raise BackendAIError("psql took longer than 900 s") from None
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines() or ["(no output)"]
            raise BackendAIError(f"psql failed: {lines[0]}")
        return proc.stdout.strip()


def _client(name: str) -> Path:
    """A client binary of the server's major version (the local cluster's bindir first)."""
    try:
        exe = find_bindir() / name
        if exe.exists():
            return exe
    except ClusterError:  # no server binaries: fall back to a client on PATH
        pass
    found = shutil.which(name)
    if not found:
        raise BackendAIError(f"{name} not found; install Debian's postgresql-client")
    return Path(found)
