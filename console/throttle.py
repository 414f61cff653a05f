"""Sign-in throttling: a growing delay after failed attempts, then a temporary lockout.

Pure and clock-injected (tests never sleep). Each key counts its own failures: the console uses
one key per client address and one per account (unknown names share one key, so typing random
names cannot grow the table or dodge the count). An attempt is judged by the strictest of its
keys; a refused attempt is not checked against the password at all.

With the default policy the first 3 failures cost nothing, the next ones make the key wait 2 s,
4 s, 8 s ... up to 60 s, and the 10th locks it for 15 minutes; after that every further failure
locks it again. A key is forgotten one hour after its last failure, or when its account signs
in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    free_failures: int = 3
    first_delay: float = 2.0  # seconds, doubled by every further failure
    max_delay: float = 60.0
    lockout_after: int = 10  # failures
    lockout_seconds: float = 15 * 60
    forget_after: float = 60 * 60  # seconds without a failure

    def wait_after(self, failures: int) -> float:
        """How long a key must wait after its `failures`-th failure."""
        if failures >= self.lockout_after:
            return self.lockout_seconds
        if failures <= self.free_failures:
            return 0.0
        return min(self.max_delay, self.first_delay * 2.0 ** (failures - self.free_failures - 1))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds, when not allowed
    locked: bool = False  # refused by a lockout rather than a delay


ALLOWED = Verdict(True)


@dataclass
class _Record:
    failures: int
    last: float


class Throttle:
    def __init__(self, policy: Policy | None = None,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.policy = policy or Policy()
        self.clock = clock
        self.max_keys = max_keys
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> Verdict:
        """Whether an attempt under `keys` may be checked now (the strictest key decides)."""
        now = self.clock()
        verdict = ALLOWED
        with self._lock:
            for key in keys:
                record = self._current(key, now)
                if record is None:
                    continue
                wait = record.last + self.policy.wait_after(record.failures) - now
                if wait > verdict.retry_after:
                    locked = record.failures >= self.policy.lockout_after
                    verdict = Verdict(False, wait, locked)
        return verdict

    def failure(self, *keys: str) -> int:
        """Count a failed attempt against every key; the highest count among them."""
        now = self.clock()
        worst = 0
        with self._lock:
            for key in keys:
                record = self._current(key, now) or _Record(0, now)
                record.failures += 1
                record.last = now
                self._records[key] = record
                worst = max(worst, record.failures)
            self._bound(now)
        return worst

    def success(self, key: str) -> None:
        """Forget `key` (an account that signed in). Client keys are left to expire: signing in
        to one account must not clear a client's failures against others."""
        with self._lock:
            self._records.pop(key, None)

    def failures(self, key: str) -> int:
        with self._lock:
            record = self._current(key, self.clock())
            return record.failures if record else 0

    def _current(self, key: str, now: float) -> _Record | None:
        record = self._records.get(key)
        if record is not None and now - record.last > max(
                self.policy.forget_after, self.policy.wait_after(record.failures)):
            del self._records[key]
            return None
        return record

    def _bound(self, now: float) -> None:
        """Keep at most `max_keys` records: the expired first, then the oldest."""
        if len(self._records) <= self.max_keys:
            return
        for key in list(self._records):
            self._current(key, now)
        for key, _ in sorted(self._records.items(), key=lambda kv: kv[1].last)[
                :len(self._records) - self.max_keys]:
            del self._records[key]
