"""The job summary and the step outputs, made from an :class:`Outcome`.

Every text is redacted first and escaped after, so a secret is caught before Markdown escaping
could hide it from the redaction and from the runner's masking. Every value from PagerDuty or Port
(an incident title is anyone's text) goes through :func:`md`, so it cannot break the Markdown or
inject HTML. The error comes first, so a summary cut at GitHub's limit still shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from escalator.clients.models import Incident
from escalator.errors import ErrorText
from escalator.markdown import md, md_code, md_link
from escalator.operations.base import Field, Plan, shown
from escalator.report.sections import closing_lines, dry_run_lines, error_lines, links
from escalator.usecase.outcome import Outcome

Redact = Callable[[str], str]

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
    "oncall",
    "oncall_email",
    "override_id",
    "service_id",
    "routing_key",
    "port_entity_identifier",
    "port_run_id",
    "dedup_key",
)
#: Outputs whose values come from closed sets: never redacted by substring.
PLAIN_OUTPUTS = frozenset({"operation", "changed", "incident_number", "incident_status", "urgency"})
#: The ``incident`` output's cap: GitHub allows 1 MB per output; a padded answer is cut to the
#: fields the outputs and the entity use.
MAX_INCIDENT_OUTPUT = 256 * 1024
_ESSENTIAL_FIELDS = (
    "id",
    "incident_number",
    "title",
    "status",
    "urgency",
    "html_url",
    "self",
    "service",
    "escalation_policy",
    "assignments",
    "priority",
    "created_at",
    "updated_at",
)


def incident_outputs(outcome: Outcome) -> dict[str, str]:
    """The outputs known once PagerDuty holds the result (or, in a dry run, the current state)."""
    incident = outcome.incident
    if incident is None:
        return {"operation": outcome.operation.name, "changed": "false"}
    return {
        "operation": outcome.operation.name,
        "incident_id": incident.id,
        "incident_number": str(incident.incident_number or ""),
        "incident_status": incident.status,
        "incident_url": incident.html_url or "",
        "urgency": incident.urgency,
        "escalation_policy_id": incident.policy_id,
        "escalation_policy": incident.policy_name,
        "responder": incident.responder,
        "changed": "true" if outcome.changed else "false",
        "incident": incident_json(incident),
        "port_run_id": outcome.inputs.port_run_id or "",
    }


def incident_json(incident: Incident) -> str:
    """The incident as PagerDuty sent it, cut to its essential fields when it is too large."""
    document = incident.as_json()
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    if len(text.encode("utf-8")) <= MAX_INCIDENT_OUTPUT:
        return text
    essential: dict[str, Any] = {k: document[k] for k in _ESSENTIAL_FIELDS if k in document}
    if isinstance(essential.get("title"), str):
        essential["title"] = essential["title"][:1000]
    essential["truncated"] = True
    text = json.dumps(essential, separators=(",", ":"), sort_keys=True)
    if len(text.encode("utf-8")) <= MAX_INCIDENT_OUTPUT:
        return text
    return json.dumps({"id": incident.id, "truncated": True})


def port_outputs(outcome: Outcome) -> dict[str, str]:
    """The outputs known once Port has the entity."""
    entity = outcome.entity
    return {
        "port_entity_identifier": entity.identifier if entity and outcome.entity_upserted else ""
    }


def render(outcome: Outcome, *, redact: Redact, error: ErrorText | None = None) -> str:
    """The job summary: the result (or the error first, in the face's terms), the changes, links,
    warnings."""

    def cell(text: object) -> str:
        return md(redact(str(text)))

    lines = [_heading(outcome, error, cell), ""]
    if error is not None:
        lines += error_lines(error, cell)
    incident = outcome.incident
    if incident is not None:
        number = f"#{incident.incident_number} " if incident.incident_number else ""
        title = redact(f"{number}{incident.title or incident.id}")
        lines += [f"{md_link(title, incident.html_url)} ({md_code(incident.id)})", ""]
    line = outcome.operation.summary_line(outcome.inputs, incident, redact)
    if line:
        lines += [line, ""]
    if outcome.plan is not None:
        lines += _table(outcome, outcome.plan, cell)
        lines.append("")
        if outcome.inputs.dry_run and outcome.plan.writes:
            lines += dry_run_lines(outcome.plan.writes, redact)
    lines += closing_lines(_links(outcome), outcome.warnings, cell)
    return "\n".join(lines) + "\n"


def render_failure(outcome: Outcome | None, error: ErrorText, *, redact: Redact) -> str:
    """The job summary of a failed run (before the run started when ``outcome`` is None), the
    error rendered in the face's terms."""
    if outcome is not None:
        return render(outcome, redact=redact, error=error)
    lines = [f"## ❌ Not started: {md(redact(error.title))}", ""]
    lines += error_lines(error, lambda text: md(redact(str(text))))
    return "\n".join(lines) + "\n"


def _heading(outcome: Outcome, error: ErrorText | None, cell: Callable[[object], str]) -> str:
    operation = outcome.operation
    if error is not None and not outcome.done:
        return f"## ❌ {operation.noun} failed: {cell(error.title)}"
    found = outcome.plan is not None and outcome.plan.found is not None
    if error is not None:
        done = "already open (nothing created)" if found else operation.done
        return f"## ⚠️ Incident {done} in PagerDuty, but Port was not fully updated"
    if outcome.inputs.dry_run:
        return "## 🔎 Dry run: nothing was changed"
    if found:
        return "## ✅ Incident already open with this key: nothing was created"
    if outcome.changed:
        return f"## ✅ Incident {operation.done}"
    return "## ✅ Incident already as asked: nothing changed"


def _table(outcome: Outcome, plan: Plan, cell: Callable[[object], str]) -> list[str]:
    """One row per change asked (before, asked, after), then status and assignees for context."""
    after = None if outcome.inputs.dry_run else outcome.after
    before = outcome.before
    lines = ["| | Before | Asked | After |", "|---|---|---|---|"]
    fields = [change.field for change in plan.changes]
    for change in plan.changes:
        if change.field is Field.INCIDENT:
            continue
        was = change.before or "—"
        now = shown(change.field, after) if after is not None else ""
        if change.field in (Field.LEVEL, Field.NOTE, Field.SNOOZE):
            now = ("sent" if change.needed else "unchanged") if after is not None else ""
        asked = change.asked if change.needed else f"{change.asked} (already)"
        lines.append(f"| {cell(change.field.value)} | {cell(was)} | {cell(asked)} | {cell(now)} |")
    for field in (Field.STATUS, Field.ASSIGNEES):
        if field in fields:
            continue
        was = shown(field, before) or "—"
        now = shown(field, after) if after is not None else ""
        lines.append(f"| {cell(field.value)} | {cell(was)} | — | {cell(now)} |")
    return lines


def _links(outcome: Outcome) -> list[str]:
    inputs = outcome.inputs
    entity = outcome.entity
    upserted = entity is not None and outcome.entity_upserted
    where = f"{inputs.port_blueprint}/{entity.identifier}" if entity and upserted else None
    return links(outcome.run_link, inputs.port_run_id, where)
