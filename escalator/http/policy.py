"""Retry policies as named values: which answers are retried for each kind of call, how often,
and how long to wait before the next attempt (the server's own wait or a backoff, with jitter).

A 429 or 503 says the service is busy, not broken: it is retried for as long as the run's deadline
allows (the transport checks the deadline), where the other transient failures get a few
attempts. Jitter spreads the retries of many runs told the same wait, so they do not all come
back in the same instant.

Each call names its policy (``Policy.READ``, ``Policy.WRITE`` ...); the rules behind each name are
data (:data:`RULES`), so every rule is visible and tested.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum

#: The server's wait is honoured up to this many seconds (and never past the deadline).
MAX_SERVER_WAIT = 60.0
#: A number of seconds larger than this is an epoch time, not a number of seconds.
EPOCH_FLOOR = 1_000_000_000

#: 408, 429 and 5xx: the server asks for a later try.
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses that say the request was not applied: safe to send again even if not idempotent.
NOT_APPLIED = frozenset({408, 429})
#: "Busy, come back later": retried until the deadline (of the statuses a policy retries at all).
PATIENT = frozenset({429, 503})
#: A busy service's retry waits at least this long, whatever it asks for.
PATIENT_FLOOR = 0.5
#: The jitter added to the server's wait spans at most this many seconds.
MAX_JITTER = 2.0


class Policy(StrEnum):
    """The kinds of call, each with its retry rules (:attr:`rules`)."""

    #: Port's access token
    TOKEN = "token"  # noqa: S105  # the name of a kind of call, not a secret
    #: a read: safe to repeat
    READ = "read"
    #: an upsert with merge=true sets the same fields to the same values: safe to repeat
    UPSERT = "upsert"
    #: a PagerDuty incident write: an ambiguous failure is surfaced, so the caller can read the
    #: incident first and apply the change exactly once
    WRITE = "write"
    #: a Port run log: never repeated once Port may have stored it
    RUN_LOG = "run_log"
    #: a Port run update: never repeated once Port may have applied it
    RUN_UPDATE = "run_update"
    #: an Events API v2 alert event: its dedup key makes a repeat harmless (PagerDuty groups it)
    EVENT = "event"
    #: an Events API v2 change event: 429 and 5xx say it was not ingested; with no answer at
    #: all it may have been, and it has no key to deduplicate it, so it is not sent again
    CHANGE_EVENT = "change_event"

    @property
    def rules(self) -> RetryRules:
        return RULES[self]


@dataclass(frozen=True)
class RetryRules:
    """What may be retried for one kind of call."""

    #: statuses answered by the server that are retried
    statuses: frozenset[int]
    #: whether a request that was sent but got no usable answer may be sent again
    idempotent: bool
    #: attempts for the failures that are not a busy service's (those are bounded by the deadline)
    attempts: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (1 for the first): exponential, with jitter."""
        wait = self.backoff_factor * 2.0 ** (retry - 1)
        wait += random.random() * self.jitter  # noqa: S311  # jitter, not crypto
        return min(self.backoff_max, wait)

    def patient(self, status: int) -> bool:
        """Whether ``status`` is retried for as long as the deadline allows."""
        return status in self.statuses and status in PATIENT

    def wait(self, retry: int, status: int, server: float | None) -> float:
        """The wait before retry number ``retry`` after ``status``: the server's own wait plus
        jitter of up to that wait again (at most :data:`MAX_JITTER`), else the backoff; a busy
        service is never asked again sooner than :data:`PATIENT_FLOOR`."""
        if server is None:
            wait = self.backoff(retry)
        else:
            span = min(MAX_JITTER, max(self.jitter, server))
            wait = server + random.random() * span  # noqa: S311  # jitter, not crypto
        return max(PATIENT_FLOOR, wait) if self.patient(status) else wait


_SAFE = RetryRules(statuses=TRANSIENT, idempotent=True)
RULES: Mapping[Policy, RetryRules] = {
    Policy.TOKEN: _SAFE,
    Policy.READ: _SAFE,
    Policy.UPSERT: _SAFE,
    Policy.WRITE: RetryRules(statuses=NOT_APPLIED, idempotent=False),
    Policy.RUN_LOG: RetryRules(statuses=NOT_APPLIED, idempotent=False, attempts=3),
    Policy.RUN_UPDATE: RetryRules(statuses=NOT_APPLIED, idempotent=False, attempts=3),
    Policy.EVENT: _SAFE,
    Policy.CHANGE_EVENT: RetryRules(statuses=TRANSIENT, idempotent=False),
}


def server_wait(status: int, headers: Mapping[str, str], now: float) -> float | None:
    """The server's wait in seconds, at most 60, or None when it names none.

    ``Retry-After`` (seconds or an HTTP date) on any answer; on a 429 only, PagerDuty's
    ``ratelimit-reset`` and Port's ``x-ratelimit-reset`` (seconds, or an epoch time). The rate-limit
    headers come on every answer and tell when the rate window resets: a reason to wait only when
    the request was rate limited, not after a 5xx. ``now`` is the wall-clock time, for dates.
    """
    retry_after = headers.get("Retry-After")
    if retry_after:
        return _clamp(_retry_after_seconds(retry_after.strip(), now))
    if status != 429:
        return None
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds > EPOCH_FLOOR:
            seconds -= now
        return _clamp(seconds)
    return None


def _retry_after_seconds(value: str, now: float) -> float | None:
    if value.isdigit():
        return float(value)
    try:
        return parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # an unparseable header means: no hint


def _clamp(seconds: float | None) -> float | None:
    if seconds is None or seconds != seconds:  # NaN
        return None
    return min(MAX_SERVER_WAIT, max(0.0, seconds))
