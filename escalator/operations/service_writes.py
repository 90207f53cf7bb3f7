"""The writes of create-service, each a typed request that knows how to check itself: the service
(found again by its name after a lost answer or a taken name) and its Events API v2 integration
(never added twice: the service's integrations are read before sending again).

A service another run created meanwhile (found after "Name has already been taken") gets its
integration from that run a moment later: its integrations are read again once, after
:data:`OTHER_RUN_WAIT` seconds, so this run adds none of its own when that run's is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
from escalator.errors import PagerDutyError, Refusal

#: The name the Events API v2 integration is given (PagerDuty's own default name).
INTEGRATION_NAME = "Events API V2"
#: Seconds given to the run that created a service to add its integration, before this run does.
OTHER_RUN_WAIT = 2.0


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


def check_policy(service: Service, asked: str) -> None:
    """Refuse a found service on another escalation policy: it is not the one asked for."""
    if service.policy_id == asked:
        return
    raise Refusal(
        "service_name",
        f'the PagerDuty service "{service.label}" ({service.id}) exists already, on '
        f"escalation policy {service.policy_id or 'none'}, not {asked}; nothing was created.",
        hint="Give another {service_name}, or set {escalation_policy_id} to the service's "
        "policy to reuse it (PagerDuty service names are unique, ignoring case).",
    )


def reread(pagerduty: PagerDutyClient, service_id: str) -> ServiceState:
    """The service as PagerDuty holds it now, with its Events API v2 integration."""
    return state_of(pagerduty, get_service(pagerduty, service_id))


@dataclass(frozen=True)
class CreateService:
    """``POST /services``: never two services; a taken name or a lost answer is looked up."""

    name: str
    escalation_policy_id: str
    description: str | None = None
    #: set when PagerDuty answered that the name is taken: another run created it meanwhile
    _taken: list[bool] = field(default_factory=list, init=False, compare=False, repr=False)

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
        taken = error.status == 400 and name_taken(error.message_template)
        if taken:
            self._taken.append(True)
        return taken

    def send(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState:
        return ServiceState(create_service(clients.pagerduty, self.body()))

    def landed(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState | None:
        pagerduty = clients.pagerduty
        found = find_service(pagerduty, self.name)
        if found is None:
            return None
        check_policy(found, self.escalation_policy_id)  # another run's, on another policy
        state = state_of(pagerduty, found)
        if state.integration is None and self._taken:
            # another run created it a moment ago: give it the time to add its integration
            deadline = pagerduty.transport.deadline
            if deadline.fits(OTHER_RUN_WAIT):
                deadline.clock.sleep(OTHER_RUN_WAIT)
            state = reread(pagerduty, found.id)
        return state


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
        """Add the integration; ``current`` itself, nothing sent, when it has one (the run that
        created the service meanwhile added it)."""
        assert current is not None  # planned on a found service or after its create
        if current.integration is not None:
            return current
        added = add_integration(clients.pagerduty, current.service.id, self.body())
        return replace(current, integration=added)

    def landed(self, clients: WithPagerDuty, current: ServiceState | None) -> ServiceState | None:
        assert current is not None
        latest = reread(clients.pagerduty, current.service.id)
        return replace(current, integration=latest.integration) if latest.integration else None
