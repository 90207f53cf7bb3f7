"""Note: a note is added to the incident, resolved ones included."""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from escalator.clients.models import Incident
from escalator.inputs import IncidentInputs
from escalator.operations.base import Change, Field, Gather, Plan, Positional
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.writes import AddNote


def plan(incident: Incident, note: str) -> Plan:
    """One note, always sent (a note is a change of its own)."""
    return Plan(
        changes=(Change(Field.NOTE, "", note, True),),
        writes=(AddNote(note, incident.id),),
    )


class NoteInputs(IncidentInputs):
    """Note's inputs: the incident and the note, which is its change (not added after it)."""

    note: str


class Note(IncidentOperation[NoteInputs, str]):
    """The note operation (the note input is its request; it is not added a second time)."""

    inputs_model = NoteInputs
    name: ClassVar[str] = "note"
    noun: ClassVar[str] = "Note"
    doing: ClassVar[str] = "Adding a note to"
    done: ClassVar[str] = "noted"
    description: ClassVar[str] = "Add a note to an incident."
    example: ClassVar[str] = (
        'escalator note -i Q2LAR4ADCXC8IB "Rolled back the release" --from alice@example.com'
    )
    positional: ClassVar[Positional | None] = Positional("note", "NOTE", "the text of the note")
    kit_action: ClassVar[str] = "note-incident-action.json"

    def done_label(self, plan: Plan, after: Incident) -> str:
        return "Note added"

    def note_after(self, inputs: NoteInputs) -> str | None:
        return None  # the note is its change, not added a second time

    def gather(self, inputs: NoteInputs, reads: Gather, incident: Future[Incident] | None) -> str:
        return inputs.note

    def plan_on(self, incident: Incident, request: str) -> Plan:
        return plan(incident, request)
