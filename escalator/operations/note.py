"""Note: a note is added to the incident, resolved ones included."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import ActionInputs
from escalator.operations.base import Change, Field, Gather, Plan, Positional
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.writes import AddNote


def plan(incident: Incident, note: str) -> Plan:
    """One note, always sent (a note is a change of its own)."""
    return Plan(
        changes=(Change(Field.NOTE, "", note, True),),
        writes=(AddNote(note, incident.id),),
    )


class Note(IncidentOperation[str]):
    """The note operation (the note input is its request; it is not added a second time)."""

    name: ClassVar[str] = "note"
    noun: ClassVar[str] = "Note"
    doing: ClassVar[str] = "Adding a note to"
    done: ClassVar[str] = "noted"
    needs: ClassVar[tuple[str, ...]] = ("incident_id", "note")
    accepts: ClassVar[tuple[str, ...]] = ()
    adds_note: ClassVar[bool] = False  # the note is its change, not added a second time
    description: ClassVar[str] = "Add a note to an incident."
    example: ClassVar[str] = (
        'escalator note -i Q2LAR4ADCXC8IB "Rolled back the release" --from alice@example.com'
    )
    positional: ClassVar[Positional | None] = Positional("note", "NOTE", "the text of the note")
    kit_action: ClassVar[str] = "note-incident-action.json"

    def done_label(self, plan: Plan, after: Incident) -> str:
        return "Note added"

    def gather(self, inputs: ActionInputs, reads: Gather, incident: Future[Incident] | None) -> str:
        assert inputs.note is not None  # required for this operation by the inputs
        return inputs.note

    def plan_on(self, incident: Incident, request: str) -> Plan:
        return plan(incident, request)
