"""A clock for client tests that never sleeps: each wait is recorded and moves the time on."""

from __future__ import annotations


class StepClock:
    """A clock that never sleeps: each wait is recorded and moves the time on."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
