"""Oncall: who is on call now for a schedule, an escalation policy or a service (reads only).

The primary is the lowest escalation level that has someone, never simply the first entry of
``/oncalls`` (:mod:`escalator.operations.oncall_resolver`); the ``oncall`` output lists every
on-call by level, then schedule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from escalator.errors import InputError
from escalator.inputs.fields import PagerDutyId
from escalator.inputs.port_context import PortContext
from escalator.operations.on_schedule import (
    POLICY_BLUEPRINT,
    SERVICE_BLUEPRINT,
    ScheduleInputs,
    ScheduleOperation,
    schedule_in,
)
from escalator.operations.oncall_resolver import OnCall, on_call_now, primary
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads

_TARGETS = ("schedule_id", "escalation_policy_id", "service_id")


@dataclass(frozen=True)
class OnCallNow:
    """Who is on call now for one schedule, policy or service, ordered: the first is the
    primary."""

    #: 'schedule PSC7PAY', 'escalation policy PPAYMNT', 'service PSVCPAY'
    target: str
    oncalls: tuple[OnCall, ...]

    @property
    def primary(self) -> OnCall | None:
        return primary(list(self.oncalls))


def plan(request: OnCallNow) -> TargetPlan[OnCallNow]:
    """Nothing to send: the on-calls as read."""
    return TargetPlan(before=request, changes=(), writes=())


def target_of(inputs: OncallInputs) -> str:
    """What the on-calls are read for: 'schedule PSC7PAY'."""
    if inputs.schedule_id:
        return f"schedule {inputs.schedule_id}"
    if inputs.escalation_policy_id:
        return f"escalation policy {inputs.escalation_policy_id}"
    return f"service {inputs.service_id}"


class OncallInputs(ScheduleInputs):
    """Oncall's inputs: one of a schedule, an escalation policy or a service."""

    schedule_id: PagerDutyId | None = None
    escalation_policy_id: PagerDutyId | None = None
    service_id: PagerDutyId | None = None


class Oncall(ScheduleOperation[OncallInputs]):
    """The oncall operation: one ``/oncalls`` read (a service's policy read first; a schedule
    outside every policy read from its final schedule)."""

    name: ClassVar[str] = "oncall"
    target: ClassVar[str] = "on-call"
    noun: ClassVar[str] = "On-call lookup"
    doing: ClassVar[str] = "Reading who is on call for"
    done: ClassVar[str] = "read"
    inputs_model = OncallInputs
    description: ClassVar[str] = (
        "Say who is on call now for a schedule, an escalation policy or a service (the primary "
        "is the lowest level that has someone)."
    )
    example: ClassVar[str] = "escalator oncall --schedule PSC7PAY"
    kit_action: ClassVar[str] = "oncall-schedule-action.json"

    def context_inputs(self, context: PortContext) -> Mapping[str, tuple[str, str]]:
        found = schedule_in(context)
        if found:
            return {"schedule_id": found}
        named = {SERVICE_BLUEPRINT: "service_id", POLICY_BLUEPRINT: "escalation_policy_id"}
        if context.blueprint in named and context.entity:
            return {named[context.blueprint]: (context.entity, "port_context.entity")}
        return {}

    def check_inputs(self, inputs: OncallInputs) -> None:
        given = [name for name in _TARGETS if inputs.given(name)]
        if len(given) != 1:
            said = "none was given" if not given else f"{' and '.join(given)} were given"
            raise InputError(
                "schedule_id",
                f"{{operation=oncall}} reads one schedule, policy or service: {said}.",
                hint="Give one of {schedule_id}, {escalation_policy_id} or {service_id} (or run "
                "the Port action on a schedule entity).",
            )

    def subject(self, inputs: OncallInputs) -> str:
        return f"PagerDuty {target_of(inputs)}"

    def asked(self, inputs: OncallInputs) -> str:
        return ""

    def gather(self, inputs: OncallInputs, reads: TargetReads) -> OnCallNow:
        found = on_call_now(
            reads.clients.pagerduty,
            now=datetime.now(UTC),
            schedule_id=inputs.schedule_id,
            policy_id=inputs.escalation_policy_id,
            service_id=inputs.service_id,
        )
        return OnCallNow(target_of(inputs), tuple(found))

    def plan(self, request: OnCallNow) -> TargetPlan[OnCallNow]:
        return plan(request)

    def said(self, state: OnCallNow) -> str:
        first = state.primary
        if first is None:
            return f"{state.target}: nobody is on call now"
        level = f" (level {first.level})" if first.level is not None else ""
        until = f" until {first.end}" if first.end else ""
        return f"{state.target}: {first.label} is on call{level}{until}"

    def done_label(self, plan: TargetPlan[OnCallNow], after: OnCallNow | None) -> str:
        state = after or plan.before
        first = state.primary if state is not None else None
        return f"On call: {first.label}" if first is not None else "Nobody on call"

    def outputs(self, state: OnCallNow | None) -> dict[str, str]:
        if state is None:
            return {}
        first = state.primary
        listed = [oncall.as_json() for oncall in state.oncalls]
        return {
            "oncall": json.dumps(listed, separators=(",", ":")),
            "oncall_email": (first.email or "") if first is not None else "",
        }

    def summary_rows(self, state: OnCallNow | None) -> list[tuple[str, str]]:
        if state is None:
            return []
        if not state.oncalls:
            return [("On call", "nobody")]
        return [(_level(oncall), _shift(oncall)) for oncall in state.oncalls]

    def entity(self, inputs: OncallInputs, state: OnCallNow) -> EntityDraft | None:
        return None


def _level(oncall: OnCall) -> str:
    return f"Level {oncall.level}" if oncall.level is not None else "On the schedule"


def _shift(oncall: OnCall) -> str:
    """'Bob (bob@example.com), schedule PSC7PAY, until 2026-12-07T00:00:00Z'."""
    parts = [oncall.label]
    if oncall.schedule_id:
        parts.append(f"schedule {oncall.schedule_id}")
    parts.append(f"until {oncall.end}" if oncall.end else "always")
    return ", ".join(parts)
