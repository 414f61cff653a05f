"""How much a seed makes: the session count's bounds and the row budgets derived from it, the
only values a seed statement binds."""

from __future__ import annotations

from dataclasses import dataclass

MIN_SESSIONS, MAX_SESSIONS = 40, 5_000_000


@dataclass(frozen=True)
class Sizes:
    """Row budgets derived from the session count (all bound as integers)."""

    n: int  # sessions
    u: int  # users
    p: int  # general projects
    v: int  # vfolders
    e: int  # endpoints (deployments)
    ub: int  # users with usage buckets

    @classmethod
    def of(cls, sessions: int) -> Sizes:
        return cls(
            n=sessions,
            u=max(20, min(20_000, sessions // 10)),
            p=max(6, min(300, sessions // 50)),
            v=max(40, sessions // 5),
            e=max(8, sessions // 100),
            ub=max(10, min(5_000, sessions // 50)),
        )

    def params(self) -> dict[str, int]:
        return {"n": self.n, "u": self.u, "p": self.p, "v": self.v, "e": self.e, "ub": self.ub}
