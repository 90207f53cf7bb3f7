"""Who is on call now for a schedule, an escalation policy or a service: the one resolver.

``/oncalls`` lists one entry per policy, level and shift, in no promised order: the primary is the
lowest ``escalation_level`` that has someone, never simply the first entry. A schedule that no
policy uses is absent from ``/oncalls``; its final schedule (``rendered_schedule_entries`` of a
one-second window) tells who is on it. A service has no on-call of its own: its policy's is read.
A shift-based (v3) schedule refuses the v2 reads, and the refusal says so
(:func:`escalator.clients.schedules.read_schedule_error`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from escalator.clients.models import User
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.schedules import (
    Oncall,
    get_schedule,
    get_service_policy,
    get_user,
    list_oncalls,
)
from escalator.inputs.times import iso


@dataclass(frozen=True)
class OnCall:
    """One person on call: their level (None outside any policy), who, through which schedule,
    from when to when (None: a permanent on-call)."""

    level: int | None
    user_id: str
    email: str | None
    name: str | None
    schedule_id: str | None
    start: str | None
    end: str | None

    def as_json(self) -> dict[str, object]:
        """The item of the ``oncall`` output."""
        return {
            "level": self.level,
            "user_id": self.user_id,
            "email": self.email,
            "name": self.name,
            "schedule_id": self.schedule_id,
            "start": self.start,
            "end": self.end,
        }

    @property
    def label(self) -> str:
        """'Bob (bob@example.com)', or the ID when PagerDuty gave no name."""
        who = self.name or self.user_id
        return f"{who} ({self.email})" if self.email else who


def ordered(found: Iterable[OnCall]) -> list[OnCall]:
    """By level (none last), then schedule, then user; one entry per level, schedule and user
    (a schedule in two policies at one level is one on-call)."""
    unique = {(o.level, o.schedule_id, o.user_id): o for o in found}
    return sorted(
        unique.values(),
        key=lambda o: (o.level is None, o.level or 0, o.schedule_id or "", o.user_id),
    )


def from_entries(entries: Iterable[Oncall]) -> list[OnCall]:
    """The on-calls of ``/oncalls`` entries (users included), ordered."""
    return ordered(
        OnCall(
            level=entry.escalation_level,
            user_id=entry.user.id,
            email=entry.user.email,
            name=entry.user.name or entry.user.summary,
            schedule_id=entry.schedule.id if entry.schedule else None,
            start=entry.start,
            end=entry.end,
        )
        for entry in entries
    )


def primary(oncalls: list[OnCall]) -> OnCall | None:
    """The lowest level that has someone (the list is :func:`ordered`)."""
    return oncalls[0] if oncalls else None


def on_schedule_now(pagerduty: PagerDutyClient, schedule_id: str, now: datetime) -> list[OnCall]:
    """Who the schedule's final schedule names now (for a schedule no policy uses): one read of
    the schedule, one of each user named (for the email)."""
    since, until = iso(now), iso(now + timedelta(seconds=1))
    schedule = get_schedule(pagerduty, schedule_id, since=since, until=until)
    entries = schedule.entries()
    users: dict[str, User] = {}
    for entry in entries:
        if entry.user.id not in users:
            users[entry.user.id] = get_user(pagerduty, entry.user.id)
    return ordered(
        OnCall(
            level=None,
            user_id=entry.user.id,
            email=users[entry.user.id].email,
            name=users[entry.user.id].name or entry.user.summary,
            schedule_id=schedule_id,
            start=entry.start,
            end=entry.end,
        )
        for entry in entries
    )


def on_call_now(
    pagerduty: PagerDutyClient,
    *,
    now: datetime,
    schedule_id: str | None = None,
    policy_id: str | None = None,
    service_id: str | None = None,
) -> list[OnCall]:
    """Who is on call now for one schedule, policy or service (give one), ordered: the first
    is the primary. At most three reads."""
    if service_id:
        policy_id = get_service_policy(pagerduty, service_id)
    if schedule_id:
        found = from_entries(list_oncalls(pagerduty, schedule_id=schedule_id))
        return found or on_schedule_now(pagerduty, schedule_id, now)
    return from_entries(list_oncalls(pagerduty, policy_id=policy_id))
