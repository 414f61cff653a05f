"""The report: machine facts, versions, the table of figures and ratios, how to reproduce."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib.metadata import version

from bench.data import Template
from bench.measure import Row


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), for a report's machine line."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def machine_facts(server_version: str) -> list[str]:
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("sqlalchemy", "asyncpg", "streamlit"))
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores; RAM {_ram_gib():.0f} GiB; "
        f"{platform.system()} {platform.release()}",
        f"- PostgreSQL {server_version} (throwaway cluster from core.demo.cluster: fsync off, "
        "shared_buffers 512MB, work_mem 32MB; for the bench also autovacuum off, jit off, "
        "no parallel workers)",
        f"- Python {platform.python_version()}; {pkgs}",
        "- load average at start / end: {load_start} / {load_end}",
    ]


def _s(v: float | None) -> str:
    return "—" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")


def table(rows: list[Row]) -> list[str]:
    out = ["| suite | case | Pruner (s) | floor (s) | ratio | target | holds | CPU ratio | notes |",
           "|---|---|---:|---:|---:|---:|:---:|---:|---|"]
    for r in rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}×"
        target = "—" if r.target is None else f"≤ {r.target:.2f}×"
        holds = {None: "—", True: "yes", False: "**no**"}[r.holds]
        labels = "" if (r.ours_label, r.floor_label) == ("Pruner", "floor") else (
            f"({r.ours_label} / {r.floor_label}) ")
        cpu = "—" if r.cpu_ratio is None else f"{r.cpu_ratio:.2f}×"
        out.append(f"| {r.suite} | {r.case} | {_s(r.ours_s)} | {_s(r.floor_s)} | {ratio} | "
                   f"{target} | {holds} | {cpu} | {labels}{r.note} |")
    return out


@dataclass
class Report:
    mode: str
    command: str
    facts: list[str]
    templates: list[Template]
    rows: list[Row] = field(default_factory=list)
    memory: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    minutes: float = 0.0

    def markdown(self) -> str:
        seeds = [f"| {t.name} | " + ", ".join(f"{k} {v:,}" for k, v in t.rows.items())
                 + f" | {t.bytes / 2**20:,.0f} MiB | {t.seconds:.0f} s |" for t in self.templates]
        return "\n".join([
            f"## Results ({self.mode} run, {self.minutes:.1f} min)", "",
            *self.facts, "",
            "### Data", "",
            "| template | rows | size | seeded in |", "|---|---|---:|---:|", *seeds, "",
            "### Figures", "",
            "Ratios are Pruner's time over the floor's, on identical copies in the same run "
            "(best of the repeats noted). Lower is better; targets are the issue's and apply "
            "to the wall-time ratio. CPU ratio: the same comparison in CPU seconds (the "
            "cluster's processes + the client), which a loaded box disturbs far less.", "",
            *table(self.rows), "",
            "### Peak memory of the client process", "",
            *self.memory, "",
            *self.extra, "",
            f"Reproduce: `{self.command}`", "",
        ])
