"""A throwaway or project-local PostgreSQL cluster driven by initdb/pg_ctl.

Tests, the demo console and the benchmarks all run against a real server that this module starts.
`initdb` refuses to run as root, so as root the cluster belongs to the `postgres` OS user and every
server binary runs through `runuser`; as any other user it runs as that user.

Several programs may use one cluster at a time (two consoles, a console and the notebook): each
takes a *lease* (`acquire`) and gives it back when it is done (`release`). The server is stopped
only when the last lease goes, and only if a lease-holder started it: a server that was running
before anyone leased it belongs to whoever started it and is left running. So stopping one
console never stops a database another console or notebook is using.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SERVER_USER = "postgres"  # the OS user that owns the cluster when we run as root
DB_SUPERUSER = "pruner"

# Durability is pointless for a throwaway cluster; these make it start and load data fast.
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "120",
    "shared_buffers": "'512MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    "max_wal_size": "'4GB'",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class ClusterError(RuntimeError):
    """The local PostgreSQL cluster could not be created or started."""


def find_bindir() -> Path:
    """Locate the directory holding initdb/pg_ctl/postgres."""
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's `postgresql` "
        "package (scripts/setup.sh does this)"
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LocalCluster:
    datadir: Path

    @property
    def _meta(self) -> Path:
        # Kept beside (not inside) the data directory so the server user never needs to read it.
        return self.datadir.with_name(self.datadir.name + ".meta")

    # ------------------------------------------------------------------ helpers
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(find_bindir() / args[0]), *args[1:]]
        if _is_root():
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        if check and proc.returncode != 0:
            raise ClusterError(f"{args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def _chown(self, path: Path) -> None:
        if _is_root():
            shutil.chown(path, SERVER_USER, SERVER_USER)

    @property
    def password(self) -> str:
        return (self._meta / "password").read_text().strip()

    @property
    def port(self) -> int:
        return int((self._meta / "port").read_text().strip())

    @property
    def initialized(self) -> bool:
        return (self.datadir / "PG_VERSION").exists() and (self._meta / "password").exists()

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return (
            f"{driver}://{DB_SUPERUSER}:{quote(self.password, safe='')}"
            f"@127.0.0.1:{self.port}/{database}"
        )

    # ------------------------------------------------------------------ lifecycle
    def init(self) -> None:
        """Create the cluster (data directory, superuser with a random password)."""
        if self.initialized:
            return
        if not server_user_can_use(self.datadir.parent):
            raise ClusterError(
                f"the {SERVER_USER!r} OS user cannot reach {self.datadir.parent}; "
                "choose a directory it can traverse (e.g. under /tmp or /var/tmp)"
            )
        self._meta.mkdir(parents=True, exist_ok=True)
        os.chmod(self._meta, 0o700)
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir, 0o700)
        self._chown(self.datadir)
        password = secrets.token_urlsafe(18)
        (self._meta / "password").write_text(password + "\n")
        (self._meta / "port").write_text(f"{_free_port()}\n")
        # read by initdb as the server user, then removed
        pwfile = self.datadir.with_name(f".{self.datadir.name}.pwfile")
        pwfile.write_text(password + "\n")
        self._chown(pwfile)
        try:
            self._run(
                "initdb", "-D", str(self.datadir), "-U", DB_SUPERUSER, f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                "-E", "UTF8", "--locale=C", "--no-sync",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = "\n".join(f"{k} = {v}" for k, v in SETTINGS.items())
        with open(self.datadir / "postgresql.conf", "a") as f:
            f.write(f"\n# pruner local cluster\n{conf}\n"
                    f"unix_socket_directories = '{self.datadir}'\n")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def start(self, timeout: float = 60) -> None:
        self.init()
        if self.is_running():
            return
        port = self.port
        if _port_open(port):  # someone else took our port since last time
            port = _free_port()
            (self._meta / "port").write_text(f"{port}\n")
        self._run(
            "pg_ctl", "start", "-w", "-t", str(int(timeout)), "-D", str(self.datadir),
            "-o", f"-p {port}", "-l", str(self.datadir / "server.log"),
        )
        deadline = time.monotonic() + timeout
        while not _port_open(port):
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"server did not open port {port}; see {self.datadir}/server.log")
            time.sleep(0.05)

    def stop(self, mode: str = "fast") -> None:
        if self.datadir.exists() and self.is_running():
            self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.datadir), check=False)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)
        shutil.rmtree(self._meta, ignore_errors=True)

    # ------------------------------------------------------------------ leases
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The cluster's lease lock: one acquire or release at a time, across processes."""
        self._meta.mkdir(parents=True, exist_ok=True)
        os.chmod(self._meta, 0o700)
        with open(self._meta / "lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _live_leases(self) -> list[Path]:
        """The lease files whose process still runs (the others are removed)."""
        live = []
        for lease in sorted((self._meta / "leases").glob("*")):
            if _holder_alive(lease):
                live.append(lease)
            else:
                lease.unlink(missing_ok=True)
        return live

    def _postmaster(self) -> str:
        """The running server's process id (first line of postmaster.pid), or ""."""
        try:
            return (self.datadir / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        except OSError:
            return ""

    def _ours(self) -> bool:
        """Whether a lease-holder started the server that runs now (the marker names its
        process; a server started any other way, or since, does not match)."""
        try:
            marker = (self._meta / "started-by-lease").read_text().strip()
        except OSError:
            return False
        return bool(marker) and marker == self._postmaster()

    def acquire(self, pid: int | None = None) -> bool:
        """Lease the cluster for process `pid` (default: this one), starting the server if it
        is not running. Returns whether this call started it."""
        pid = os.getpid() if pid is None else pid
        with self._locked():
            leases = self._meta / "leases"
            leases.mkdir(exist_ok=True)
            started = not (self.initialized and self.is_running())
            if started:
                self.start()
                (self._meta / "started-by-lease").write_text(self._postmaster() + "\n")
            (leases / str(pid)).write_text(_process_start(pid) + "\n")
            return started

    def release(self, pid: int | None = None) -> bool:
        """Give back `pid`'s lease. Stops the server when no live lease is left and a
        lease-holder started it; returns whether it stopped it."""
        pid = os.getpid() if pid is None else pid
        with self._locked():
            (self._meta / "leases" / str(pid)).unlink(missing_ok=True)
            if self._live_leases() or not self._ours():
                return False
            self.stop()
            (self._meta / "started-by-lease").unlink(missing_ok=True)
            return True

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one SQL command with psql (for set-up only, never with user text)."""
        env = {**os.environ, "PGPASSWORD": self.password}
        proc = subprocess.run(
            [str(find_bindir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", DB_SUPERUSER, "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            capture_output=True, text=True, env=env,
        )
        if proc.returncode != 0:
            raise ClusterError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout.strip()

    def create_database(self, name: str) -> str:
        """Create `name` if missing and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ClusterError(f"unsafe database name {name!r}")
        # `name` is checked above and comes from our own code, never from an operator.
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if not exists:
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _process_start(pid: int) -> str:
    """When process `pid` started (clock ticks since boot), so a lease of a process that is gone
    is not mistaken for one of a new process that got the same pid; "" where /proc is absent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def _holder_alive(lease: Path) -> bool:
    try:
        pid = int(lease.name)
        recorded = lease.read_text().strip()
    except (ValueError, OSError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    return not recorded or _process_start(pid) in ("", recorded)


def server_user_can_use(path: Path) -> bool:
    """Whether the server OS user can create files under `path` (matters only as root)."""
    if not _is_root():
        return True
    probe = path
    while not probe.exists():
        probe = probe.parent
    proc = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(probe)], capture_output=True
    )
    return proc.returncode == 0
