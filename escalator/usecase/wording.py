"""How a run is said: in the Port run's logs and status label, and in the log's last line.

Each says what was sent and what already held, never more than was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escalator.inputs import CommonInputs
from escalator.operations.base import Described, Field
from escalator.usecase.outcome import Outcome

LABEL_LIMIT = 100


def start_log(inputs: CommonInputs, operation: Described[Any]) -> str:
    """The first Port run log: 'Escalating PagerDuty incident Q1: urgency high.'"""
    what = operation.asked(inputs)
    return f"{operation.doing} {operation.subject(inputs)}" + (f": {what}." if what else ".")


def result(outcome: Outcome) -> str:
    """One line saying what was sent and what already held: the result log and the last line."""
    incident = outcome.incident
    plan = outcome.plan
    if plan is not None and incident is None and outcome.inputs.dry_run:
        return f"Dry run: would send {len(plan.writes)} request(s); nothing was sent."
    if incident is None or plan is None:
        return ""
    name = (
        f"#{incident.incident_number} ({incident.id})" if incident.incident_number else incident.id
    )
    said = "; ".join(change.said() for change in plan.changes if change.field is not Field.INCIDENT)
    if outcome.inputs.dry_run:
        head = f"Dry run, incident {name}: would send {len(plan.writes)} request(s)"
    elif plan.found is not None:
        head = f"Incident {name} is already open with this incident key; nothing was created"
    elif not outcome.changed:
        head = f"Incident {name} already was as asked; nothing was sent to PagerDuty"
    else:
        head = f"Incident {name} {outcome.operation.done}"
    text = head + (f": {said}." if said else ".")
    if incident.html_url:
        text += f" {incident.html_url}"
    return text


def status_label(outcome: Outcome) -> str:
    """The Port run's status label (at most 100 characters)."""
    if outcome.inputs.dry_run:
        return "Dry run: nothing changed"
    after = outcome.after
    if after is None:
        return f"{outcome.operation.noun} failed"
    if outcome.plan is not None and outcome.plan.found is not None:
        return "Incident already open"
    if not outcome.changed:
        return "Already as requested"
    return _done_label(outcome)[:LABEL_LIMIT]


def _done_label(outcome: Outcome) -> str:
    after = outcome.after
    assert after is not None
    assert outcome.plan is not None
    return outcome.operation.done_label(outcome.plan, after)


@dataclass(frozen=True)
class IncidentWords:
    """How an incident run is said to Port (see :class:`escalator.usecase.port_run.RunWords`)."""

    outcome: Outcome

    def start_log(self) -> str:
        return start_log(self.outcome.inputs, self.outcome.operation)

    def result(self) -> str:
        return result(self.outcome)

    def status_label(self) -> str:
        return status_label(self.outcome)
