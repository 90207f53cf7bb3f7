"""Refusals several operations share: what cannot be done to a resolved incident."""

from __future__ import annotations

from escalator.clients.models import Incident
from escalator.errors import Refusal


def refuse_resolved(incident: Incident, operation: str, why: str = "") -> None:
    """Raise the refusal of ``operation`` on a resolved incident (nothing is sent): 'snoozing
    needs an open incident', or 'acknowledging it would reopen it' with ``why``."""
    if incident.status != "resolved":
        return
    raise Refusal(
        "incident_id",
        f"incident {incident.id} is resolved: {operation} {why or 'needs an open incident'}.",
        hint="Pick an open incident. To work on this one again, reopen it in PagerDuty first "
        "(the incident's page > Reopen).",
    )
