"""What PagerDuty's error answers mean for the user: a message and the fix, by error code first
(codes are more precise than statuses), then by status; one reading for creates, whose refusals
need the service named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escalator.clients.answers import ErrorRule, Reading, clip
from escalator.http import HttpResponse

MISSING_FROM_MESSAGE = 'You must specify a user\'s email address in the "From" header'

_REGION_HINT = (
    "Check {pagerduty_token} (a REST API key from Integrations > API Access Keys, not an Events "
    "integration key) and {pagerduty_region}: an account in PagerDuty's EU service region needs "
    "{pagerduty_region=eu}."
)

#: The hint of a plain 400 to a note or a snooze: the input its body came from.
_WRITE_HINTS = {
    "notes": "Check {note} (or {resolution}): PagerDuty's message says what it refused.",
    "snooze": "Check {snooze_duration}: 1 second to 7 days, such as 1800, 30m, 4h or 1d.",
}

#: By PagerDuty error code first (codes are more precise than statuses), then by status.
ERROR_RULES: Mapping[int | str, ErrorRule] = {
    1001: ErrorRule(
        "the incident is already resolved.",
        "A resolved incident cannot be escalated, acknowledged or snoozed: pick an open incident "
        "in {incident_id}, or reopen this one in PagerDuty first (the incident's page > Reopen).",
    ),
    1002: ErrorRule(
        "the incident is already acknowledged.",
        "Someone acknowledged it meanwhile; nothing more is needed.",
    ),
    1006: ErrorRule(
        "PagerDuty cannot escalate this incident (it is low urgency or resolved).",
        "Low-urgency incidents cannot be escalated to a level: add {urgency=high}, or reassign "
        "it with {escalation_policy_id}.",
    ),
    1007: ErrorRule(
        "PagerDuty has no user with an ID given in {assignees}.",
        "Give each user in {assignees} as the email the user has in PagerDuty, or as the user's ID "
        "(the user's page in PagerDuty: People > Users).",
    ),
    1008: ErrorRule(
        "no PagerDuty user has the email given in {from}.",
        "Set {from} to the email of an existing PagerDuty user (Port's user input: the user's "
        "email as it is in PagerDuty).",
    ),
    1011: ErrorRule(
        "PagerDuty cannot reassign this incident (a resolved incident keeps its assignees).",
        "Pick an open incident in {incident_id}, or reopen this one in PagerDuty first.",
    ),
    1012: ErrorRule(
        "the incident is not acknowledged, and PagerDuty snoozes only acknowledged incidents.",
        "Someone changed it meanwhile: run the snooze again (a triggered incident is acknowledged "
        "first; a resolved one cannot be snoozed).",
    ),
    1013: ErrorRule(
        "PagerDuty refused the snooze duration.",
        "Set {snooze_duration} to 1 second to 7 days: seconds (1800) or a duration (30m, 4h, "
        "1h30m, 1d).",
    ),
    1014: ErrorRule(
        "the escalation policy was not found.",
        "Check {escalation_policy_id}: copy the ID from the policy's page in PagerDuty.",
    ),
    1015: ErrorRule(
        "the escalation policy has nobody on call.",
        "Pick another {escalation_policy_id}, or fix the policy's schedules in PagerDuty.",
    ),
    1018: ErrorRule(
        "the user in {from} is not allowed to change this incident.",
        "Set {from} to a PagerDuty user with rights on the incident's service.",
    ),
    1020: ErrorRule(
        "the priority is not one of the account's priorities.",
        "Set {priority} to a priority name the account has (PagerDuty: Incidents > Incident "
        "Priority Settings) or a priority ID.",
    ),
    2014: ErrorRule(
        "your PagerDuty account does not have the ability this change needs (priorities are "
        "not enabled, or the plan lacks urgency changes).",
        "Enable priorities in PagerDuty (Incidents > Incident Priority Settings) or leave "
        "{priority} empty; urgency changes need a plan with dynamic notifications.",
    ),
    "missing_from": ErrorRule(
        "PagerDuty needs the email of the user making the change.",
        "Set {from} to the email of a PagerDuty user (required with an account-level API key).",
    ),
    "level_out_of_range": ErrorRule(
        "the escalation level does not exist in the incident's escalation policy.",
        "Set {escalation_level} to a level the policy has (1 is its first rule).",
    ),
    401: ErrorRule("the API key was rejected.", _REGION_HINT),
    402: ErrorRule(
        "your PagerDuty plan does not include this change.",
        "Ask your PagerDuty admin about the plan, or drop the input that needs it (urgency "
        "changes need a plan with dynamic notifications).",
    ),
    403: ErrorRule(
        "the API key is not allowed to make this change.",
        "{pagerduty_token} may be a read-only key: create a full-access REST API key, or use a "
        "user key whose user has rights on the service.",
    ),
    404: ErrorRule(
        "the incident was not found.",
        "Check {incident_id} (or the entity in {port_context}): PagerDuty IDs are case-sensitive. "
        "An account in the EU service region needs {pagerduty_region=eu}.",
    ),
    429: ErrorRule(
        "PagerDuty kept rate limiting the API key.",
        "Too many requests are using this key; try again in a minute.",
    ),
    400: ErrorRule(
        "PagerDuty refused the change.",
        "Check the input PagerDuty's message is about: {escalation_policy_id}, "
        "{escalation_level}, {urgency}, {assignees} or {priority}.",
    ),
    500: ErrorRule(
        "PagerDuty had an internal error, after every retry.",
        "Try again later; see status.pagerduty.com.",
    ),
}


#: A 404 whose body is not a PagerDuty error: the base URL is not PagerDuty's REST API.
NOT_PAGERDUTY = ErrorRule(
    "the answer is not PagerDuty's: {pagerduty_api_url} does not look like PagerDuty's REST API.",
    "Check {pagerduty_api_url}: PagerDuty's REST API base URL (https://api.pagerduty.com, "
    "https://api.eu.pagerduty.com), or the sandbox's http://127.0.0.1:<port>/pagerduty; or leave "
    "it empty and set {pagerduty_region}.",
)


def not_pagerduty(response: HttpResponse) -> bool:
    """A 404 without PagerDuty's error object: another service (or none) answered."""
    body = response.body
    return response.status == 404 and not (
        isinstance(body, dict) and isinstance(body.get("error"), dict)
    )


