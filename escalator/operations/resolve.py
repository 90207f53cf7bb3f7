"""Resolve: the incident is resolved, with its resolution sent and added as a note."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import IncidentInputs
from escalator.operations.base import Change, Field, Gather, Plan, Write
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.writes import AddNote, UpdateIncident


def plan(incident: Incident, resolution: str | None) -> Plan:
    """Resolve unless already resolved; the resolution also becomes a note people see. On an
    incident already resolved (a re-run, or someone else resolved it) the resolution is added as
    a note if missing (``once``): PagerDuty takes notes on resolved incidents."""
    needed = incident.status != "resolved"
    changes = [Change(Field.STATUS, incident.status, "resolved", needed)]
    writes: list[Write] = []
    if needed:
        writes.append(UpdateIncident(incident.id, status="resolved", resolution=resolution))
    if resolution:
        changes.append(Change(Field.NOTE, "", resolution, True))
        writes.append(AddNote(resolution, incident.id, once=not needed))
    return Plan(changes=tuple(changes), writes=tuple(writes))


class ResolveInputs(IncidentInputs):
    """Resolve's inputs: the incident, and why it was resolved."""

    resolution: str | None = None


class Resolve(IncidentOperation[ResolveInputs, str | None]):
    """The resolve operation."""

    inputs_model = ResolveInputs
    name: ClassVar[str] = "resolve"
    noun: ClassVar[str] = "Resolution"
    doing: ClassVar[str] = "Resolving"
    done: ClassVar[str] = "resolved"
    description: ClassVar[str] = "Resolve an incident, with the resolution added as a note."
    example: ClassVar[str] = (
        'escalator resolve -i Q2LAR4ADCXC8IB --resolution "Rolled back" --from alice@example.com'
    )
    kit_action: ClassVar[str] = "resolve-incident-action.json"

    def gather(
        self, inputs: ResolveInputs, reads: Gather, incident: Future[Incident] | None
    ) -> str | None:
        return inputs.resolution

    def plan_on(self, incident: Incident, request: str | None) -> Plan:
        return plan(incident, request)
