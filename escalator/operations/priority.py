"""Priority: the incident's priority is set, the name matched against the account's priorities."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident, Priority
from escalator.inputs import IncidentInputs
from escalator.inputs.fields import Line
from escalator.operations.base import Change, Field, Gather, Plan, Positional, shown
from escalator.operations.lookups import resolve_priority
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.state import refuse_resolved
from escalator.operations.writes import UpdateIncident


def plan(incident: Incident, priority: Priority) -> Plan:
    """Set ``priority`` unless the incident has it already."""
    refuse_resolved(incident, "changing its priority")
    needed = incident.priority is None or incident.priority.id != priority.id
    change = Change(Field.PRIORITY, shown(Field.PRIORITY, incident), priority.label, needed)
    writes = (UpdateIncident(incident.id, priority_id=priority.id),) if needed else ()
    return Plan(changes=(change,), writes=writes)


class PriorityInputs(IncidentInputs):
    """Priority's inputs: the incident and the priority asked (its name or ID)."""

    priority: Line


class SetPriority(IncidentOperation[PriorityInputs, Priority]):
    """The priority operation: the name is looked up beside the incident read."""

    inputs_model = PriorityInputs
    name: ClassVar[str] = "priority"
    noun: ClassVar[str] = "Priority change"
    doing: ClassVar[str] = "Setting the priority of"
    done: ClassVar[str] = "prioritised"
    description: ClassVar[str] = "Set an incident's priority by name or ID."
    example: ClassVar[str] = "escalator priority -i PT4KHLK P2 --from alice@example.com"
    positional: ClassVar[Positional | None] = Positional(
        "priority", "PRIORITY", "priority name (such as P1) or ID"
    )
    kit_action: ClassVar[str] = "priority-incident-action.json"

    def asked(self, inputs: PriorityInputs) -> str:
        return f"to {inputs.priority}"

    def done_label(self, plan: Plan, after: Incident) -> str:
        return f"Priority set to {after.priority.label if after.priority else '?'}"

    def gather(
        self, inputs: PriorityInputs, reads: Gather, incident: Future[Incident] | None
    ) -> Priority:
        return resolve_priority(reads.pagerduty, inputs.priority)

    def plan_on(self, incident: Incident, request: Priority) -> Plan:
        return plan(incident, request)
