"""The run's clock and its one deadline: how long is left, and how long one attempt may wait.

Every wait between attempts goes through the clock of the run's :class:`Deadline`; the clock a
new deadline takes is set in one place, :func:`use_clock` (the real one unless a caller, such as
a test, sets another for its own thread).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

#: One attempt never waits longer than this for an answer, whatever the budget.
MAX_ATTEMPT_SECONDS = 10.0


class Clock(Protocol):
    """Time as the retry logic sees it; tests pass a fake one."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def time(self) -> float:
        return time.time()


_CLOCK: ContextVar[Clock | None] = ContextVar("escalator_clock", default=None)


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Give every :class:`Deadline` made inside the block (in this thread) ``clock``."""
    token = _CLOCK.set(clock)
    try:
        yield clock
    finally:
        _CLOCK.reset(token)


class Deadline:
    """The one total time budget of a run, shared by every request, body and retry."""

    def __init__(self, seconds: float, clock: Clock | None = None) -> None:
        self.clock = clock or _CLOCK.get() or SystemClock()
        self.seconds = seconds
        self._end = self.clock.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self.clock.monotonic())

    @property
    def attempt_timeout(self) -> float:
        """How long one attempt may wait for an answer: a share of the budget, at most 10 s."""
        return min(MAX_ATTEMPT_SECONDS, max(1.0, self.seconds / 4))

    def fits(self, wait: float) -> bool:
        """Whether waiting ``wait`` seconds still leaves time for one whole attempt."""
        return self.remaining() >= wait + self.attempt_timeout
