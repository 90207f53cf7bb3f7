"""Override: put a user on call on a schedule for a window, exactly once ("take the pager").

The schedule's overrides in the window are read first: one with the same user, start and end
means nothing is sent (a re-run of the same Port run, or of the job, finds it). The create sends
PagerDuty's plural body and reads every item's status: an item refused inside the 201 fails the
run with PagerDuty's words. Port's on-call entity is upserted as Port's integration maps on-calls,
so Port shows the new on-call without waiting for a resync.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import ClassVar

from escalator.clients.schedules import Override as Held
from escalator.clients.schedules import get_schedule, list_overrides
from escalator.errors import InputError
from escalator.inputs.fields import Until
from escalator.inputs.times import iso, parse_instant, window
from escalator.operations.base import Change, Field
from escalator.operations.on_schedule import (
    ONCALL_BLUEPRINT,
    SCHEDULE_BLUEPRINT,
    OnScheduleInputs,
    ScheduleOperation,
    find_user,
    user_asked,
)
from escalator.operations.schedule_writes import Cover, CreateOverride, matching, under_way
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads


def plan(request: Cover) -> TargetPlan[Cover]:
    """Nothing when the override is there already; else one create."""
    asked = f"{request.user.email or request.user.id} until {iso(request.end)}"
    if request.override is not None:
        change = Change(Field.ONCALL, request.user.id, asked, needed=False)
        return TargetPlan(before=request, changes=(change,), writes=())
    write = CreateOverride(request.schedule.id, request.user.id, request.start, request.end)
    change = Change(Field.ONCALL, "", asked, needed=True)
    return TargetPlan(before=request, changes=(change,), writes=(write,))


def window_of(inputs: OverrideInputs, now: datetime) -> tuple[datetime, datetime]:
    """The override's window; raises InputError naming ``end`` (or ``start``) when it is not
    after the start, after now, and within 90 days."""
    try:
        return window(inputs.start, inputs.end, now)
    except ValueError as exc:
        raise InputError(
            "end",
            f"{exc}.",
            hint="Give {end} after {start} (default now) and after now, at most 90 days "
            "later: a time with an offset (2026-12-07T01:00:00Z) or a duration (4h, 1h30m).",
        ) from exc


def same_in(held: list[Held], asked: Cover, *, started_now: bool) -> Cover:
    """``asked`` with the override among ``held`` that already makes it, if any: the same user,
    start and end; or, when the start was left to now, the user's override under way now with
    the same length (the same run again: its "now" was earlier)."""
    user_id = asked.user.id
    try:
        return replace(asked, override=matching(held, user_id, asked.start, asked.end))
    except LookupError:
        if not started_now:
            return asked
    try:
        found = under_way(held, user_id, asked.start, asked.end - asked.start)
    except LookupError:
        return asked
    start, end = parse_instant(found.start), parse_instant(found.end)
    return replace(asked, start=start, end=end, override=found)


class OverrideInputs(OnScheduleInputs):
    """Override's inputs: the schedule, the user, and the window's end (its start: now)."""

    end: Until


class Override(ScheduleOperation[OverrideInputs]):
    """The override operation: the user, the schedule and its overrides in the window are read
    together; then at most one create."""

    name: ClassVar[str] = "override"
    noun: ClassVar[str] = "Override"
    doing: ClassVar[str] = "Adding an override to"
    done: ClassVar[str] = "overridden"
    inputs_model = OverrideInputs
    description: ClassVar[str] = (
        "Put a user on call on a schedule from --start (default now) to --end, once: a re-run "
        "finds the override instead of stacking a second."
    )
    example: ClassVar[str] = (
        "escalator override --schedule PSC7PAY --end 4h --from alice@example.com"
    )
    kit_action: ClassVar[str] = "override-schedule-action.json"

    def check_inputs(self, inputs: OverrideInputs) -> None:
        user_asked(inputs)
        window_of(inputs, datetime.now(UTC))

    def asked(self, inputs: OverrideInputs) -> str:
        who = inputs.oncall_user or inputs.from_email
        since = f"from {inputs.start} " if inputs.start else ""
        return f"{who} on call {since}until {inputs.end}"

    def gather(self, inputs: OverrideInputs, reads: TargetReads) -> Cover:
        pagerduty = reads.clients.pagerduty
        start, end = window_of(inputs, datetime.now(UTC))
        user = reads.submit(find_user, pagerduty, inputs)
        schedule = reads.submit(get_schedule, pagerduty, inputs.schedule_id, since=None, until=None)
        held = list_overrides(pagerduty, inputs.schedule_id, since=iso(start), until=iso(end))
        cover = Cover(schedule.result(), user.result(), start, end)
        return same_in(held, cover, started_now=inputs.start is None)

    def plan(self, request: Cover) -> TargetPlan[Cover]:
        return plan(request)

    def said(self, state: Cover) -> str:
        who = state.user.name or state.user.email or state.user.id
        made = f" (override {state.override.id})" if state.override else ""
        return (
            f"{state.schedule.id}: {who} on call from {iso(state.start)} "
            f"until {iso(state.end)}{made}"
        )

    def done_label(self, plan: TargetPlan[Cover], after: Cover | None) -> str:
        state = after or plan.before
        who = (state.user.name or state.user.email or state.user.id) if state else ""
        return f"{who} on call until {iso(state.end)}" if state else "Override added"

    def outputs(self, state: Cover | None) -> dict[str, str]:
        if state is None:
            return {}
        return {
            "override_id": state.override.id if state.override else "",
            "oncall_email": state.user.email or "",
        }

    def summary_rows(self, state: Cover | None) -> list[tuple[str, str]]:
        if state is None:
            return []
        return [
            ("Schedule", f"{state.schedule.name or state.schedule.id} ({state.schedule.id})"),
            ("On call", state.user.email or state.user.name or state.user.id),
            ("From", iso(state.start)),
            ("Until", iso(state.end)),
            ("Override", state.override.id if state.override else "not made"),
        ]

    def port_blueprint(self, inputs: OverrideInputs) -> str | None:
        return ONCALL_BLUEPRINT

    def entity(self, inputs: OverrideInputs, state: Cover) -> EntityDraft | None:
        """The ``pagerdutyOncall`` entity as Port's integration maps an on-call: identifier
        ``<user id>-<schedule id>-<start>``, title the user's name, the user's email."""
        override = state.override
        if override is None:
            return None
        schedule, user = state.schedule, state.user
        return EntityDraft(
            blueprint=ONCALL_BLUEPRINT,
            identifier=f"{user.id}-{schedule.id}-{override.start}",
            title=user.name or user.email or user.id,
            properties={
                "user": user.email,
                "startDate": override.start,
                "endDate": override.end,
                "url": schedule.html_url,
            },
            relations={SCHEDULE_BLUEPRINT: schedule.id},
            optional=True,
        )
