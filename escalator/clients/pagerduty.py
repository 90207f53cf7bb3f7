"""A thin typed client for the PagerDuty REST API v2: read an incident, update it.

Statuses and error codes are translated into :class:`PagerDutyError` with a hint that names the
input to change (:data:`ERROR_RULES`). Ids are validated by :mod:`escalator.inputs` and quoted here
again, so no value can change a request's path; an answer about another incident than the one
asked for is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from escalator.clients.answers import ErrorRule, Reading, clip, error_for, validated
from escalator.clients.models import EscalationPolicy, Incident, Note, Priority, User
from escalator.errors import PagerDutyError, UnexpectedResponse
from escalator.http import Deadline, HttpResponse, Policy, Transport, parse_json_body

SERVICE = "PagerDuty"
ACCEPT = "application/vnd.pagerduty+json;version=2"
MISSING_FROM_MESSAGE = 'You must specify a user\'s email address in the "From" header'
_SHAPE_HINT = "PagerDuty's API answered in an unexpected shape; try again later."

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


class PagerDutyClient:
    """Reads and updates incidents. Writes carry ``From`` when one was given."""

    def __init__(self, transport: Transport, *, from_email: str | None = None) -> None:
        self.transport = transport
        self.from_email = from_email

    @classmethod
    def connect(
        cls, base_url: str, token: str, *, from_email: str | None, deadline: Deadline
    ) -> PagerDutyClient:
        """A client with its own pooled session for ``base_url``."""
        transport = Transport(
            SERVICE,
            base_url,
            headers={"Authorization": f"Token token={token}", "Accept": ACCEPT},
            deadline=deadline,
            hint_unreachable="Check {pagerduty_api_url} / {pagerduty_region} and the runner's "
            "network.",
        )
        return cls(transport, from_email=from_email)

    def close(self) -> None:
        self.transport.close()

    def get_incident(
        self, incident_id: str, *, include: tuple[str, ...] = ("assignees",)
    ) -> Incident:
        """``GET /incidents/{id}`` (id or number), with ``include[]`` expansions."""
        path = f"/incidents/{quote(incident_id, safe='')}"
        params = {"include[]": list(include)} if include else None
        response = self.transport.request(Policy.READ, "GET", path, params=params)
        return self._incident(response, "GET", path, incident_id)

    def get_escalation_policy(self, policy_id: str) -> EscalationPolicy:
        """``GET /escalation_policies/{id}``: the policy and its levels."""
        path = f"/escalation_policies/{quote(policy_id, safe='')}"
        response = self.transport.request(Policy.READ, "GET", path)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", path, _read_policy_error)
        return _parse(response, "GET", path, "escalation_policy", EscalationPolicy)

    def update_incident(self, incident_id: str, fields: Mapping[str, Any]) -> Incident:
        """``PUT /incidents/{id}`` with ``{"incident": {"type": "incident_reference", ...fields}}``.

        Raises :class:`escalator.http.OutcomeUnknown` when the request was sent but no answer
        came: the caller reads the incident before deciding to send it again.
        """
        path = f"/incidents/{quote(incident_id, safe='')}"
        body = {"incident": {"type": "incident_reference", **fields}}
        return self._incident(self._write("PUT", path, body), "PUT", path, incident_id)

    def _incident(
        self, response: HttpResponse, method: str, path: str, asked: str | None
    ) -> Incident:
        """The incident of an answer; ``asked``: the ID or number it must be (None: a new one)."""
        if not response.ok:
            raise error_for(PagerDutyError, response, method, path, read_error)
        incident = _parse(response, method, path, "incident", Incident)
        if asked is not None:
            _require_same_incident(incident, asked, f"{method} {path}")
        return incident

    def add_note(self, incident_id: str, content: str) -> None:
        """``POST /incidents/{id}/notes``; raises OutcomeUnknown when no answer came."""
        path = f"/incidents/{quote(incident_id, safe='')}/notes"
        response = self._write("POST", path, {"note": {"content": content}})
        if not response.ok:
            raise error_for(PagerDutyError, response, "POST", path, read_error)

    def list_notes(self, incident_id: str) -> list[Note]:
        """``GET /incidents/{id}/notes``: the incident's notes, oldest first."""
        path = f"/incidents/{quote(incident_id, safe='')}/notes"
        response = self.transport.request(Policy.READ, "GET", path)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", path, read_error)
        return _parse_list(response, "GET", path, "notes", Note)

    def snooze(self, incident_id: str, seconds: int) -> Incident:
        """``POST /incidents/{id}/snooze``: an acknowledged incident returns to triggered later."""
        path = f"/incidents/{quote(incident_id, safe='')}/snooze"
        response = self._write("POST", path, {"duration": seconds})
        return self._incident(response, "POST", path, incident_id)

    def create_incident(self, incident: Mapping[str, Any]) -> Incident:
        """``POST /incidents`` with ``{"incident": {...}}``; refusals read by
        :func:`read_create_error`. Raises OutcomeUnknown when no answer came."""
        response = self._write("POST", "/incidents", {"incident": incident})
        if not response.ok:
            service = incident.get("service")
            service_id = str(service.get("id", "")) if isinstance(service, Mapping) else ""
            read = functools.partial(read_create_error, service_id=service_id)
            raise error_for(PagerDutyError, response, "POST", "/incidents", read)
        return self._incident(response, "POST", "/incidents", None)

    def find_open_incidents(self, *, incident_key: str, service_id: str) -> list[Incident]:
        """Open incidents (triggered or acknowledged) of a service holding ``incident_key``."""
        params: dict[str, str | list[str]] = {
            "incident_key": incident_key,
            "service_ids[]": [service_id],
            "statuses[]": ["triggered", "acknowledged"],
            "date_range": "all",
        }
        response = self.transport.request(Policy.READ, "GET", "/incidents", params=params)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", "/incidents", read_error)
        return _parse_list(response, "GET", "/incidents", "incidents", Incident)

    def find_users(self, query: str, *, max_pages: int = 10) -> list[User]:
        """``GET /users?query=``, every page up to ``max_pages`` (PagerDuty matches substrings)."""
        users: list[User] = []
        for page in range(max_pages):
            params = {"query": query, "limit": str(USERS_PAGE), "offset": str(page * USERS_PAGE)}
            response = self.transport.request(Policy.READ, "GET", "/users", params=params)
            if not response.ok:
                raise error_for(PagerDutyError, response, "GET", "/users", read_error)
            users.extend(_parse_list(response, "GET", "/users", "users", User))
            if not (isinstance(response.body, dict) and response.body.get("more") is True):
                break
        return users

    def list_priorities(self) -> list[Priority] | None:
        """``GET /priorities``, most to least severe; None when the account has none enabled."""
        priorities: list[Priority] = []
        for page in range(10):
            params = {"limit": "100", "offset": str(page * 100)}
            response = self.transport.request(Policy.READ, "GET", "/priorities", params=params)
            if response.status == 402:
                return None
            if not response.ok:
                raise error_for(PagerDutyError, response, "GET", "/priorities", read_error)
            priorities.extend(_parse_list(response, "GET", "/priorities", "priorities", Priority))
            if not (isinstance(response.body, dict) and response.body.get("more") is True):
                break
        return priorities or None

    def _write(self, method: str, path: str, body: Mapping[str, Any]) -> HttpResponse:
        headers = {"Content-Type": "application/json"}
        if self.from_email:
            headers["From"] = self.from_email
        return self.transport.request(Policy.WRITE, method, path, json_body=body, headers=headers)


