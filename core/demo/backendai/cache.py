"""Where the venv and the cached dump of a release live, the file locks and atomic writes that
keep the cache whole, and whether a cached dump is still valid."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.demo.backendai.common import BUILDER_REVISION, Progress, resolve_release, say

PROJECT_DIR = Path(__file__).resolve().parents[3]


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
def file_lock(path: Path, progress: Progress | None, doing: str) -> Iterator[None]:
    """An exclusive flock on `path` for the block; a second process waits, saying so ("waiting
    for another process {doing}")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(progress, f"waiting for another process {doing}")
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
