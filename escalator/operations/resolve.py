"""Resolve: the incident is resolved, with its resolution sent and added as a note."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import ActionInputs
from escalator.operations.base import Change, Field, Gather, Plan, Write
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


class Resolve:
    """The resolve operation."""

    name: ClassVar[str] = "resolve"
    noun: ClassVar[str] = "Resolution"
    doing: ClassVar[str] = "Resolving"
    done: ClassVar[str] = "resolved"
    reads_incident: ClassVar[bool] = True

    def gather(
        self, inputs: ActionInputs, reads: Gather, incident: Future[Incident] | None
    ) -> str | None:
        return inputs.resolution

    def plan(self, incident: Incident | None, request: str | None) -> Plan:
        assert incident is not None
        return plan(incident, request)