def _require_same_incident(incident: Incident, asked: str, what: str) -> None:
    """Refuse an answer about another incident than ``asked`` (an ID, or a number)."""
    if asked.isdigit():
        same = incident.incident_number is not None and incident.incident_number == int(asked)
    else:
        same = incident.id == asked
    if not same:
        raise UnexpectedResponse(
            SERVICE,
            f"{what}: the answer is about incident {clip(incident.id, 40)}, not the one asked "
            f"for ({asked}); nothing more was done with it.",
            hint="Check {pagerduty_api_url}: it must be PagerDuty's API, with nothing between "
            "that rewrites its answers.",
        )


USERS_PAGE = 25
ModelT = TypeVar("ModelT", bound=BaseModel)


def _parse_list(
    response: HttpResponse, method: str, path: str, key: str, model: type[ModelT]
) -> list[ModelT]:
    """The list under ``key`` of a successful answer, each item validated as ``model``."""
    what = f"{method} {path}"
    document = parse_json_body(response, SERVICE, what, hint=_SHAPE_HINT)
    items = document.get(key)
    if not isinstance(items, list):
        raise UnexpectedResponse(
            SERVICE, f"{what}: the answer has no '{key}' list.", hint=_SHAPE_HINT
        )
    return [validated(model, item, service=SERVICE, what=what, hint=_SHAPE_HINT) for item in items]


def _parse(response: HttpResponse, method: str, path: str, key: str, model: type[ModelT]) -> ModelT:
    """The object under ``key`` of a successful answer, validated as ``model``."""
    what = f"{method} {path}"
    document = parse_json_body(response, SERVICE, what, hint=_SHAPE_HINT)
    if key not in document:
        raise UnexpectedResponse(
            SERVICE, f"{what}: the answer has no {key.replace('_', ' ')}.", hint=_SHAPE_HINT
        )
    return validated(model, document[key], service=SERVICE, what=what, hint=_SHAPE_HINT)


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
    words = "; ".join(part for part in (server_message, details) if part)
    return Reading(rule, said=words, code=code)


def read_create_error(response: HttpResponse, path: str, *, service_id: str) -> Reading:
    """What PagerDuty's refusal of ``POST /incidents`` means: the service unknown or disabled,
    the creation rate limit, priorities not enabled; else as :func:`read_error`."""
    reading = read_error(response, path)
    said = reading.said.lower()
    rule: ErrorRule | None = None
    if response.status == 429:
        rule = _creation_rate_limited(response.headers)
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
    if rule is None:
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


def _read_policy_error(response: HttpResponse, path: str) -> Reading:
    """As :func:`read_error`, except that a 404 means the escalation policy does not exist."""
    reading = read_error(response, path)
    if response.status != 404:
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
