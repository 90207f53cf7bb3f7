"""Note: a note is added to the incident, resolved ones included."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import ActionInputs
from escalator.operations.base import Change, Field, Gather, Plan
from escalator.operations.writes import AddNote


def plan(incident: Incident, note: str) -> Plan:
    """One note, always sent (a note is a change of its own)."""
    return Plan(
        changes=(Change(Field.NOTE, "", note, True),),
        writes=(AddNote(note, incident.id),),
    )


class Note:
    """The note operation (the note input is its request; it is not added a second time)."""

    name: ClassVar[str] = "note"
    noun: ClassVar[str] = "Note"
    doing: ClassVar[str] = "Adding a note to"
    done: ClassVar[str] = "noted"
    reads_incident: ClassVar[bool] = True

    def gather(self, inputs: ActionInputs, reads: Gather, incident: Future[Incident] | None) -> str:
        assert inputs.note is not None  # required for this operation by the inputs
        return inputs.note

    def plan(self, incident: Incident | None, request: str) -> Plan:
        assert incident is not None
        return plan(incident, request)
