"""The job summary and the step outputs of a run on a target other than an incident, made from a
:class:`~escalator.usecase.target_outcome.TargetOutcome`: the rows and outputs its operation
declares, redacted first and escaped after, as for an incident (:mod:`escalator.report.summary`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from escalator.errors import ErrorText
from escalator.markdown import md
from escalator.report.sections import closing_lines, dry_run_lines, error_lines, links
from escalator.usecase.target_outcome import TargetOutcome

Redact = Callable[[str], str]


def target_outputs(outcome: TargetOutcome[Any]) -> dict[str, str]:
    """The common outputs (``operation``, ``changed``) and those the operation declares."""
    common = {
        "operation": outcome.operation.name,
        "changed": "true" if outcome.changed else "false",
        "port_run_id": outcome.inputs.port_run_id or "",
    }
    state = outcome.state
    return common | (outcome.operation.outputs(state) if state is not None else {})


def target_port_outputs(outcome: TargetOutcome[Any]) -> dict[str, str]:
    """The outputs known once Port has the entity."""
    entity = outcome.entity
    return {
        "port_entity_identifier": entity.identifier if entity and outcome.entity_upserted else ""
    }


def render_target(
    outcome: TargetOutcome[Any], *, redact: Redact, error: ErrorText | None = None
) -> str:
    """The job summary: the heading (or the error first), the operation's rows, the bodies a
    dry run would send, links, warnings."""

    def cell(text: object) -> str:
        return md(redact(str(text)))

    lines = [_heading(outcome, error, cell), ""]
    if error is not None:
        lines += error_lines(error, cell)
    state = outcome.state
    rows = outcome.operation.summary_rows(state) if state is not None else []
    if rows:
        lines += ["| | |", "|---|---|"]
        lines += [f"| {cell(label)} | {cell(value)} |" for label, value in rows]
        lines.append("")
    plan = outcome.plan
    if outcome.inputs.dry_run and plan is not None and plan.writes:
        lines += dry_run_lines(plan.writes, redact)
    lines += closing_lines(_links(outcome), outcome.warnings, cell)
    return "\n".join(lines) + "\n"


def _heading(
    outcome: TargetOutcome[Any], error: ErrorText | None, cell: Callable[[object], str]
) -> str:
    operation = outcome.operation
    target = operation.target.capitalize()
    if error is not None and not outcome.done:
        return f"## ❌ {operation.noun} failed: {cell(error.title)}"
    if error is not None:
        return f"## ⚠️ {target} {operation.done} in PagerDuty, but Port was not fully updated"
    if outcome.inputs.dry_run:
        return "## 🔎 Dry run: nothing was changed"
    if outcome.changed:
        return f"## ✅ {target} {operation.done}"
    return f"## ✅ {target} already as asked: nothing changed"


def _links(outcome: TargetOutcome[Any]) -> list[str]:
    entity = outcome.entity
    upserted = entity is not None and outcome.entity_upserted
    where = f"{outcome.entity_blueprint}/{entity.identifier}" if entity and upserted else None
    return links(outcome.run_link, outcome.inputs.port_run_id, where)
