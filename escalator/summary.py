"""The job summary and the step outputs, made from an :class:`Outcome`.

Every value from PagerDuty or Port (an incident title is anyone's text) goes through :func:`md`,
so it cannot break the summary's Markdown or inject HTML.
"""

from __future__ import annotations

import json

from escalator.errors import EscalatorError
from escalator.escalation import Outcome
from escalator.models import Incident
from escalator.workflow import md, md_code, md_link

OUTPUT_NAMES: tuple[str, ...] = (
    "operation",
    "incident_id",
    "incident_number",
    "incident_status",
    "incident_url",
    "urgency",
    "escalation_policy_id",
    "escalation_policy",
    "responder",
    "changed",
    "incident",
    "port_entity_identifier",
    "port_run_id",
)


def incident_outputs(outcome: Outcome) -> dict[str, str]:
    """The outputs known once PagerDuty holds the result (or, in a dry run, the current state)."""
    incident = outcome.after or outcome.before
    if incident is None:
        return {}
    return {
        "operation": outcome.inputs.operation,
        "incident_id": incident.id,
        "incident_number": str(incident.incident_number or ""),
        "incident_status": incident.status,
        "incident_url": incident.html_url or "",
        "urgency": incident.urgency,
        "escalation_policy_id": incident.policy_id,
        "escalation_policy": incident.policy_name,
        "responder": incident.responder,
        "changed": "true" if outcome.changed else "false",
        "incident": json.dumps(incident.as_json(), separators=(",", ":"), sort_keys=True),
        "port_run_id": outcome.inputs.port_run_id or "",
    }


def port_outputs(outcome: Outcome) -> dict[str, str]:
    """The outputs known once Port has the entity."""
    entity = outcome.entity
    return {
        "port_entity_identifier": entity.identifier if entity and outcome.entity_upserted else ""
    }


def render(outcome: Outcome, error: EscalatorError | None = None) -> str:
    """The job summary: the result, a before/after table, links, warnings, the error."""
    inputs = outcome.inputs
    before, after = outcome.before, outcome.after
    lines: list[str] = []
    if error is not None and not outcome.escalated:
        lines.append(f"## ❌ Escalation failed: {md(error.title)}")
    elif error is not None:
        lines.append("## ⚠️ Escalated in PagerDuty, but Port was not fully updated")
    elif inputs.dry_run:
        lines.append("## 🔎 Dry run: nothing was changed")
    elif outcome.changed:
        lines.append("## ✅ Incident escalated")
    else:
        lines.append("## ✅ Incident already as requested: nothing changed")
    lines.append("")

    incident = after or before
    if incident is not None:
        number = f"#{incident.incident_number} " if incident.incident_number else ""
        lines.append(
            f"{md_link(f'{number}{incident.title or incident.id}', incident.html_url)} "
            f"({md_code(incident.id)})"
        )
        lines.append("")
    if before is not None:
        shown_after = after if after is not None and not inputs.dry_run else None
        lines.extend(_table(outcome, before, shown_after))
        lines.append("")
    if inputs.dry_run and outcome.planned:
        lines.append("Would send to PagerDuty, in this order:")
        lines.append("")
        for update in outcome.planned:
            target = incident.id if incident else ""
            lines.append(f"- {md_code(f'PUT /incidents/{target} {json.dumps(update)}')}")
        lines.append("")

    links = []
    if outcome.run_link:
        links.append(md_link("Workflow job", outcome.run_link))
    if inputs.port_run_id:
        links.append(f"Port run {md_code(inputs.port_run_id)}")
    if outcome.entity is not None and outcome.entity_upserted:
        links.append(
            f"Port entity {md_code(inputs.port_blueprint + '/' + outcome.entity.identifier)}"
        )
    if links:
        lines.append(" · ".join(links))
        lines.append("")

    if error is not None:
        lines.append(f"**Error:** {md(error.message)}")
        lines.append("")
        if error.hint:
            lines.append(f"**How to fix:** {md(error.hint)}")
            lines.append("")
    if outcome.warnings:
        lines.append("**Warnings:**")
        lines.append("")
        lines.extend(f"- {md(warning)}" for warning in outcome.warnings)
        lines.append("")
    return "\n".join(lines) + "\n"


def _table(outcome: Outcome, before: Incident, after: Incident | None) -> list[str]:
    level_asked = outcome.inputs.escalation_level
    rows = [
        ("Escalation policy", _policy(before), _policy(after) if after else ""),
        ("Escalation level asked", "", str(level_asked) if level_asked is not None else "—"),
        ("Urgency", before.urgency, after.urgency if after else ""),
        ("Status", before.status, after.status if after else ""),
        (
            "Assigned to",
            before.responder or "nobody",
            (after.responder or "nobody") if after else "",
        ),
    ]
    head = "| | Before | After |" if after else "| | Now | Asked |"
    lines = [head, "|---|---|---|"]
    for label, old, new in rows:
        if after is None:
            new = _asked(outcome, label)
        lines.append(f"| {label} | {md(old)} | {md(new)} |")
    return lines


def _asked(outcome: Outcome, label: str) -> str:
    inputs = outcome.inputs
    if label == "Escalation policy":
        return inputs.escalation_policy_id or "unchanged"
    if label == "Escalation level asked":
        return str(inputs.escalation_level) if inputs.escalation_level is not None else "—"
    if label == "Urgency":
        return inputs.urgency or "unchanged"
    return "unchanged"


def _policy(incident: Incident | None) -> str:
    if incident is None:
        return ""
    return f"{incident.policy_name} ({incident.policy_id})" if incident.policy_id else "none"
