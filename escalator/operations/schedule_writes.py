"""The schedule writes (add an override, remove one) and the schedule states they change.

Overrides have no idempotency key and stack (the newest wins), so neither write is ever sent
twice blindly: after a lost answer the schedule's overrides are read first. An override counts as
there when one holds the same user, start and end (compared as UTC instants); a removal counts as
done when the override is gone or ends now (PagerDuty cuts one under way short).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from escalator.clients.bodies import OverrideItem, OverridesCreate
from escalator.clients.models import User
from escalator.clients.schedules import (
    Override,
    Schedule,
    create_overrides,
    delete_override,
    list_overrides,
)
from escalator.errors import PagerDutyError
from escalator.inputs.times import iso, parse_instant, same_instant
from escalator.operations.target import Clients

#: How far PagerDuty's clock may be ahead of this machine's when an override cut short "now" is
#: compared with now.
CLOCK_SKEW = timedelta(seconds=5)


@dataclass(frozen=True)
class Cover:
    """A schedule, the user asked to be on it, and the override that puts them there (if any)."""

    schedule: Schedule
    user: User
    start: datetime
    end: datetime
    override: Override | None = None


def matching(overrides: list[Override], user_id: str, start: datetime, end: datetime) -> Override:
    """The override of ``user_id`` from ``start`` to ``end``; raises LookupError for none."""
    for override in overrides:
        if (
            override.user.id == user_id
            and same_instant(override.start, start)
            and same_instant(override.end, end)
        ):
            return override
    raise LookupError(user_id)


def under_way(
    overrides: list[Override], user_id: str, now: datetime, length: timedelta
) -> Override:
    """The override of ``user_id`` under way at ``now`` that lasts ``length`` (a re-run of a run
    whose start was "now"); raises LookupError for none."""
    for override in overrides:
        try:
            start, end = parse_instant(override.start), parse_instant(override.end)
        except ValueError:
            continue
        if override.user.id == user_id and start <= now < end and end - start == length:
            return override
    raise LookupError(user_id)


@dataclass(frozen=True)
class CreateOverride:
    """``POST /schedules/{id}/overrides``, the plural body with one item; every item's status is
    read: a refused item fails the run with PagerDuty's own words."""

    schedule_id: str
    user_id: str
    start: datetime
    end: datetime

    @property
    def request_line(self) -> str:
        return f"POST /schedules/{quote(self.schedule_id, safe='')}/overrides"

    def body(self) -> OverridesCreate:
        item: OverrideItem = {
            "start": iso(self.start),
            "end": iso(self.end),
            "user": {"id": self.user_id, "type": "user_reference"},
            "time_zone": "UTC",
        }
        return {"overrides": [item]}

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, clients: Clients, current: Cover | None) -> Cover | None:
        assert current is not None  # planned on a schedule read before
        results = create_overrides(clients.pagerduty, self.schedule_id, self.body())
        made = [r.override for r in results if r.status == 201 and r.override]
        if not made:
            words = "; ".join(e for r in results for e in r.errors) or "no reason given"
            raise PagerDutyError(
                f"{self.request_line}: PagerDuty refused the override. PagerDuty said: {words}",
                status=400,
                method="POST",
                path=self.request_line.split(" ", 1)[1],
                hint="Check {oncall_user} (a user of the account), {start} and {end}.",
            )
        return replace(current, override=Override.model_validate(made[0]))

    def landed(self, clients: Clients, current: Cover | None) -> Cover | None:
        assert current is not None
        held = list_overrides(
            clients.pagerduty, self.schedule_id, since=iso(self.start), until=iso(self.end)
        )
        try:
            found = matching(held, self.user_id, self.start, self.end)
        except LookupError:
            return None
        return replace(current, override=found)


@dataclass(frozen=True)
class Removal:
    """A schedule's overrides to remove (the user's, or the one named) and those removed."""

    schedule_id: str
    user: User | None
    overrides: tuple[Override, ...]
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeleteOverride:
    """``DELETE /schedules/{id}/overrides/{oid}``: 204 removed, 200 cut short (it was under way).
    A 404 after a lost answer counts as removed; a 404 at the first try is an error."""

    schedule_id: str
    override_id: str
    #: when the override ends, if known (read, or none: look 90 days ahead)
    ends: datetime | None = None
    _tries: list[int] = field(default_factory=list, init=False, compare=False, repr=False)

    @property
    def request_line(self) -> str:
        schedule, override = quote(self.schedule_id, safe=""), quote(self.override_id, safe="")
        return f"DELETE /schedules/{schedule}/overrides/{override}"

    def body(self) -> dict[str, object]:
        return {}

    def rechecks(self, error: PagerDutyError) -> bool:
        return error.status == 404 and len(self._tries) > 1

    def send(self, clients: Clients, current: Removal | None) -> Removal | None:
        self._tries.append(1)
        delete_override(clients.pagerduty, self.schedule_id, self.override_id)
        return self._done(current)

    def landed(self, clients: Clients, current: Removal | None) -> Removal | None:
        now = datetime.now(UTC)
        until = self.ends if self.ends and self.ends > now else now + timedelta(days=90)
        held = list_overrides(clients.pagerduty, self.schedule_id, since=iso(now), until=iso(until))
        still = [
            o for o in held if o.id == self.override_id and parse_instant(o.end) > now + CLOCK_SKEW
        ]
        return None if still else self._done(current)

    def _done(self, current: Removal | None) -> Removal:
        base = current or Removal(self.schedule_id, None, ())
        return replace(base, removed=(*base.removed, self.override_id))