def read_error(response: HttpResponse, path: str) -> Reading:
    """What a PagerDuty error answer means: by the error code first (more precise than the
    status), then by the status."""
    error = response.body.get("error") if isinstance(response.body, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) else None
    server_message = str(error.get("message") or "").strip()
    details = _details(error.get("errors"))
    status = response.status
    said = " ".join((server_message, details)).lower()

    rule: ErrorRule | None = None
    if MISSING_FROM_MESSAGE.lower() in said:
        rule = ERROR_RULES["missing_from"]
    elif code is not None and code in ERROR_RULES:
        rule = ERROR_RULES[code]
    elif status == 400 and "escalation_level" in said:
        rule = ERROR_RULES["level_out_of_range"]
    elif status in ERROR_RULES:
        rule = ERROR_RULES[status]
    elif status >= 500:
        rule = ERROR_RULES[500]
    rule = rule or ErrorRule("PagerDuty answered with an error.", "See PagerDuty's message above.")
    if rule is ERROR_RULES[400] and path.endswith(("/notes", "/snooze")):
        rule = ErrorRule(rule.message, _WRITE_HINTS[path.rsplit("/", 1)[1]])
    if status == 404 and not path.startswith("/incidents/"):
        rule = ErrorRule("the requested object was not found.", rule.hint)
    if not_pagerduty(response):
        rule = NOT_PAGERDUTY
    words = "; ".join(part for part in (server_message, details) if part)
    return Reading(rule, said=words, code=code)


def read_create_error(response: HttpResponse, path: str, *, service_id: str) -> Reading:
    """What PagerDuty's refusal of ``POST /incidents`` means (service, limit, priorities...)."""
    reading = read_error(response, path)
    said = reading.said.lower()
    if response.status == 429:
        rule = _creation_rate_limited(response.headers)
    elif reading.rule is NOT_PAGERDUTY:
        return reading
    elif ("service" in said and "not found" in said) or response.status == 404:
        rule = ErrorRule(
            f"no PagerDuty service has the ID {clip(service_id, 40)} given in {{service_id}}.",
            "Check {service_id} (or the service entity in {port_context}): copy the ID from the "
            "service's page in PagerDuty; IDs are case-sensitive.",
        )
    elif "disabled" in said:
        rule = ErrorRule(
            f"the PagerDuty service {clip(service_id, 40)} is disabled: it takes no incidents.",
            "Enable the service in PagerDuty (its Settings), or set {service_id} to an active "
            "service.",
        )
    elif reading.code == 2014 or response.status == 402:
        rule = ErrorRule(
            "incident priorities are not enabled on this PagerDuty account.",
            "Enable priorities in PagerDuty (Incidents > Incident Priority Settings), or leave "
            "{priority} empty.",
        )
    elif reading.code == 1007:
        rule = ErrorRule(
            "the user in {assignees} was not found in PagerDuty.",
            "Give one user in {assignees}: the email or ID exactly as it is in PagerDuty.",
        )
    elif response.status == 400 and reading.rule is ERROR_RULES[400]:
        rule = ErrorRule(
            "PagerDuty refused to create the incident.",
            "Check {service_id}, {escalation_policy_id}, {assignees}, {priority} and {urgency} "
            "against PagerDuty's message.",
        )
    else:
        return reading
    return Reading(rule, said=reading.said, code=reading.code)


def _creation_rate_limited(headers: Mapping[str, str]) -> ErrorRule:
    """The creation rate limit: far lower than the general one; retry when its window resets."""
    wait = headers.get("ratelimit-reset") or headers.get("Retry-After") or ""
    when = (
        f"in {wait.strip()} seconds, when PagerDuty's creation window resets"
        if wait.strip().isdigit()
        else "in a minute"
    )
    return ErrorRule(
        "PagerDuty's incident-creation rate limit was reached. Creating incidents has its own "
        "per-account limit, far lower than the general API limit (it is meant for incidents "
        "opened at human speed).",
        f"Try again {when}; space out runs that create incidents, or let one run create and "
        "the others find it by {incident_key}.",
    )


def read_policy_error(response: HttpResponse, path: str) -> Reading:
    """As :func:`read_error`, except that a 404 means the escalation policy does not exist."""
    reading = read_error(response, path)
    if response.status != 404 or reading.rule is NOT_PAGERDUTY:
        return reading
    rule = ErrorRule("the escalation policy was not found.", ERROR_RULES[1014].hint)
    return Reading(rule, said=reading.said, code=reading.code)


def _details(errors: Any) -> str:
    """PagerDuty's ``errors``: a list of strings, an object of field -> messages, or absent."""
    if isinstance(errors, list):
        return "; ".join(str(item) for item in errors if item)
    if isinstance(errors, dict):
        parts = []
        for field, messages in errors.items():
            text = ", ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{field}: {text}")
        return "; ".join(parts)
    return ""
