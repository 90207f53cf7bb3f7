"""Snooze: an acknowledged incident is snoozed; a triggered one is acknowledged first.

PagerDuty snoozes only acknowledged incidents (error 1012 otherwise), and snoozing one that is
resolved makes no sense: refused before any write.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import ClassVar

from pydantic import Field as Input

from escalator.clients.models import Incident
from escalator.inputs import IncidentInputs
from escalator.inputs.fields import SnoozeSeconds
from escalator.operations.base import Change, Field, Gather, Plan, Positional, Write
from escalator.operations.on_incident import IncidentOperation
from escalator.operations.state import refuse_resolved
from escalator.operations.writes import Snooze as SnoozeWrite
from escalator.operations.writes import UpdateIncident


def duration_text(seconds: int) -> str:
    """'1h30m' for 5400."""
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def plan(incident: Incident, seconds: int) -> Plan:
    """Acknowledge when triggered, then snooze for ``seconds``."""
    refuse_resolved(incident, "snoozing")
    writes: list[Write] = []
    changes = [Change(Field.SNOOZE, "", duration_text(seconds), True)]
    if incident.status == "triggered":
        changes.insert(0, Change(Field.STATUS, incident.status, "acknowledged", True))
        writes.append(UpdateIncident(incident.id, status="acknowledged"))
    writes.append(SnoozeWrite(incident.id, seconds))
    return Plan(changes=tuple(changes), writes=tuple(writes))


class SnoozeInputs(IncidentInputs):
    """Snooze's inputs: the incident and how long (``snooze_duration``, in seconds)."""

    snooze_seconds: SnoozeSeconds = Input(alias="snooze_duration")


class Snooze(IncidentOperation[SnoozeInputs, int]):
    """The snooze operation."""

    inputs_model = SnoozeInputs
    name: ClassVar[str] = "snooze"
    noun: ClassVar[str] = "Snooze"
    doing: ClassVar[str] = "Snoozing"
    done: ClassVar[str] = "snoozed"
    description: ClassVar[str] = "Snooze an incident (a triggered one is acknowledged first)."
    example: ClassVar[str] = "escalator snooze -i Q0RIJJZL24RC6W 30m --from alice@example.com"
    positional: ClassVar[Positional | None] = Positional(
        "snooze_duration", "DURATION", "seconds (1800) or 30m, 4h, 1h30m, 1d"
    )
    kit_action: ClassVar[str] = "snooze-incident-action.json"

    def asked(self, inputs: SnoozeInputs) -> str:
        seconds = inputs.snooze_seconds
        return f"for {duration_text(seconds)}" if seconds is not None else ""

    def done_label(self, plan: Plan, after: Incident) -> str:
        sent = plan.sent()
        if Field.SNOOZE in sent:
            return f"Snoozed for {sent[Field.SNOOZE].asked}"
        return self.done.capitalize()

    def gather(self, inputs: SnoozeInputs, reads: Gather, incident: Future[Incident] | None) -> int:
        return inputs.snooze_seconds

    def plan_on(self, incident: Incident, request: int) -> Plan:
        return plan(incident, request)
