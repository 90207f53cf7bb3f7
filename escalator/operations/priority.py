"""Priority: the incident's priority is set, the name matched against the account's priorities."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident, Priority
from escalator.inputs import ActionInputs
from escalator.operations.base import Change, Field, Gather, Plan, shown
from escalator.operations.lookups import resolve_priority
from escalator.operations.state import refuse_resolved
from escalator.operations.writes import UpdateIncident


def plan(incident: Incident, priority: Priority) -> Plan:
    """Set ``priority`` unless the incident has it already."""
    refuse_resolved(incident, "changing its priority")
    needed = incident.priority is None or incident.priority.id != priority.id
    change = Change(Field.PRIORITY, shown(Field.PRIORITY, incident), priority.label, needed)
    writes = (UpdateIncident(incident.id, priority_id=priority.id),) if needed else ()
    return Plan(changes=(change,), writes=writes)


class SetPriority:
    """The priority operation: the name is looked up beside the incident read."""

    name: ClassVar[str] = "priority"
    noun: ClassVar[str] = "Priority change"
    doing: ClassVar[str] = "Setting the priority of"
    done: ClassVar[str] = "prioritised"
    reads_incident: ClassVar[bool] = True

    def gather(
        self, inputs: ActionInputs, reads: Gather, incident: Future[Incident] | None
    ) -> Priority:
        assert inputs.priority is not None  # required for this operation by the inputs
        return resolve_priority(reads.pagerduty, inputs.priority)

    def plan(self, incident: Incident | None, request: Priority) -> Plan:
        assert incident is not None
        return plan(incident, request)
