"""CPU seconds spent by the bench cluster and by the client, for a second opinion on a shared box.

Wall time on a 2-core machine that other people load varies ±50% between identical runs; CPU
time varies far less, because waiting for a core is not counted. `Cpu.now()` reads the server's
CPU (every process of the cluster, live ones from /proc and those that exited through the
postmaster's reaped-children counters) and the client's (this process, its threads included, plus
reaped child processes such as a CLI run). A difference of two readings is what a contender cost.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def server_seconds(postmaster: int) -> float:
    """utime+stime of the postmaster, its live children, and its reaped children. A child reaped
    while /proc is read would be missed (or counted twice): the reading is then taken again."""
    for _ in range(20):
        before = _stat(postmaster)
        if before is None:
            return 0.0
        # fields (from 3): utime=14, stime=15, cutime=16, cstime=17 -> indexes 11..14
        total = sum(int(x) for x in before[11:15])
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            st = _stat(int(entry.name))
            if st is not None and st[1] == str(postmaster):  # ppid
                total += int(st[11]) + int(st[12])
        after = _stat(postmaster)
        if after is not None and after[13:15] == before[13:15]:
            return total / _TICK
        time.sleep(0.01)
    return total / _TICK


def client_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Cpu:
    server: float
    client: float

    @staticmethod
    def now(datadir: Path) -> Cpu:
        pid = int((datadir / "postmaster.pid").read_text().split()[0])
        return Cpu(server_seconds(pid), client_seconds())

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.server - other.server, self.client - other.client)

    @property
    def total(self) -> float:
        return self.server + self.client
