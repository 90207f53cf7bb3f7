"""What Port's error answers mean: its error strings and statuses, each with the message and
the hint the user gets, and the reading of an error answer by them."""

from __future__ import annotations

import re
from collections.abc import Mapping

from escalator.clients.answers import ErrorRule, Reading
from escalator.http import HttpResponse

_CREDENTIALS_HINT = (
    "Check {port_client_id} and {port_client_secret} (Port: ... > Credentials) and "
    "{port_region}: an organization on Port's US region needs {port_region=us}."
)

#: By Port's error string first, then by status.
ERROR_RULES: Mapping[str | int, ErrorRule] = {
    "run_exhausted": ErrorRule(
        "the Port action run has already finished.",
        "Something ended the run before this step (another step, or {finish_port_run=true} in "
        "an earlier step): keep {finish_port_run=false} and let Port end the run "
        "(reportWorkflowStatus).",
    ),
    "blueprint_schema_mismatch": ErrorRule(
        "the entity does not match the blueprint.",
        "Change the blueprint's property, or leave the property out with "
        "{port_property_mapping}, "
        'for example {"<property>": null}.',
    ),
    "relation_many_violation": ErrorRule(
        "a relation's value does not match the relation (one identifier or a list).",
        "Check the blueprint's relation (many: true takes a list) and the relations in "
        "{port_context}.",
    ),
    "missing_permissions": ErrorRule(
        "the Port credentials may not do this.",
        "Use credentials of a Port user or machine with rights on the blueprint and the action.",
    ),
    "required_relation": ErrorRule(
        "the blueprint requires a relation that is not set.",
        'Pass the entity\'s relations in {port_context} ("relations": "{{.entity.relations}}").',
    ),
    "identifier_taken": ErrorRule(
        "another entity already uses this identifier.",
        "Check {port_blueprint}: the identifier belongs to an entity of another blueprint.",
    ),
    401: ErrorRule("Port rejected the credentials.", _CREDENTIALS_HINT),
    403: ErrorRule(
        "the Port credentials may not do this.",
        "Use credentials with rights on the blueprint and the action.",
    ),
    413: ErrorRule(
        "the request is larger than Port accepts (1 MiB).",
        "Leave large properties out with {port_property_mapping} (description, for example).",
    ),
    429: ErrorRule(
        "Port kept rate limiting the organization.",
        "Too many requests are using this organization's API; try again in a minute.",
    ),
    500: ErrorRule("Port had an internal error, after every retry.", "Try again later."),
}

_PROPERTY_IN_MESSAGE = re.compile(r"""(?:property|field)\s+["'`]?([A-Za-z0-9_@=-]+)""", re.I)


def read_error(response: HttpResponse, path: str) -> Reading:
    """What a Port error answer means: by Port's error string first, then by the status."""
    body = response.body if isinstance(response.body, dict) else {}
    code = body.get("error") if isinstance(body.get("error"), str) else None
    server_message = str(body.get("message") or "").strip()
    status = response.status
    rule: ErrorRule | None = ERROR_RULES.get(code) if code else None
    if rule is None and status == 404:
        rule = _not_found_rule(path, server_message)
    if rule is None:
        rule = ERROR_RULES.get(status) or (ERROR_RULES[500] if status >= 500 else None)
    rule = rule or ErrorRule("Port answered with an error.", "See Port's message above.")
    if code == "blueprint_schema_mismatch":
        found = _PROPERTY_IN_MESSAGE.search(server_message)
        if found:
            prop = found.group(1)
            rule = ErrorRule(
                f"the entity does not match the blueprint (property '{prop}').",
                rule.hint.replace("<property>", prop),
            )
    return Reading(rule, said=server_message, code=code)


#: Port's message for a run it does not hold (``Run with id "r_..." was not found``)
_RUN_NOT_FOUND = re.compile(r"\brun\b[^.]*\bnot found", re.IGNORECASE)


def _not_found_rule(path: str, said: str) -> ErrorRule:
    parts = path.split("/")
    run_missing = _RUN_NOT_FOUND.search(said) is not None
    if path.startswith("/v1/blueprints/") and not run_missing:
        blueprint = parts[3] if len(parts) > 3 else "?"
        return ErrorRule(
            f"the blueprint '{blueprint}' does not exist in this Port organization.",
            "Create it (escalator port-setup, or examples/port/blueprints.json), or set "
            "{port_blueprint} to the incident blueprint you have (the PagerDuty integration "
            "creates pagerdutyIncident).",
        )
    if path.startswith("/v1/auth/"):
        return ErrorRule(
            "Port's token endpoint is not at this address.",
            "Check {port_api_url} (Port's API base URL, such as https://api.port.io, without "
            "/v1) and {port_region}.",
        )
    if path.startswith("/v1/actions/runs/") or run_missing:
        return ErrorRule(
            "the Port action run was not found.",
            'Check {port_context}: template the run as "run_id": "{{.run.id}}", and check '
            "{port_region}.",
        )
    return ErrorRule("Port did not find the requested object.", "Check the identifiers.")
