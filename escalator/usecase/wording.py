"""How a run is said: in the Port run's logs and status label, and in the log's last line.

Each says what was sent and what already held, never more than was done.
"""

from __future__ import annotations

from escalator.inputs import ActionInputs
from escalator.operations.base import Field, Operation
from escalator.operations.snooze import duration_text
from escalator.usecase.outcome import Outcome

LABEL_LIMIT = 100


def asked(inputs: ActionInputs, operation: Operation) -> str:
    """What was asked, from the inputs, before anything is read: 'urgency high'."""
    name = operation.name
    if name == "escalate":
        parts = []
        if inputs.escalation_policy_id:
            parts.append(f"escalation policy {inputs.escalation_policy_id}")
        if inputs.escalation_level is not None:
            parts.append(f"escalation level {inputs.escalation_level}")
        if inputs.urgency:
            parts.append(f"urgency {inputs.urgency}")
        return ", ".join(parts)
    if name == "reassign":
        return "to " + ", ".join(inputs.assignees)
    if name == "snooze" and inputs.snooze_seconds is not None:
        return f"for {duration_text(inputs.snooze_seconds)}"
    if name == "priority":
        return f"to {inputs.priority}"
    if name == "create":
        return f'"{inputs.title}" on service {inputs.service_id}'
    return ""


def start_log(inputs: ActionInputs, operation: Operation) -> str:
    """The first Port run log: 'Escalating PagerDuty incident Q1: urgency high.'"""
    what = asked(inputs, operation)
    if operation.name == "create":
        return f"Creating a PagerDuty incident: {what}."
    return f"{operation.doing} PagerDuty incident {inputs.incident_id}" + (
        f": {what}." if what else "."
    )


def result(outcome: Outcome) -> str:
    """One line saying what was sent and what already held: the result log and the last line."""
    incident = outcome.incident
    plan = outcome.plan
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
    sent = {change.field: change for change in outcome.plan.changes if change.needed}
    name = outcome.operation.name
    if name == "escalate":
        if Field.POLICY in sent:
            return f"Escalated to {after.policy_name}"
        if Field.LEVEL in sent:
            return f"Escalated to level {sent[Field.LEVEL].asked}"
        return f"Urgency set to {after.urgency}"
    if name == "create":
        number = f"#{after.incident_number}" if after.incident_number else after.id
        return f"Created incident {number}"
    if name == "reassign" and Field.ASSIGNEES in sent:
        return f"Reassigned to {sent[Field.ASSIGNEES].asked}"
    if name == "snooze" and Field.SNOOZE in sent:
        return f"Snoozed for {sent[Field.SNOOZE].asked}"
    if name == "priority":
        return f"Priority set to {after.priority.label if after.priority else '?'}"
    if name == "note":
        return "Note added"
    return outcome.operation.done.capitalize()
