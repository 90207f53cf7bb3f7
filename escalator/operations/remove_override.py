"""Remove-override: take a user's override off a schedule ("hand the pager back").

The override named by ``override_id``, or else the overrides of the user (default: ``from``) on
the schedule that cover ``start`` (default now). None found: nothing is sent and the run succeeds
unchanged, so a second click changes nothing. PagerDuty deletes a future override (204) and cuts
one under way short (200, it ends now); a 404 after a lost answer counts as removed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from escalator.clients.models import Reference
from escalator.clients.schedules import Override, list_overrides
from escalator.inputs.fields import Instant, PagerDutyId
from escalator.inputs.fields import User as UserInput
from escalator.inputs.times import iso, parse_instant
from escalator.operations.base import Change, Field
from escalator.operations.on_schedule import (
    OnScheduleInputs,
    ScheduleOperation,
    find_user,
    user_asked,
)
from escalator.operations.schedule_writes import DeleteOverride, Removal
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads


def plan(request: Removal) -> TargetPlan[Removal]:
    """One delete per override found; nothing when none is."""
    if not request.overrides:
        change = Change(Field.OVERRIDE, "", "removed", needed=False)
        return TargetPlan(before=request, changes=(change,), writes=())
    writes = tuple(
        DeleteOverride(request.schedule_id, o.id, ends=_end(o)) for o in request.overrides
    )
    change = Change(
        Field.OVERRIDE, "", f"{', '.join(o.id for o in request.overrides)} removed", True
    )
    return TargetPlan(before=request, changes=(change,), writes=writes)


def covering(overrides: list[Override], user_id: str, at: datetime) -> tuple[Override, ...]:
    """The overrides of ``user_id`` that cover the instant ``at``."""
    return tuple(
        o
        for o in overrides
        if o.user.id == user_id and parse_instant(o.start) <= at < parse_instant(o.end)
    )


def _end(override: Override) -> datetime | None:
    try:
        return parse_instant(override.end)
    except ValueError:
        return None


class RemoveOverrideInputs(OnScheduleInputs):
    """Remove-override's inputs: the schedule, and the user's override at ``start`` or the one
    named (after them, as its options list them)."""

    oncall_user: UserInput | None = None
    start: Instant | None = None
    override_id: PagerDutyId | None = None


class RemoveOverride(ScheduleOperation[RemoveOverrideInputs]):
    """The remove-override operation: the user and the overrides covering the instant are read,
    then one delete per override found (or the one named, with no read)."""

    name: ClassVar[str] = "remove-override"
    noun: ClassVar[str] = "Override removal"
    doing: ClassVar[str] = "Removing an override from"
    done: ClassVar[str] = "handed back"
    inputs_model = RemoveOverrideInputs
    description: ClassVar[str] = (
        "Remove an override from a schedule: the one given, or the user's that covers --start "
        "(default now). None found: nothing is sent."
    )
    example: ClassVar[str] = "escalator remove-override --schedule PSC7PAY --from alice@example.com"
    kit_action: ClassVar[str] = "remove-override-schedule-action.json"

    def check_inputs(self, inputs: RemoveOverrideInputs) -> None:
        if not inputs.override_id:
            user_asked(inputs)

    def asked(self, inputs: RemoveOverrideInputs) -> str:
        if inputs.override_id:
            return f"override {inputs.override_id}"
        at = f" at {inputs.start}" if inputs.start else " now"
        return f"the override of {inputs.oncall_user or inputs.from_email}{at}"

    def gather(self, inputs: RemoveOverrideInputs, reads: TargetReads) -> Removal:
        pagerduty, schedule_id = reads.clients.pagerduty, inputs.schedule_id
        if inputs.override_id:
            named = Override(id=inputs.override_id, start="", end="", user=Reference(id=""))
            return Removal(schedule_id, None, (named,))
        at = parse_instant(inputs.start) if inputs.start else datetime.now(UTC)
        user = reads.submit(find_user, pagerduty, inputs)
        held = list_overrides(
            pagerduty, schedule_id, since=iso(at), until=iso(at + timedelta(seconds=1))
        )
        found = user.result()
        return Removal(schedule_id, found, covering(held, found.id, at))

    def plan(self, request: Removal) -> TargetPlan[Removal]:
        return plan(request)

    def said(self, state: Removal) -> str:
        who = f"{state.user.email or state.user.id}'s " if state.user else ""
        if state.removed:
            return f"{state.schedule_id}: {who}override {', '.join(state.removed)} removed"
        if not state.overrides:
            return f"{state.schedule_id}: no override of {who or 'the user '}to remove"
        ids = ", ".join(o.id for o in state.overrides)
        return f"{state.schedule_id}: {who}override {ids}"

    def done_label(self, plan: TargetPlan[Removal], after: Removal | None) -> str:
        removed = after.removed if after else ()
        return f"Override {', '.join(removed)} removed" if removed else "Override removed"

    def outputs(self, state: Removal | None) -> dict[str, str]:
        if state is None:
            return {}
        return {
            "override_id": ",".join(state.removed),
            "oncall_email": (state.user.email or "") if state.user else "",
        }

    def summary_rows(self, state: Removal | None) -> list[tuple[str, str]]:
        if state is None:
            return []
        rows = [("Schedule", state.schedule_id)]
        if state.user is not None:
            rows.append(("User", state.user.email or state.user.id))
        rows.append(("Removed", ", ".join(state.removed) or "none"))
        return rows

    def entity(self, inputs: RemoveOverrideInputs, state: Removal) -> EntityDraft | None:
        return None
