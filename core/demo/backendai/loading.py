"""Loading a release's cached dump into a database of a server, by way of a per-release template
database restored once per server; and dropping such a database."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from core.demo.backendai.build import ensure_schema
from core.demo.backendai.cache import PROJECT_DIR, Paths, cached_meta, file_lock
from core.demo.backendai.clients import Conn, _client
from core.demo.backendai.common import (
    BackendAIError,
    Progress,
    _run,
    check_identifier,
    print_progress,
    resolve_release,
    say,
)
from core.demo.cluster import LocalCluster

TEMPLATE_PREFIX = "pruner_tpl_backendai_"


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
    say(progress, f"{meta['version']}: restoring the dump into template {name}")
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
        with file_lock(lock, progress, f"building the {version} template"):
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
