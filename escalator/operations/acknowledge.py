"""Acknowledge: a triggered incident becomes acknowledged; a resolved one is never reopened."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import IncidentInputs
from escalator.operations.base import Change, Field, Gather, Plan
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.state import refuse_resolved
from escalator.operations.writes import UpdateIncident


def plan(incident: Incident, request: None = None) -> Plan:
    """Acknowledge when triggered; nothing when already acknowledged; refuse when resolved
    (PagerDuty would reopen it)."""
    refuse_resolved(incident, "acknowledging it", "would reopen it")
    needed = incident.status == "triggered"
    change = Change(Field.STATUS, incident.status, "acknowledged", needed)
    writes = (UpdateIncident(incident.id, status="acknowledged"),) if needed else ()
    return Plan(changes=(change,), writes=writes)


class Acknowledge(IncidentOperation[IncidentInputs, None]):
    """The acknowledge operation."""

    name: ClassVar[str] = "acknowledge"
    noun: ClassVar[str] = "Acknowledgement"
    doing: ClassVar[str] = "Acknowledging"
    done: ClassVar[str] = "acknowledged"
    description: ClassVar[str] = (
        "Acknowledge a triggered incident (a resolved one is refused, not reopened)."
    )
    example: ClassVar[str] = "escalator acknowledge -i Q2LAR4ADCXC8IB --from alice@example.com"
    kit_action: ClassVar[str] = "acknowledge-incident-action.json"

    def gather(
        self, inputs: IncidentInputs, reads: Gather, incident: Future[Incident] | None
    ) -> None:
        return None

    def plan_on(self, incident: Incident, request: None) -> Plan:
        return plan(incident)
