"""PagerDuty services and their Events API v2 integrations: the typed answers and the requests
that find a service by name, create one, and give it an integration.

An integration's ``integration_key`` (the routing key events are sent with) is a secret: it is
held as ``SecretStr`` from the moment the answer is read, so no repr, log or error shows it.
"""

from __future__ import annotations

import functools
from typing import Any, Final, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, SecretStr

from escalator.clients.answers import error_for, validated
from escalator.clients.bodies import IntegrationCreate, ServiceCreate
from escalator.clients.models import Reference
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.services_errors import read_integration_error, read_service_error
from escalator.errors import PagerDutyError, UnexpectedResponse
from escalator.http import HttpResponse, Policy, parse_json_body

EVENTS_V2: Final = "events_api_v2_inbound_integration"
#: Services asked per page of the name lookup, and the most pages read.
PAGE = 100
MAX_PAGES = 10
_SERVICE = "PagerDuty"
_SHAPE_HINT = "PagerDuty's API answered in an unexpected shape; try again later."
_JSON = {"Content-Type": "application/json"}

ModelT = TypeVar("ModelT", bound=BaseModel)


class Integration(BaseModel):
    """A service's integration; ``integration_key`` is set for an Events API v2 integration
    (PagerDuty leaves it out of some answers: it is then read on its own)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str = ""
    name: str | None = None
    summary: str | None = None
    integration_key: SecretStr | None = None

    @property
    def events_v2(self) -> bool:
        """Whether it takes Events API v2 events (a reference's type ends in ``_reference``)."""
        return self.type.removesuffix("_reference") == EVENTS_V2


class Service(BaseModel):
    """A PagerDuty service, with only the fields the action uses."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    summary: str | None = None
    description: str | None = None
    status: str | None = None
    html_url: str | None = None
    created_at: str | None = None
    escalation_policy: Reference | None = None
    integrations: list[Integration] = []

    @property
    def label(self) -> str:
        return self.name or self.summary or self.id

    @property
    def policy_id(self) -> str:
        return self.escalation_policy.id if self.escalation_policy else ""

    def events_integration(self) -> Integration | None:
        """Its first Events API v2 integration (the oldest PagerDuty lists), if any."""
        return next((i for i in self.integrations if i.events_v2), None)


def same_name(a: str, b: str) -> bool:
    """Whether two service names are the same to PagerDuty (whose uniqueness ignores case)."""
    return a.casefold() == b.casefold()


def find_service(pagerduty: PagerDutyClient, name: str) -> Service | None:
    """The service named ``name`` (ignoring case), with its integrations in full, or None.

    ``GET /services?query=`` matches substrings ("Payments" lists "Payments API"): only an exact
    name counts, and every page is read (up to :data:`MAX_PAGES`) until it is found.
    """
    for number in range(MAX_PAGES):
        params: dict[str, str | list[str]] = {
            "query": name,
            "include[]": ["integrations"],
            "limit": str(PAGE),
            "offset": str(number * PAGE),
        }
        response = pagerduty.transport.request(Policy.READ, "GET", "/services", params=params)
        if not response.ok:
            raise error_for(PagerDutyError, response, "GET", "/services", read_service_error)
        document = _document(response, "GET /services")
        for item in _items(document, "services", "GET /services"):
            service = _valid(Service, item, "GET /services")
            if same_name(service.name, name):
                return service
        if document.get("more") is not True:
            break
    return None


def get_service(pagerduty: PagerDutyClient, service_id: str) -> Service:
    """``GET /services/{id}?include[]=integrations``: the service, its integrations in full."""
    path = f"/services/{quote(service_id, safe='')}"
    params: dict[str, str | list[str]] = {"include[]": ["integrations"]}
    response = pagerduty.transport.request(Policy.READ, "GET", path, params=params)
    if not response.ok:
        raise _integration_failure(response, "GET", path, service_id)
    return _valid(Service, _key(response, "service", f"GET {path}"), path)


def create_service(pagerduty: PagerDutyClient, body: ServiceCreate) -> Service:
    """``POST /services`` with ``body``, as given; raises OutcomeUnknown when no answer came."""
    response = pagerduty.transport.request(
        Policy.WRITE, "POST", "/services", json_body=body, headers=_JSON
    )
    if not response.ok:
        raise error_for(PagerDutyError, response, "POST", "/services", read_service_error)
    return _valid(Service, _key(response, "service", "POST /services"), "POST /services")


def add_integration(
    pagerduty: PagerDutyClient, service_id: str, body: IntegrationCreate
) -> Integration:
    """``POST /services/{id}/integrations`` with ``body``; the integration with its key (read
    on its own when the answer leaves it out). Raises OutcomeUnknown when no answer came."""
    path = f"/services/{quote(service_id, safe='')}/integrations"
    response = pagerduty.transport.request(
        Policy.WRITE, "POST", path, json_body=body, headers=_JSON
    )
    if not response.ok:
        raise _integration_failure(response, "POST", path, service_id)
    integration = _valid(Integration, _key(response, "integration", f"POST {path}"), path)
    if integration.integration_key is None:
        return get_integration(pagerduty, service_id, integration.id)
    return integration


def get_integration(
    pagerduty: PagerDutyClient, service_id: str, integration_id: str
) -> Integration:
    """``GET /services/{id}/integrations/{integration_id}``: the integration with its key."""
    path = f"/services/{quote(service_id, safe='')}/integrations/{quote(integration_id, safe='')}"
    response = pagerduty.transport.request(Policy.READ, "GET", path)
    if not response.ok:
        raise _integration_failure(response, "GET", path, service_id)
    integration = _valid(Integration, _key(response, "integration", f"GET {path}"), path)
    if integration.integration_key is None:
        raise UnexpectedResponse(
            _SERVICE, f"GET {path}: the integration has no integration_key.", hint=_SHAPE_HINT
        )
    return integration


def _integration_failure(
    response: HttpResponse, method: str, path: str, service_id: str
) -> PagerDutyError:
    """A refusal on a service's route, told as the integration routes read it."""
    read = functools.partial(read_integration_error, service_id=service_id)
    return error_for(PagerDutyError, response, method, path, read)


def _document(response: HttpResponse, what: str) -> dict[str, Any]:
    return parse_json_body(response, _SERVICE, what, hint=_SHAPE_HINT)


def _items(document: dict[str, Any], key: str, what: str) -> list[Any]:
    items = document.get(key)
    if not isinstance(items, list):
        raise UnexpectedResponse(
            _SERVICE, f"{what}: the answer has no '{key}' list.", hint=_SHAPE_HINT
        )
    return items


def _key(response: HttpResponse, key: str, what: str) -> Any:
    document = _document(response, what)
    if key not in document:
        raise UnexpectedResponse(_SERVICE, f"{what}: the answer has no {key}.", hint=_SHAPE_HINT)
    return document[key]


def _valid(model: type[ModelT], data: Any, what: str) -> ModelT:
    return validated(model, data, service=_SERVICE, what=what, hint=_SHAPE_HINT)
