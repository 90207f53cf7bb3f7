"""One hint per input: what a valid value is, and how to fix a wrong one.

Keys are input names, in ``action.yml`` order (the action's list of inputs,
:data:`escalator.terms.INPUT_NAMES`, is read from them), or keys inside an input's JSON
(``port_context.run_id``); a key without an entry of its own takes its input's. Inputs are named
with placeholders (:mod:`escalator.terms`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple


class Hint(NamedTuple):
    """``what`` completes "X is not ..."; ``fix`` says what to change."""

    what: str
    fix: str


_CONTEXT_EXAMPLE = (
    '{"blueprint": "{{.action.blueprint}}", "entity": "{{.entity.identifier}}", '
    '"run_id": "{{.run.id}}", "relations": "{{.entity.relations}}"}'
)
_PAGERDUTY_ID = "uppercase letters and digits"

HINTS: Mapping[str, Hint] = {
    "port_context": Hint("a JSON object", f"Template it in the Port action as {_CONTEXT_EXAMPLE}."),
    "port_context.run_id": Hint("a Port run ID", 'Template it as "run_id": "{{.run.id}}".'),
    "port_context.entity": Hint(
        "a PagerDuty ID",
        'Template it as "entity": "{{.entity.identifier}}" on the incident (or service) entity; '
        f"PagerDuty IDs are {_PAGERDUTY_ID}, such as Q2LAR4ADCXC8IB.",
    ),
    "port_context.blueprint": Hint(
        "a Port blueprint identifier", 'Template it as "blueprint": "{{.action.blueprint}}".'
    ),
    "port_context.relations": Hint(
        "an object of relation identifiers",
        'Template it as "relations": "{{.entity.relations}}".',
    ),
    # the operations are the registry's: the parse names them (:func:`operation_hint`)
    "operation": Hint("an operation", "Use one of the operations."),
    "incident_id": Hint(
        "a PagerDuty incident ID or number",
        f"Give the incident's ID ({_PAGERDUTY_ID}, such as Q2LAR4ADCXC8IB) or number (such as "
        '1042), or pass {port_context} with the incident entity: {"entity": '
        '"{{.entity.identifier}}", "run_id": "{{.run.id}}"}.',
    ),
    "escalation_policy_id": Hint(
        "a PagerDuty escalation policy ID",
        "Copy the ID from the policy's page in PagerDuty (the last part of its URL, such as "
        "PPLATFM).",
    ),
    "escalation_level": Hint(
        "a level from 1 to 100",
        "Levels start at 1 (the first rule of the policy): 1, 2, 3...",
    ),
    "urgency": Hint("an urgency", "Use high or low."),
    "assignees": Hint(
        "a list of PagerDuty users",
        "Give emails of PagerDuty users or user IDs (such as PXPGF42), separated by commas, "
        "spaces or newlines.",
    ),
    "note": Hint("a note", "Give the text to add to the incident."),
    "resolution": Hint("a resolution", "Say why the incident is resolved."),
    "snooze_duration": Hint(
        "a duration",
        "Give seconds (1800) or a duration (30m, 4h, 1h30m, 1d), from 1 second to 7 days.",
    ),
    "priority": Hint(
        "a priority", "Give the priority's name as PagerDuty shows it (such as P1), or its ID."
    ),
    "title": Hint("a title", "Give the incident's title in a line."),
    "service_id": Hint(
        "a PagerDuty service ID",
        "Set {service_id} to the ID on the service's page in PagerDuty (such as PSVCPAY), or run "
        "the Port action on a service entity.",
    ),
    "details": Hint("text", "Give the incident's details as text."),
    "incident_key": Hint(
        "an incident key", "Give a key of at most 255 characters on one line, or leave it empty."
    ),
    "service_name": Hint(
        "a service name of 1 to 255 characters in one line",
        "Give the PagerDuty service's name in a line, such as Payments.",
    ),
    "description": Hint("text", "Give the service's description as text, or leave it empty."),
    "routing_key": Hint(
        "an Events API v2 integration key",
        "Set {routing_key} from a secret to the Integration Key of the service's Events API v2 "
        "integration (PagerDuty: the service > Integrations): 32 letters and digits.",
    ),
    "event_action": Hint("an event action", "Use trigger, acknowledge or resolve."),
    "dedup_key": Hint(
        "a dedup key",
        "Give the trigger's key (at most 255 characters on one line); acknowledge and resolve "
        "need it, a trigger defaults to port-<Port run id>.",
    ),
    "severity": Hint("a severity", "Use critical, error, warning or info."),
    "source": Hint(
        "a source",
        "Name the affected system in a line of at most 255 characters, or leave it empty for "
        "the Port entity.",
    ),
    "from": Hint(
        "an email address",
        "Give the email of a PagerDuty user, such as alice@example.com (in Port: the email of "
        "the user who runs the action).",
    ),
    "schedule_id": Hint(
        "a PagerDuty schedule ID",
        "Copy the ID from the schedule's page in PagerDuty (the last part of its URL, such as "
        "PSC7PAY), or run the Port action on a pagerdutySchedule entity.",
    ),
    "oncall_user": Hint(
        "a PagerDuty user",
        "Give the user's email exactly as it is in PagerDuty, or the user's ID (such as PXPGF42); "
        "empty: the {from} user.",
    ),
    "start": Hint(
        "a date and time",
        "Give an ISO 8601 date and time with an offset, such as 2026-12-06T21:00:00Z, or leave "
        "it empty for now.",
    ),
    "end": Hint(
        "a date and time or a duration",
        "Give an ISO 8601 date and time with an offset (2026-12-07T01:00:00Z) or a duration after "
        "{start} (30m, 4h, 2d, 1h30m), at most 90 days after {start}.",
    ),
    "override_id": Hint(
        "a PagerDuty override ID",
        "Give the ID an override run gave as its output, or leave it empty to remove "
        "{oncall_user}'s overrides that cover {start}.",
    ),
    "pagerduty_token": Hint(
        "a PagerDuty API key",
        "Set {pagerduty_token} to a PagerDuty REST API key (kept in a secret), pasted without "
        "spaces or line breaks.",
    ),
    "pagerduty_region": Hint(
        "a PagerDuty region", "Use {pagerduty_region=us} or {pagerduty_region=eu}."
    ),
    "pagerduty_api_url": Hint(
        "a PagerDuty API URL",
        "Give the API's base URL over https, such as https://api.pagerduty.com (plain http only "
        "to 127.0.0.1 or localhost: the sandbox), without credentials, query or fragment.",
    ),
    "pagerduty_events_url": Hint(
        "a PagerDuty Events API URL",
        "Give the Events API's base URL over https, such as https://events.pagerduty.com (plain "
        "http only to 127.0.0.1 or localhost: the sandbox), without credentials, query or "
        "fragment.",
    ),
    "port_client_id": Hint(
        "a Port client ID",
        "Set both {port_client_id} and {port_client_secret}, from secrets (Port: ... > "
        "Credentials), or neither to skip Port.",
    ),
    "port_client_secret": Hint(
        "a Port client secret",
        "Set both {port_client_id} and {port_client_secret}, from secrets (Port: ... > "
        "Credentials), or neither to skip Port.",
    ),
    "port_region": Hint("a Port region", "Use {port_region=eu} or {port_region=us}."),
    "port_api_url": Hint(
        "a Port API URL",
        "Give the API's base URL over https, such as https://api.port.io (plain http only to "
        "127.0.0.1 or localhost: the sandbox), without credentials, query or fragment.",
    ),
    "port_blueprint": Hint(
        "a Port blueprint identifier",
        "Use the incident blueprint's identifier, such as pagerdutyIncident.",
    ),
    "port_service_blueprint": Hint(
        "a Port blueprint identifier",
        "Use the service blueprint's identifier, such as pagerdutyService.",
    ),
    "port_property_mapping": Hint(
        "a mapping of Port properties to incident fields",
        'Give a JSON object such as {"team": "service.summary", "responder": null}: paths are '
        "dotted incident fields (title, service.summary, assignments.0.assignee.summary).",
    ),
    "finish_port_run": Hint("a boolean", "Use true or false."),
    "github_token": Hint(
        "a GitHub token",
        "Set {github_token} to a GitHub token (${{ github.token }} in a workflow), or leave it "
        "empty.",
    ),
    "dry_run": Hint("a boolean", "Use true or false."),
    "timeout_seconds": Hint(
        "a number of seconds from 5 to 3600",
        "Use the default, 120, or the most time the step may take.",
    ),
}


def operation_hint(operations: Iterable[str]) -> str:
    """The fix for an unknown operation: 'Use one of: escalate, acknowledge, ...'."""
    return f"Use one of: {', '.join(operations)}."


def hint_for(name: str) -> Hint:
    """The hint of ``name``, or of the nearest key or input that holds it."""
    while name not in HINTS and "." in name:
        name = name.rpartition(".")[0]
    return HINTS[name]
