"""Reassign: the incident's assignees become exactly the users named (emails or user IDs)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident, User
from escalator.inputs import IncidentInputs
from escalator.inputs.fields import Assignees
from escalator.operations.base import Change, Field, Gather, Plan, Positional, shown
from escalator.operations.lookups import resolve_users
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.state import refuse_resolved
from escalator.operations.writes import UpdateIncident


def plan(incident: Incident, users: tuple[User, ...]) -> Plan:
    """Assign exactly ``users``; nothing when they already are the assignees."""
    refuse_resolved(incident, "reassigning")
    wanted = sorted(user.id for user in users)
    current = sorted(a.assignee.id for a in incident.assignments)
    needed = wanted != current
    asked = ", ".join(user.email or user.name or user.id for user in users)
    change = Change(Field.ASSIGNEES, shown(Field.ASSIGNEES, incident), asked, needed)
    ids = tuple(user.id for user in users)
    emails = tuple((user.id, user.email) for user in users if user.email)
    writes = (UpdateIncident(incident.id, assignee_ids=ids, known_emails=emails),) if needed else ()
    return Plan(changes=(change,), writes=writes)


class ReassignInputs(IncidentInputs):
    """Reassign's inputs: the incident and the users it is assigned to."""

    assignees: Assignees


class Reassign(IncidentOperation[ReassignInputs, tuple[User, ...]]):
    """The reassign operation: emails are looked up beside the incident read."""

    inputs_model = ReassignInputs
    name: ClassVar[str] = "reassign"
    noun: ClassVar[str] = "Reassignment"
    doing: ClassVar[str] = "Reassigning"
    done: ClassVar[str] = "reassigned"
    description: ClassVar[str] = (
        "Assign an incident to exactly these PagerDuty users (emails matched exactly)."
    )
    example: ClassVar[str] = (
        "escalator reassign -i Q2LAR4ADCXC8IB bob@example.com PD8RZ2N --from alice@example.com"
    )
    positional: ClassVar[Positional | None] = Positional(
        "assignees", "ASSIGNEE", "PagerDuty users (emails or user IDs) to assign", many=True
    )
    kit_action: ClassVar[str] = "reassign-incident-action.json"

    def asked(self, inputs: ReassignInputs) -> str:
        return "to " + ", ".join(inputs.assignees)

    def done_label(self, plan: Plan, after: Incident) -> str:
        sent = plan.sent()
        if Field.ASSIGNEES in sent:
            return f"Reassigned to {sent[Field.ASSIGNEES].asked}"
        return self.done.capitalize()

    def gather(
        self, inputs: ReassignInputs, reads: Gather, incident: Future[Incident] | None
    ) -> tuple[User, ...]:
        return resolve_users(reads.pagerduty, inputs.assignees)

    def plan_on(self, incident: Incident, request: tuple[User, ...]) -> Plan:
        return plan(incident, request)
