"""Real Backend.AI manager schemas for tests and the demo, built the way the platform builds them.

For a pinned release of `backend-ai-manager` this module installs the package into a venv of its
own (`.pruner/backendai/<version>/venv`, it needs Python >= 3.13), points the platform's one-shot
schema command (`backend.ai mgr schema oneshot`: create_all, the global-entity seed rows, the
alembic head stamp) at a throwaway database on a loopback `LocalCluster`, and keeps a `pg_dump` of
the result in `.pruner/cache/backendai-manager-<version>.sql`. Loading a release into a database
then means copying a per-release template database (restored from the dump once per cluster).

Nothing of upstream is committed: the venv and the dump live under the git-ignored `.pruner/`.

    python -m core.demo.backendai build [26.8 26.9]   # build (or reuse) the dumps
    python -m core.demo.backendai facts 26.9          # catalog facts for the facts sheet
    python -m core.demo.backendai load 26.9 DBNAME [--url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core.demo.cluster import DB_SUPERUSER, ClusterError, LocalCluster, find_bindir

# The releases we build: the last 26.8.x and the newest 26.9.x on PyPI (checked 2026-11-29 with
# `pip index versions backend-ai-manager` under Python 3.13).
RELEASES: dict[str, str] = {"26.8": "26.8.3", "26.9": "26.9.6"}

# Bump when the dump's content or the way it is made changes: cached dumps of another builder
# revision are rebuilt, templates restored from another dump are re-created.
BUILDER_REVISION = 1

PACKAGE = "backend-ai-manager"
PY313_ENV = "PRUNER_PY313"
PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATE_PREFIX = "pruner_tpl_backendai_"

Progress = Callable[[str], None]
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class BackendAIError(RuntimeError):
    """A Backend.AI schema could not be built or loaded; the message says why in one line."""


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def print_progress(message: str) -> None:
    print(f"backendai: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------- releases
def resolve_release(release: str) -> str:
    """The exact version for a short key ("26.9") or an exact pinned version ("26.9.6")."""
    if release in RELEASES:
        return RELEASES[release]
    if release in RELEASES.values():
        return release
    known = ", ".join(f"{k} ({v})" for k, v in RELEASES.items())
    raise BackendAIError(f"unknown Backend.AI release {release!r}; known: {known}")


def release_key(release: str) -> str:
    """The short key ("26.9") of a key or a pinned version."""
    version = resolve_release(release)
    return next(k for k, v in RELEASES.items() if v == version)


def check_identifier(name: str) -> str:
    """A database name we may splice into SQL: lower-case letters, digits, underscores."""
    if not _IDENT.match(name):
        raise BackendAIError(f"unsafe database name {name!r} (use [a-z_][a-z0-9_]*, <= 63 chars)")
    return name


# ---------------------------------------------------------------------------------- python 3.13
def _python_version(exe: str) -> tuple[int, int] | None:
    try:
        proc = subprocess.run(
            [exe, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:  # e.g. a pyenv shim for a version that is not selected
        return None
    try:
        major, minor = (int(x) for x in proc.stdout.split())
    except ValueError:
        return None
    return major, minor


def find_python313() -> Path:
    """A Python >= 3.13 interpreter (the platform's packages require it).

    $PRUNER_PY313 when set (used or refused), else python3.13 / python3.14 on PATH, then pyenv
    installs under ~/.pyenv and /root/.pyenv. Every candidate is run once to check that it works
    (a pyenv shim for a version that is not selected does not).
    """
    configured = os.environ.get(PY313_ENV)
    if configured:  # an explicit choice is used or refused, never silently replaced
        version = _python_version(configured)
        if version is None or version < (3, 13):
            raise BackendAIError(f"{PY313_ENV}={configured} is not a working Python >= 3.13")
        return Path(configured)
    candidates: list[str] = []
    for name in ("python3.13", "python3.14"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    for root in (Path.home() / ".pyenv", Path("/root/.pyenv")):
        with contextlib.suppress(OSError):
            for found_exe in sorted((root / "versions").glob("3.1[3-9]*/bin/python"),
                                    reverse=True):
                candidates.append(str(found_exe))
    for exe in candidates:
        version = _python_version(exe)
        if version is not None and version >= (3, 13):
            return Path(exe)
    raise BackendAIError(
        f"{PACKAGE} needs Python >= 3.13 and none was found; install one (e.g. "
        f"`pyenv install 3.13`) or set {PY313_ENV}=/path/to/python3.13"
    )


# ---------------------------------------------------------------------------------- paths
@dataclass(frozen=True)
class Paths:
    version: str
    project_dir: Path = PROJECT_DIR

    @property
    def venv(self) -> Path:
        return self.project_dir / ".pruner" / "backendai" / self.version / "venv"

    @property
    def cache(self) -> Path:
        return self.project_dir / ".pruner" / "cache"

    @property
    def dump(self) -> Path:
        return self.cache / f"backendai-manager-{self.version}.sql"

    @property
    def meta(self) -> Path:
        return self.cache / f"backendai-manager-{self.version}.json"

    @property
    def lock(self) -> Path:
        return self.cache / f"backendai-manager-{self.version}.lock"


@contextlib.contextmanager
def _file_lock(path: Path, progress: Progress | None, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _say(progress, f"waiting for another process building {what}")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_meta(release: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any] | None:
    """The metadata of a valid cached dump of `release`, or None when it must be (re)built."""
    paths = Paths(resolve_release(release), project_dir)
    try:
        meta: dict[str, Any] = json.loads(paths.meta.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("builder_revision") != BUILDER_REVISION or meta.get("version") != paths.version:
        return None
    try:
        if paths.dump.stat().st_size != meta.get("size"):
            return None
    except OSError:
        return None
    return meta


# ---------------------------------------------------------------------------------- the venv
_PROBE = (
    "import importlib.metadata as m, ai.backend.manager.cli.dbschema as d; "
    f"print(m.version({PACKAGE!r}))"
)


def _venv_version(venv: Path) -> str | None:
    exe = venv / "bin" / "python"
    if not exe.exists() or not (venv / "bin" / "backend.ai").exists():
        return None
    proc = subprocess.run([str(exe), "-c", _PROBE], capture_output=True, text=True, timeout=300)
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_venv(release: str, progress: Progress | None = print_progress,
                project_dir: Path = PROJECT_DIR) -> Path:
    """The venv with `backend-ai-manager==<version>` installed (reused when it is there)."""
    paths = Paths(resolve_release(release), project_dir)
    with _file_lock(paths.venv.parent / "venv.lock", progress, f"the {paths.version} venv"):
        if _venv_version(paths.venv) == paths.version:
            return paths.venv
        python = find_python313()
        _say(progress, f"creating {paths.venv} with {python}")
        paths.venv.parent.mkdir(parents=True, exist_ok=True)
        _run([str(python), "-m", "venv", "--clear", str(paths.venv)], "venv creation")
        _say(progress, f"installing {PACKAGE}=={paths.version} with pip (takes a few minutes)")
        started = time.monotonic()
        _run([str(paths.venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", f"{PACKAGE}=={paths.version}"],
             f"pip install {PACKAGE}=={paths.version}", timeout=3600)
        found = _venv_version(paths.venv)
        if found != paths.version:
            raise BackendAIError(
                f"{paths.venv}: {PACKAGE} {paths.version} installed but does not import "
                f"(found {found!r})")
        took = time.monotonic() - started
        _say(progress, f"installed {PACKAGE}=={paths.version} in {took:.0f} s")
        return paths.venv


def _run(cmd: list[str], what: str, *, timeout: float = 900, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                              env=env)
    except subprocess.TimeoutExpired:
        raise BackendAIError(f"{what} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise BackendAIError(f"{what} could not start: {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise BackendAIError(f"{what} failed (exit {proc.returncode}): {tail[0]}")
    return proc


# ---------------------------------------------------------------------------------- connections
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


# ---------------------------------------------------------------------------------- the build
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
    with _file_lock(paths.lock, progress, f"the {paths.version} schema"):
        if cached_meta(paths.version, project_dir) is not None:  # built while we waited
            return paths.dump
        started = time.monotonic()
        venv = ensure_venv(paths.version, progress, project_dir)
        _say(progress, f"{paths.version}: starting a throwaway PostgreSQL cluster")
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
                _say(progress, f"{paths.version}: backend.ai mgr schema oneshot")
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
            _say(progress, f"{paths.version}: {tables} tables, alembic head {head}; pg_dump")
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
        _say(progress, f"{paths.version}: dump ready in {meta['build_seconds']} s: {paths.dump}")
        return paths.dump


# ---------------------------------------------------------------------------------- loading
def template_name(release: str) -> str:
    return check_identifier(TEMPLATE_PREFIX + resolve_release(release).replace(".", "_"))


def _database_comment(conn: Conn, name: str) -> str:
    return conn.psql("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                     "WHERE datname = :'db'", db=name)


def _restore(conn: Conn, database: str, dump: Path) -> None:
    _run([str(_client("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
          "-o", "/dev/null", "-f", str(dump), *conn.args(database)],
         f"restoring {dump.name}", env=conn.env(), timeout=1800)


def _ensure_template(conn: Conn, release: str, dump: Path, meta: dict[str, Any],
                     progress: Progress | None) -> str:
    """The per-release template database on this server, restored from the current dump once.

    The template's comment holds the dump's sha256; a stale template is replaced. A template is
    restored under a temporary name and renamed when complete, so nobody copies half of one.
    """
    name = template_name(release)
    marker = f"pruner backendai {meta['sha256']}"
    if _database_comment(conn, name) == marker:
        return name
    building = check_identifier(f"{name}_b{os.getpid()}")
    _say(progress, f"{meta['version']}: restoring the dump into template {name}")
    conn.psql('DROP DATABASE IF EXISTS :"db"', db=building)
    conn.psql('CREATE DATABASE :"db"', db=building)
    try:
        _restore(conn, building, dump)
        conn.psql("COMMENT ON DATABASE :\"db\" IS :'marker'", db=building, marker=marker)
        conn.psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=name)
        conn.psql('ALTER DATABASE :"old" RENAME TO :"new"', old=building, new=name)
    except BackendAIError:
        with contextlib.suppress(BackendAIError):
            conn.psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=building)
        # another process may have finished the same template meanwhile
        if _database_comment(conn, name) != marker:
            raise
    return name


def load_schema(target: str | LocalCluster, database: str, release: str, *,
                replace: bool = False, use_template: bool = True,
                progress: Progress | None = print_progress,
                project_dir: Path = PROJECT_DIR) -> str:
    """Create `database` on the server of `target` (a URL or a LocalCluster) holding a fresh
    manager schema of `release`, and return its SQLAlchemy (asyncpg) URL.

    With `use_template` (default) the dump is restored once into a template database per release
    and server, and each load is a `CREATE DATABASE … TEMPLATE` copy; otherwise the dump is
    restored with psql (ON_ERROR_STOP, one transaction). `replace` drops an existing `database`.
    """
    check_identifier(database)
    version = resolve_release(release)
    dump = ensure_schema(version, progress, project_dir)
    meta = cached_meta(version, project_dir)
    assert meta is not None
    conn = Conn.of(target)
    if replace:
        conn.psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=database)
    if use_template:
        lock = Paths(version, project_dir).cache / f"template-{conn.host}-{conn.port}.lock"
        with _file_lock(lock, progress, f"the {version} template"):
            template = _ensure_template(conn, version, dump, meta, progress)
            conn.psql('CREATE DATABASE :"db" TEMPLATE :"tpl"', db=database, tpl=template)
    else:
        conn.psql('CREATE DATABASE :"db"', db=database)
        try:
            _restore(conn, database, dump)
        except BackendAIError:
            with contextlib.suppress(BackendAIError):
                conn.psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)', db=database)
            raise
    return conn.url(database, "postgresql+asyncpg")


def drop_database(target: str | LocalCluster, database: str) -> None:
    Conn.of(target).psql('DROP DATABASE IF EXISTS :"db" WITH (FORCE)',
                        db=check_identifier(database))


# ---------------------------------------------------------------------------------- facts
_FACTS_TABLES = (
    "sessions", "kernels", "session_dependencies", "routings", "endpoints", "session_idle_checks",
    "resource_allocations", "vfolder_attachment", "vfolders", "vfolder_permissions",
    "vfolder_invitations", "vfolder_user_mount_policies", "model_cards", "deployment_revisions",
    "association_scopes_entities", "object_permissions", "virtual_entities", "virtual_scopes",
    "entity_memberships", "scope_bindings", "entity_shares", "roles", "user_roles",
    "permissions", "entity_labels", "audit_logs", "audit_log_scopes", "event_logs", "error_logs",
    "login_history", "login_sessions", "session_scheduling_history",
    "kernel_scheduling_history", "deployment_history", "route_history", "replica_group_history",
    "kernel_usage_records", "usage_bucket_entries", "user_usage_buckets",
    "project_usage_buckets", "domain_usage_buckets", "endpoint_tokens", "retention_policies",
    "domains", "groups", "users", "keypairs", "scaling_groups", "agents", "replica_groups",
    "global_entities", "keypair_resource_policies", "user_resource_policies",
    "project_resource_policies", "resource_slot_types", "idle_checkers", "runtime_variants",
    "session_groups", "login_client_types", "images", "role_invitations",
    "association_groups_users", "sgroups_for_domains", "sgroups_for_groups",
    "sgroups_for_keypairs", "container_registries", "permission_fields",
    "entity_membership_caps", "entity_membership_fields", "role_presets",
)

# Catalog queries (fixed text). Each yields rows printed as `a | b | …`.
_FACT_QUERIES: dict[str, str] = {
    "foreign keys (referencing table, columns -> referenced, ON DELETE, ON UPDATE, deferrable, "
    "an index leads the FK columns)": """
        SELECT c.conrelid::regclass::text,
               (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                  FROM unnest(c.conkey) WITH ORDINALITY k(att, ord)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att),
               c.confrelid::regclass::text || '(' ||
               (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                  FROM unnest(c.confkey) WITH ORDINALITY k(att, ord)
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.att) || ')',
               CASE c.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                    WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
               CASE c.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
                    WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END,
               CASE WHEN NOT c.condeferrable THEN 'not deferrable'
                    WHEN c.condeferred THEN 'DEFERRABLE INITIALLY DEFERRED'
                    ELSE 'DEFERRABLE' END,
               CASE WHEN EXISTS (
                   SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                     AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)
                    THEN 'indexed' ELSE 'NO INDEX' END
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        ORDER BY c.confrelid::regclass::text, 1, 2""",
    "primary keys (table, columns, types)": """
        SELECT c.conrelid::regclass::text,
               string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY k.ord)
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(att, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
        WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace
        GROUP BY c.conrelid ORDER BY 1""",
    "tables without a primary key": """
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint p WHERE p.conrelid = c.oid
                          AND p.contype = 'p')
        ORDER BY 1""",
    "PG enum types (type, values in order, columns using it)": """
        SELECT t.typname,
               (SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)
                  FROM pg_enum e WHERE e.enumtypid = t.oid),
               (SELECT string_agg(a.attrelid::regclass::text || '.' || a.attname, ', '
                                  ORDER BY 1)
                  FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid
                  WHERE a.atttypid = t.oid AND r.relkind IN ('r', 'p') AND NOT a.attisdropped)
        FROM pg_type t
        WHERE t.typtype = 'e' AND t.typnamespace = 'public'::regnamespace ORDER BY 1""",
    "columns of the tables this project touches (table, column, type, nullable, default)": """
        SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod),
               CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'null' END,
               coalesce(pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname = ANY(:tables) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, a.attnum""",
    "indexes of the tables this project touches": """
        SELECT i.indrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(:tables)
        ORDER BY 1, 2""",
    "check and unique constraints of the tables this project touches": """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
        WHERE c.contype IN ('c', 'u', 'x') AND r.relnamespace = 'public'::regnamespace
          AND r.relname = ANY(:tables)
        ORDER BY 1, 2""",
    "triggers (non-internal)": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2""",
    "functions in public": """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1""",
    "row level security / partitioned / inherited / views / sequences": """
        SELECT 'rls', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relrowsecurity
        UNION ALL SELECT 'policy', tablename || '.' || policyname FROM pg_policies
        UNION ALL SELECT 'partitioned', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'p'
        UNION ALL SELECT 'inherits', inhrelid::regclass::text || ' <- ' ||
               inhparent::regclass::text FROM pg_inherits
        UNION ALL SELECT 'view', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm')
        UNION ALL SELECT 'sequence', relname FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'
        UNION ALL SELECT 'extension', extname FROM pg_extension
        ORDER BY 1, 2""",
    "tables and the rows oneshot left in them": """
        SELECT c.relname,
               (xpath('/row/n/text()', query_to_xml(
                   format('SELECT count(*) AS n FROM public.%I', c.relname), false, true,
                   '')))[1]::text
        FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        ORDER BY 1""",
}


