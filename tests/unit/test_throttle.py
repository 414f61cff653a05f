"""console.throttle: growing delays and a temporary lockout, on an injected clock."""

from __future__ import annotations

from console.throttle import Policy, Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_free_failures_then_a_doubling_delay_then_a_lockout() -> None:
    clock = Clock()
    throttle = Throttle(Policy(), clock=clock)
    waits = []
    for _ in range(10):
        assert throttle.check("k").allowed
        throttle.failure("k")
        verdict = throttle.check("k")
        waits.append(round(verdict.retry_after))
        clock.advance(verdict.retry_after)
    assert waits[:9] == [0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert waits[9] == 15 * 60  # the 10th failure locks the key
    clock.advance(-1)
    locked = throttle.check("k")
    assert not locked.allowed and locked.locked and 0 < locked.retry_after <= 1


def test_after_a_lockout_each_failure_locks_again() -> None:
    clock = Clock()
    throttle = Throttle(Policy(lockout_after=3, free_failures=1), clock=clock)
    for _ in range(3):
        throttle.failure("k")
    assert throttle.check("k").locked
    clock.advance(15 * 60)
    assert throttle.check("k").allowed  # one more try once the lockout is over
    throttle.failure("k")
    assert throttle.check("k").locked
    assert throttle.failures("k") == 4


def test_forgotten_after_an_hour_without_failures() -> None:
    clock = Clock()
    throttle = Throttle(Policy(), clock=clock)
    for _ in range(5):
        throttle.failure("k")
    clock.advance(3600 + 1)
    assert throttle.failures("k") == 0 and throttle.check("k").allowed


def test_the_strictest_key_decides_and_success_clears_only_its_key() -> None:
    clock = Clock()
    throttle = Throttle(Policy(free_failures=0, first_delay=5), clock=clock)
    throttle.failure("client", "account:a")
    throttle.failure("client", "account:b")
    assert throttle.failures("client") == 2
    assert round(throttle.check("client", "account:c").retry_after) == 10  # the client's wait
    throttle.success("account:a")
    assert throttle.failures("account:a") == 0
    assert throttle.failures("client") == 2, "signing in to one account keeps the client's count"


def test_the_table_is_bounded() -> None:
    clock = Clock()
    throttle = Throttle(Policy(), clock=clock, max_keys=100)
    for i in range(1_000):
        clock.advance(0.01)
        throttle.failure(f"client:{i}")
    assert len(throttle._records) == 100
    assert throttle.failures("client:999") == 1 and throttle.failures("client:0") == 0
