"""Escalate: reassign to another escalation policy, escalate within it, change the urgency.

Policy and level are separate updates, policy first (no source says how PagerDuty combines them);
a level is refused before any write on a resolved or low-urgency incident, or beyond the levels
of the policy.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import ClassVar, Literal

from escalator.clients.models import EscalationPolicy, Incident
from escalator.errors import InputError, Refusal
from escalator.inputs import IncidentInputs
from escalator.inputs.fields import Level, PagerDutyId, Urgency
from escalator.operations.base import Change, Field, Gather, Plan, Write, shown
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.writes import UpdateIncident


@dataclass(frozen=True)
class EscalateRequest:
    """What was asked: any of a policy, a level (with the policy it is in) and an urgency."""

    policy_id: str | None = None
    level: int | None = None
    urgency: Literal["high", "low"] | None = None
    #: the policy the level is taken in (read only when a level is asked)
    policy: EscalationPolicy | None = None


def plan(incident: Incident, request: EscalateRequest) -> Plan:
    """The updates to send, policy first, each only when it changes something."""
    changes: list[Change] = []
    writes: list[Write] = []
    reassign = bool(request.policy_id) and request.policy_id != incident.policy_id
    if request.policy_id:
        changes.append(
            Change(Field.POLICY, shown(Field.POLICY, incident), request.policy_id, reassign)
        )
    urgency_change = request.urgency is not None and request.urgency != incident.urgency
    if request.urgency is not None:
        changes.append(Change(Field.URGENCY, incident.urgency, request.urgency, urgency_change))
    if reassign or urgency_change:
        writes.append(
            UpdateIncident(
                incident.id,
                escalation_policy_id=request.policy_id if reassign else None,
                urgency=request.urgency if urgency_change else None,
            )
        )
    if request.level is not None:
        _check_level(incident, request, request.urgency or incident.urgency)
        # a reassigned incident starts at the new policy's first level already
        send_level = not (reassign and request.level == 1)
        changes.append(Change(Field.LEVEL, "", str(request.level), send_level))
        if send_level:
            writes.append(UpdateIncident(incident.id, escalation_level=request.level))
    return Plan(changes=tuple(changes), writes=tuple(writes))


def _check_level(incident: Incident, request: EscalateRequest, urgency_after: str) -> None:
    level = request.level
    if incident.status == "resolved":
        raise Refusal(
            "escalation_level",
            f"incident {incident.id} is resolved and cannot be escalated.",
            hint="Escalate an open incident, or trigger a new one.",
        )
    if urgency_after == "low":
        raise Refusal(
            "escalation_level",
            f"incident {incident.id} has low urgency, and PagerDuty escalates only "
            "high-urgency incidents to a level.",
            hint="Add {urgency=high}, or reassign it with {escalation_policy_id}.",
        )
    policy = request.policy
    if policy is not None and policy.escalation_rules and level is not None:
        count = len(policy.escalation_rules)
        if level > count:
            raise Refusal(
                "escalation_level",
                f"escalation policy {policy.label} ({policy.id}) has {count} level(s); there is "
                f"no level {level}.",
                hint=f"Use a level from 1 to {count}.",
            )


class EscalateInputs(IncidentInputs):
    """Escalate's inputs: any of a policy, a level and an urgency, on the incident."""

    escalation_policy_id: PagerDutyId | None = None
    escalation_level: Level | None = None
    urgency: Urgency | None = None


class Escalate(IncidentOperation[EscalateInputs, EscalateRequest]):
    """The escalate operation."""

    inputs_model = EscalateInputs
    name: ClassVar[str] = "escalate"
    noun: ClassVar[str] = "Escalation"
    doing: ClassVar[str] = "Escalating"
    done: ClassVar[str] = "escalated"
    description: ClassVar[str] = (
        "Reassign an incident's escalation policy, escalate it to a level, change its urgency."
    )
    example: ClassVar[str] = (
        "escalator escalate -i Q2LAR4ADCXC8IB -p PPLATFM -u high --from alice@example.com\n"
        "  escalator escalate -i Q2LAR4ADCXC8IB --level 2 --dry-run"
    )
    kit_action: ClassVar[str] = "escalate-incident-action.json"

    def check_inputs(self, inputs: EscalateInputs) -> None:
        if not (inputs.escalation_policy_id or inputs.escalation_level or inputs.urgency):
            raise InputError(
                "operation",
                "nothing to change.",
                hint="Set at least one of {escalation_policy_id}, {escalation_level} or "
                "{urgency} to escalate.",
            )

    def asked(self, inputs: EscalateInputs) -> str:
        parts = []
        if inputs.escalation_policy_id:
            parts.append(f"escalation policy {inputs.escalation_policy_id}")
        if inputs.escalation_level is not None:
            parts.append(f"escalation level {inputs.escalation_level}")
        if inputs.urgency:
            parts.append(f"urgency {inputs.urgency}")
        return ", ".join(parts)

    def done_label(self, plan: Plan, after: Incident) -> str:
        sent = plan.sent()
        if Field.POLICY in sent:
            return f"Escalated to {after.policy_name}"
        if Field.LEVEL in sent:
            return f"Escalated to level {sent[Field.LEVEL].asked}"
        return f"Urgency set to {after.urgency}"

    def gather(
        self, inputs: EscalateInputs, reads: Gather, incident: Future[Incident] | None
    ) -> EscalateRequest:
        policy: EscalationPolicy | None = None
        if inputs.escalation_level is not None:
            policy_id = inputs.escalation_policy_id
            if policy_id is None:
                assert incident is not None  # escalate always reads the incident
                policy_id = incident.result().policy_id  # the incident's own policy
            policy = reads.submit(reads.pagerduty.get_escalation_policy, policy_id).result()
        return EscalateRequest(
            policy_id=inputs.escalation_policy_id,
            level=inputs.escalation_level,
            urgency=inputs.urgency,
            policy=policy,
        )

    def plan_on(self, incident: Incident, request: EscalateRequest) -> Plan:
        return plan(incident, request)
