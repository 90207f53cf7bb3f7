"""A thin typed client for the PagerDuty REST API v2: read an incident, update it.

Statuses and error codes are translated into :class:`PagerDutyError` with a hint that names the
input to change (:mod:`escalator.clients.pagerduty_errors`). Ids are validated by
:mod:`escalator.inputs` and quoted here again, so no value can change a request's path; an answer
about another incident than the one asked for is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from escalator.clients.answers import clip, error_for, validated
from escalator.clients.bodies import IncidentCreate, IncidentUpdate, NoteBody, SnoozeBody
from escalator.clients.models import EscalationPolicy, Incident, Note, Priority, User
from escalator.clients.pagerduty_errors import (
    read_create_error,
    read_error,
    read_policy_error,
)
from escalator.errors import PagerDutyError, UnexpectedResponse
from escalator.http import Deadline, HttpResponse, Policy, Transport, parse_json_body

SERVICE = "PagerDuty"
ACCEPT = "application/vnd.pagerduty+json;version=2"
_SHAPE_HINT = "PagerDuty's API answered in an unexpected shape; try again later."


class PagerDutyClient:
    """Reads and updates incidents. Writes carry ``From`` when one was given."""

    def __init__(self, transport: Transport, *, from_email: str | None = None) -> None:
        self.transport = transport
        self.from_email = from_email

    @classmethod
    def connect(
        cls,
        base_url: str,
        token: str,
        *,
        from_email: str | None,
        deadline: Deadline,
        environ: Mapping[str, str] | None = None,
    ) -> PagerDutyClient:
        """A client with its own pooled session for ``base_url``; ``environ``: the network
        variables the face read (proxies, CA bundle). An empty ``token`` sends no credential
        (an operation that does not use the REST API)."""
        transport = Transport(
            SERVICE,
            base_url,
            headers={"Accept": ACCEPT}
            | ({"Authorization": f"Token token={token}"} if token else {}),
            deadline=deadline,
            hint_unreachable="Check {pagerduty_api_url} / {pagerduty_region} and {machine}'s "
            "network.",
            environ=environ,
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
            raise error_for(PagerDutyError, response, "GET", path, read_policy_error)
        return _parse(response, "GET", path, "escalation_policy", EscalationPolicy)

    def update_incident(self, incident_id: str, body: IncidentUpdate) -> Incident:
        """``PUT /incidents/{id}`` with ``body``, as given.

        Raises :class:`escalator.http.OutcomeUnknown` when the request was sent but no answer
        came: the caller reads the incident before deciding to send it again.
        """
        path = f"/incidents/{quote(incident_id, safe='')}"
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

    def add_note(self, incident_id: str, body: NoteBody) -> None:
        """``POST /incidents/{id}/notes`` with ``body``; raises OutcomeUnknown when no answer
        came."""
        path = f"/incidents/{quote(incident_id, safe='')}/notes"
        response = self._write("POST", path, body)
        if not response.ok:
            raise error_for(PagerDutyError, response, "POST", path, read_error)

    def list_notes(self, incident_id: str) -> list[Note]:
        """``GET /incidents/{id}/notes``: the incident's notes, oldest first."""
        path = f"/incidents/{quote(incident_id, safe='')}/notes"
        response = self.transport.request(Policy.READ, "GET", path)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", path, read_error)
        return _parse_list(response, "GET", path, "notes", Note)

    def snooze(self, incident_id: str, body: SnoozeBody) -> Incident:
        """``POST /incidents/{id}/snooze``: an acknowledged incident returns to triggered later."""
        path = f"/incidents/{quote(incident_id, safe='')}/snooze"
        response = self._write("POST", path, body)
        return self._incident(response, "POST", path, incident_id)

    def create_incident(self, body: IncidentCreate) -> Incident:
        """``POST /incidents`` with ``body``; refusals read by :func:`read_create_error`.
        Raises OutcomeUnknown when no answer came."""
        response = self._write("POST", "/incidents", body)
        if not response.ok:
            service_id = body["incident"]["service"]["id"]
            read = functools.partial(read_create_error, service_id=service_id)
            raise error_for(PagerDutyError, response, "POST", "/incidents", read)
        return self._incident(response, "POST", "/incidents", None)

    def find_open_incidents(self, *, incident_key: str, service_id: str | None) -> list[Incident]:
        """Open incidents (triggered or acknowledged) of a service (None: of any) holding
        ``incident_key``, exactly: an answer's incident of another service or key is left out."""
        params: dict[str, str | list[str]] = {
            "incident_key": incident_key,
            "statuses[]": ["triggered", "acknowledged"],
            "date_range": "all",
        }
        if service_id is not None:
            params["service_ids[]"] = [service_id]
        response = self.transport.request(Policy.READ, "GET", "/incidents", params=params)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", "/incidents", read_error)
        listed = _parse_list(response, "GET", "/incidents", "incidents", Incident)
        # only an incident of this very service holding this very key: the filters are asked,
        # not trusted (a service that ignores one would hand over another's incident)
        return [
            incident
            for incident in listed
            if incident.incident_key == incident_key
            and (service_id is None or (incident.service and incident.service.id == service_id))
            and incident.status in ("triggered", "acknowledged")
        ]

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

    def _write(
        self, method: str, path: str, body: IncidentUpdate | NoteBody | SnoozeBody | IncidentCreate
    ) -> HttpResponse:
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