# Run by the release's own interpreter: the status enums the rows hold, and the sets the
# platform's code derives from them (terminal, retriable, purgable…). Printed as found.
_ENUM_PROBE = r"""
import importlib, inspect
TARGETS = [
    ("ai.backend.manager.data.session.types", "SessionStatus"),
    ("ai.backend.manager.data.kernel.types", "KernelStatus"),
    ("ai.backend.manager.data.vfolder.types", "VFolderOperationStatus"),
    ("ai.backend.manager.data.vfolder.types", "VFolderMountPermission"),
    ("ai.backend.manager.data.vfolder.types", "VFolderInvitationState"),
    ("ai.backend.common.data.endpoint.types", "EndpointLifecycle"),
    ("ai.backend.manager.data.deployment.types", "RouteStatus"),
    ("ai.backend.manager.data.deployment.types", "ReplicaGroupLifecycle"),
    ("ai.backend.manager.data.auth.login_session_types", "LoginSessionStatus"),
    ("ai.backend.manager.data.auth.login_session_types", "LoginAttemptResult"),
    ("ai.backend.manager.data.entity_share.types", "EntityShareStatus"),
    ("ai.backend.manager.data.role_invitation.types", "RoleInvitationState"),
    ("ai.backend.manager.data.permission.status", "RoleStatus"),
    ("ai.backend.common.data.retention.types", "RetentionCategory"),
    ("ai.backend.common.types", "SessionResult"),
    ("ai.backend.common.types", "SessionTypes"),
]
for mod, name in TARGETS:
    try:
        cls = getattr(importlib.import_module(mod), name)
    except Exception as exc:
        print(f"{name} | absent ({type(exc).__name__}) | {mod}")
        continue
    print(f"{name} | " + ", ".join(f"{m.name}={m.value}" for m in cls) + f" | {mod}")
    attrs = sorted({a for k in cls.__mro__ if k.__module__.startswith("ai.") for a in vars(k)})
    for attr in attrs:
        if attr.startswith("_") or not isinstance(
                inspect.getattr_static(cls, attr), (classmethod, staticmethod)):
            continue
        try:
            got = getattr(cls, attr)()
        except Exception:
            continue
        if isinstance(got, (set, frozenset, list, tuple)):
            print(f"{name}.{attr}() | " + ", ".join(sorted(str(getattr(x, "value", x))
                                                        for x in got)))
for mod, names in [("ai.backend.manager.models.session.row", ["DEAD_SESSION_STATUSES"]),
                   ("ai.backend.manager.models.kernel.row", ["DEAD_KERNEL_STATUSES"]),
                   ("ai.backend.manager.models.vfolder.row",
                    ["HARD_DELETED_VFOLDER_STATUSES", "SOFT_DELETED_VFOLDER_STATUSES",
                     "vfolder_status_map"])]:
    m = importlib.import_module(mod)
    for n in names:
        got = getattr(m, n, None)
        if isinstance(got, dict):
            for k, v in got.items():
                print(f"{n}[{getattr(k, 'value', k)}] | "
                      + ", ".join(sorted(str(getattr(x, "value", x)) for x in v)))
        elif got is not None:
            print(f"{n} | " + ", ".join(sorted(str(getattr(x, "value", x)) for x in got)))
"""


