"""What PagerDuty's refusals of a service create or an integration mean for the user: the input
to change (``service_name``, ``escalation_policy_id``) and the fix; else as any refusal.
"""

from __future__ import annotations

from escalator.clients.answers import ErrorRule, Reading, clip
from escalator.clients.pagerduty_errors import read_error
from escalator.http import HttpResponse

NAME_TAKEN = "name has already been taken"

_RULES = {
    "taken": ErrorRule(
        "a PagerDuty service with this name exists already, and it could not be found by its name.",
        "Check {service_name} against the services in PagerDuty (Services > Service "
        "Directory); the API key may not see that service (a team-restricted key).",
    ),
    "policy": ErrorRule(
        "PagerDuty has no escalation policy with the ID given in {escalation_policy_id}.",
        "Copy the ID from the policy's page in PagerDuty (the last part of its URL, such as "
        "PPAYMNT); IDs are case-sensitive.",
    ),
    "name": ErrorRule(
        "PagerDuty refused the name in {service_name}.",
        "Give {service_name} as a name of 1 to 255 characters.",
    ),
    "limit": ErrorRule(
        "the PagerDuty account has reached its limit of services.",
        "Remove unused services in PagerDuty, or ask your PagerDuty admin about the plan.",
    ),
    "plan": ErrorRule(
        "your PagerDuty plan does not allow creating this service.",
        "Ask your PagerDuty admin about the plan.",
    ),
    "refused": ErrorRule(
        "PagerDuty refused to create the service.",
        "Check {service_name}, {escalation_policy_id} and {description} against PagerDuty's "
        "message.",
    ),
    "forbidden": ErrorRule(
        "the API key is not allowed to create services.",
        "{pagerduty_token} may be a read-only key or a user key without the right to manage "
        "services: use a full-access REST API key.",
    ),
}


def name_taken(said: str) -> bool:
    """Whether PagerDuty's words say the service name is taken (by another run, say)."""
    return NAME_TAKEN in said.lower()


def read_service_error(response: HttpResponse, path: str) -> Reading:
    """What a refusal of ``POST /services`` (or of the name lookup) means."""
    reading = read_error(response, path)
    said = reading.said.lower()
    status = response.status
    key: str | None = None
    if status == 400 and name_taken(said):
        key = "taken"
    elif status in (400, 404) and "escalation" in said and "polic" in said:
        key = "policy"
    elif status == 400 and "name" in said:
        key = "name"
    elif reading.code == 2019:
        key = "limit"
    elif status == 402:
        key = "plan"
    elif status == 403:
        key = "forbidden"
    elif status == 400:
        key = "refused"
    if key is None:
        return reading
    return Reading(_RULES[key], said=reading.said, code=reading.code)


def read_integration_error(response: HttpResponse, path: str, *, service_id: str) -> Reading:
    """What a refusal of an integration's create or read means: a 404 is the service gone."""
    reading = read_error(response, path)
    if response.status == 404:
        rule = ErrorRule(
            f"the PagerDuty service {clip(service_id, 40)} or its integration was not found.",
            "The service may have been deleted meanwhile: run the action again to create it.",
        )
    elif response.status == 403:
        rule = _RULES["forbidden"]
    else:
        return reading
    return Reading(rule, said=reading.said, code=reading.code)
