"""What the browser tests share with their fixtures: paths, the test database, constants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.demo.cluster import LocalCluster

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
CONFIRM_ABOVE = 100  # low, so the browser test goes through the typed confirmation
DATABASE = "pruner_e2e"
ACCOUNT, ACCOUNT_PASSWORD = "e2e-operator", "e2e correct horse battery"


@dataclass
class Database:
    cluster: LocalCluster
    url: str

    def query(self, sql: str) -> list[str]:
        """Fixed test SQL through psql: a view of the database independent of the console."""
        out = self.cluster.psql(sql, DATABASE)
        return out.splitlines() if out else []