def platform_enums(release: str, progress: Progress | None = print_progress) -> str:
    """The status enums and derived sets, read from the release's installed package."""
    venv = ensure_venv(release, progress)
    proc = _run([str(venv / "bin" / "python"), "-c", _ENUM_PROBE], "the enum probe",
                timeout=300)
    return proc.stdout


def facts(release: str, progress: Progress | None = print_progress) -> str:
    """Catalog facts of a fresh `release` database (loaded into a throwaway cluster)."""
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    version = resolve_release(release)
    ensure_schema(version, progress)
    meta = cached_meta(version)
    cluster, base = _throwaway_cluster()
    out: list[str] = [
        f"# backend-ai-manager {version}: catalog facts of a fresh `schema oneshot` database",
        f"alembic head: {meta['alembic_head'] if meta else '?'}; tables: "
        f"{meta['tables'] if meta else '?'}",
    ]
    try:
        url = load_schema(cluster, "facts", version, use_template=False, progress=progress)

        async def collect() -> None:
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    for title, sql in _FACT_QUERIES.items():
                        params = {"tables": list(_FACTS_TABLES)} if ":tables" in sql else {}
                        rows = (await conn.execute(sa.text(sql), params)).all()
                        out.append(f"\n## {title}  [{len(rows)}]")
                        out.extend(" | ".join("" if v is None else str(v) for v in row)
                                   for row in rows)
            finally:
                await engine.dispose()

        asyncio.run(collect())
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    out.append("\n## platform enums and derived status sets (the installed package)")
    out.append(platform_enums(version, progress).rstrip())
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.demo.backendai", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build (or reuse) the cached schema dumps")
    p_build.add_argument("releases", nargs="*", default=list(RELEASES),
                         help=f"release keys or versions (default: {' '.join(RELEASES)})")
    p_facts = sub.add_parser("facts", help="print catalog facts of a fresh database")
    p_facts.add_argument("release")
    p_load = sub.add_parser("load", help="create DATABASE holding a fresh schema")
    p_load.add_argument("release")
    p_load.add_argument("database")
    p_load.add_argument("--url", required=True, help="any database URL of the target server")
    p_load.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            for release in args.releases:
                started = time.monotonic()
                dump = ensure_schema(release)
                print(f"{resolve_release(release)}: {dump} "
                      f"({time.monotonic() - started:.1f} s)")
        elif args.command == "facts":
            sys.stdout.write(facts(args.release))
        else:
            url = load_schema(args.url, args.database, args.release, replace=args.replace)
            print(make_url(url).render_as_string(hide_password=True))
    except BackendAIError as exc:
        print(f"backendai: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
