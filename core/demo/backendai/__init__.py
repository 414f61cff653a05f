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

# The package, one job a module (each imports only those listed above it):
#   common     the pinned releases, BackendAIError, progress, safe names, running a command
#   cache      where the venv and the dump live (Paths), file locks, a cached dump's validity
#   python313  a Python >= 3.13 and the per-release venv with the platform's package
#   clients    Conn (libpq parameters) and the psql / pg_dump binaries
#   build      the oneshot on a throwaway cluster, dumped into the cache (ensure_schema)
#   loading    per-release template databases, load_schema, drop_database
#   catalog    catalog facts and the platform's enums for the facts sheet
#   cli        main (python -m core.demo.backendai, see __main__)

from __future__ import annotations

from core.demo.backendai.build import ensure_schema
from core.demo.backendai.cache import PROJECT_DIR, Paths, cached_meta
from core.demo.backendai.catalog import facts, platform_enums
from core.demo.backendai.cli import main
from core.demo.backendai.clients import Conn
from core.demo.backendai.common import (
    BUILDER_REVISION,
    PACKAGE,
    RELEASES,
    BackendAIError,
    Progress,
    check_identifier,
    print_progress,
    release_key,
    resolve_release,
)
from core.demo.backendai.loading import TEMPLATE_PREFIX, drop_database, load_schema, template_name
from core.demo.backendai.python313 import PY313_ENV, ensure_venv, find_python313
from core.demo.backendai.python313 import _python_version as _python_version  # the tests use it

__all__ = [
    "BUILDER_REVISION",
    "PACKAGE",
    "PROJECT_DIR",
    "PY313_ENV",
    "RELEASES",
    "TEMPLATE_PREFIX",
    "BackendAIError",
    "Conn",
    "Paths",
    "Progress",
    "cached_meta",
    "check_identifier",
    "drop_database",
    "ensure_schema",
    "ensure_venv",
    "facts",
    "find_python313",
    "load_schema",
    "main",
    "platform_enums",
    "print_progress",
    "release_key",
    "resolve_release",
    "template_name",
]
