"""Apply one write exactly once: after an ambiguous failure, read before sending it again.

An ambiguous failure is a timeout or reset after sending, a 5xx, or a 2xx whose body could not be
read: PagerDuty may or may not have applied the write. The write's own ``landed`` check reads
PagerDuty and says which. A write that fails after earlier writes of its plan were sent fails
as :class:`~escalator.errors.PartlyApplied`, naming them (:func:`apply_in_plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from escalator.errors import (
    EscalatorError,
    OutcomeUnknown,
    PagerDutyError,
    PartlyApplied,
    UnexpectedResponse,
)
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


class Planned(Sendable[C_contra, S], Protocol[C_contra, S]):
    """A write of a plan: sendable, and named by its request line."""

    @property
    def request_line(self) -> str: ...


class Sent(Protocol):
    """A write already sent, as a failure after it names it."""

    @property
    def request_line(self) -> str: ...


def apply_in_plan(
    write: Planned[C, S], clients: C, current: S | None, console: Console, sent: Sequence[Sent]
) -> tuple[S | None, bool]:
    """:func:`apply_write`, for the next write of a plan whose writes ``sent`` went before it:
    if it fails after them, the failure is :class:`PartlyApplied`, naming what was applied."""
    try:
        return apply_write(write, clients, current, console)
    except EscalatorError as error:
        if not sent:
            raise
        applied = [done.request_line for done in sent]
        raise PartlyApplied(error, applied=applied, failed=write.request_line) from error


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
