"""The writes of create-service, each a typed request that knows how to check itself: the service
(found again by its name after a lost answer or a taken name) and its Events API v2 integration
(never added twice: the service's integrations are read before sending again).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import quote

from escalator.clients.bodies import IntegrationCreate, NewService, ServiceCreate
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.services import (
    EVENTS_V2,
    Integration,
    Service,
    add_integration,
    create_service,
    find_service,
    get_integration,
    get_service,
)
from escalator.clients.services_errors import name_taken
from escalator.errors import PagerDutyError

#: The name the Events API v2 integration is given (PagerDuty's own default name).
INTEGRATION_NAME = "Events API V2"


class WithPagerDuty(Protocol):
    """What these writes send through: the PagerDuty client."""

    @property
    def pagerduty(self) -> PagerDutyClient: ...


@dataclass(frozen=True)
class ServiceState:
    """A service as PagerDuty holds it, and the Events API v2 integration whose key is given."""

    service: Service
    integration: Integration | None = None


def state_of(pagerduty: PagerDutyClient, service: Service) -> ServiceState:
    """``service`` with its Events API v2 integration, the key read when the listing lacks it."""
    integration = service.events_integration()
    if integration is not None and integration.integration_key is None:
        integration = get_integration(pagerduty, service.id, integration.id)
    return ServiceState(service, integration)


@dataclass(frozen=True)
class CreateService:
    """``POST /services``: never two services; a taken name or a lost answer is looked up."""

    name: str
    escalation_policy_id: str
    description: str | None = None

    @property
    def request_line(self) -> str:
        return "POST /services"

    def body(self) -> ServiceCreate:
        service: NewService = {
            "type": "service",
            "name": self.name,
            "escalation_policy": {
                "id": self.escalation_policy_id,
                "type": "escalation_policy_reference",
            },
        }
        if self.description:
            service["description"] = self.description
        return {"service": service}

    def rechecks(self, error: PagerDutyError) -> bool:
        """'Name has already been taken': another run may have just created it (look it up)."""
        return error.status == 400 and name_taken(error.message)

    def send(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState:
        return ServiceState(create_service(clients.pagerduty, self.body()))

    def landed(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState | None:
        found = find_service(clients.pagerduty, self.name)
        return state_of(clients.pagerduty, found) if found is not None else None


@dataclass(frozen=True)
class AddEventsIntegration:
    """``POST /services/{id}/integrations``: an Events API v2 integration, unless the service
    has one (a service another run created may have it already); after a lost answer the
    service's integrations are read before sending again.

    ``service_id`` None means the service the previous write made.
    """

    service_id: str | None = None
    name: str = INTEGRATION_NAME

    @property
    def request_line(self) -> str:
        target = quote(self.service_id, safe="") if self.service_id else "{new service}"
        return f"POST /services/{target}/integrations"

    def body(self) -> IntegrationCreate:
        return {"integration": {"type": EVENTS_V2, "name": self.name}}

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState:
        assert current is not None  # planned on a found service or after its create
        if current.integration is not None:
            return current
        added = add_integration(clients.pagerduty, current.service.id, self.body())
        return replace(current, integration=added)

    def landed(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState | None:
        assert current is not None
        latest = state_of(clients.pagerduty, get_service(clients.pagerduty, current.service.id))
        return latest if latest.integration is not None else None
