"""A throwaway PostgreSQL cluster for a test fixture: initdb in a fresh temp dir (run as the
`postgres` OS user when we are root), started, and destroyed afterwards."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from core.demo.cluster import LocalCluster


@contextlib.contextmanager
def temp_cluster(prefix: str) -> Iterator[LocalCluster]:
    """A running cluster under a new temp dir named `prefix…`; removed with its dir on exit."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(base, 0o755)  # the server's OS user must traverse it when we run as root
    cluster = LocalCluster(base / "pg")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.destroy()
        if base.exists() and not any(base.iterdir()):
            base.rmdir()
