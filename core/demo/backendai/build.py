"""Building a release's schema: the platform's `schema oneshot` on a throwaway cluster, dumped
with pg_dump into the cache (once per version and builder revision)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from core.demo.backendai.cache import (
    PROJECT_DIR,
    Paths,
    _sha256,
    _write_atomic,
    cached_meta,
    file_lock,
)
from core.demo.backendai.clients import Conn, _client
from core.demo.backendai.common import (
    BUILDER_REVISION,
    BackendAIError,
    Progress,
    _run,
    print_progress,
    release_key,
    resolve_release,
    say,
)
from core.demo.backendai.python313 import ensure_venv
from core.demo.cluster import ClusterError, LocalCluster


def _throwaway_cluster() -> tuple[LocalCluster, Path]:
    base = Path(tempfile.mkdtemp(prefix="pruner-backendai-", dir="/tmp"))
    os.chmod(base, 0o755)  # the server OS user must traverse it when we run as root
    cluster = LocalCluster(base / "pg")
    try:
        cluster.start()
    except ClusterError as exc:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
        raise BackendAIError(f"could not start a throwaway PostgreSQL cluster: {exc}") from None
    return cluster, base


def _alembic_ini(url: str) -> str:
    # alembic reads this with configparser interpolation: a literal % is written %%.
    return (
        "[alembic]\n"
        "script_location = ai.backend.manager.models:alembic\n"
        f"sqlalchemy.url = {url.replace('%', '%%')}\n"
    )


def ensure_schema(release: str, progress: Progress | None = print_progress,
                  project_dir: Path = PROJECT_DIR) -> Path:
    """The path of a pg_dump of a freshly created manager database of `release`.

    Built once per (version, BUILDER_REVISION) and cached; concurrent callers wait on a file lock
    and find the finished dump; an interrupted build leaves no dump behind.
    """
    paths = Paths(resolve_release(release), project_dir)
    if cached_meta(paths.version, project_dir) is not None:
        return paths.dump
    with file_lock(paths.lock, progress, f"building the {paths.version} schema"):
        if cached_meta(paths.version, project_dir) is not None:  # built while we waited
            return paths.dump
        started = time.monotonic()
        venv = ensure_venv(paths.version, progress, project_dir)
        say(progress, f"{paths.version}: starting a throwaway PostgreSQL cluster")
        cluster, base = _throwaway_cluster()
        try:
            conn = Conn.of(cluster)
            database = "backendai_oneshot"
            conn.psql('CREATE DATABASE :"db"', db=database)
            workdir = Path(tempfile.mkdtemp(prefix="oneshot-"))
            try:
                ini = workdir / "alembic.ini"
                ini.touch(mode=0o600)
                ini.write_text(_alembic_ini(conn.url(database)))
                say(progress, f"{paths.version}: backend.ai mgr schema oneshot")
                proc = _run([str(venv / "bin" / "backend.ai"), "mgr", "schema", "oneshot",
                             "-f", str(ini)], "backend.ai mgr schema oneshot", cwd=workdir,
                            env={**conn.env(), "PYTHONUNBUFFERED": "1"})
                if "Detected a fresh new database" not in proc.stdout + proc.stderr:
                    raise BackendAIError("oneshot did not create the schema (database not fresh?)")
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            head = conn.psql("SELECT version_num FROM alembic_version", database)
            tables = int(conn.psql(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database))
            say(progress, f"{paths.version}: {tables} tables, alembic head {head}; pg_dump")
            paths.cache.mkdir(parents=True, exist_ok=True)
            tmp = paths.dump.with_name(f".{paths.dump.name}.{os.getpid()}.tmp")
            try:
                _run([str(_client("pg_dump")), "--no-owner", "--no-privileges",
                      "--format=plain", "--file", str(tmp), *conn.args(database)],
                     "pg_dump", env=conn.env())
                with open(tmp, "rb+") as fh:
                    os.fsync(fh.fileno())
                os.replace(tmp, paths.dump)
            finally:
                tmp.unlink(missing_ok=True)
        finally:
            cluster.destroy()
            shutil.rmtree(base, ignore_errors=True)
        meta = {
            "version": paths.version, "release": release_key(paths.version),
            "builder_revision": BUILDER_REVISION, "alembic_head": head, "tables": tables,
            "size": paths.dump.stat().st_size, "sha256": _sha256(paths.dump),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.monotonic() - started, 1),
        }
        # The metadata is what makes the dump valid, so it is written last.
        _write_atomic(paths.meta, (json.dumps(meta, indent=2) + "\n").encode())
        say(progress, f"{paths.version}: dump ready in {meta['build_seconds']} s: {paths.dump}")
        return paths.dump
