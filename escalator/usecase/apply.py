"""Apply one write exactly once: after an ambiguous failure, read before sending it again.

An ambiguous failure is a timeout or reset after sending, a 5xx, or a 2xx whose body could not be
read: PagerDuty may or may not have applied the write. The write's own ``landed`` check reads
PagerDuty and says which.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from escalator.errors import EscalatorError, OutcomeUnknown, PagerDutyError, UnexpectedResponse
from escalator.workflow import Console

WRITE_ATTEMPTS = 3

C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)
S = TypeVar("S")


class Sendable(Protocol[C_contra, S]):
    """A write as this module sends it: an incident's
    (:class:`~escalator.operations.base.Write`, through the PagerDuty client) or any target's
    (:class:`~escalator.operations.target.TargetWrite`, through the operation's clients)."""

    def send(self, clients: C_contra, current: S | None, /) -> S | None: ...

    def rechecks(self, error: PagerDutyError, /) -> bool: ...

    def landed(self, clients: C_contra, current: S | None, /) -> S | None: ...


def apply_write(
    write: Sendable[C, S], clients: C, current: S | None, console: Console
) -> tuple[S | None, bool]:
    """Send ``write``: the target PagerDuty then holds (None when the write returns none), and
    whether this run may have applied it (False when PagerDuty only refused it and the read
    showed it already held: another run did it)."""
    last_error: EscalatorError | None = None
    ambiguous = False
    for _attempt in range(WRITE_ATTEMPTS):
        try:
            return write.send(clients, current), True
        except (OutcomeUnknown, UnexpectedResponse) as exc:
            last_error, ambiguous = exc, True
        except PagerDutyError as exc:
            if exc.status < 500 and not write.rechecks(exc):
                raise
            last_error, ambiguous = exc, ambiguous or exc.status >= 500
        refused = isinstance(last_error, PagerDutyError) and last_error.status < 500
        why = "to see whether it already holds the change" if refused else "before trying again"
        console.warning(
            f"{last_error.render(console.terms).message} Reading PagerDuty {why}.",
            title="Checking PagerDuty before sending again",
        )
        landed = write.landed(clients, current)
        if landed is not None:
            return landed, ambiguous
        if isinstance(last_error, PagerDutyError) and last_error.status < 500:
            raise last_error  # a refusal the lookup does not explain: do not send it again
    assert last_error is not None  # the loop ran at least once
    raise last_error
