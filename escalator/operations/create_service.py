"""Create-service: a PagerDuty service with an Events API v2 integration, exactly once by name.

The service is looked up by its name first (``query`` matches substrings: only the whole name,
ignoring case as PagerDuty's uniqueness does, counts). Found: nothing is created and its ID is
given; else it is created with the escalation policy asked (PagerDuty's defaults for the rest),
then given an Events API v2 integration unless it has one. The integration's routing key is a
step output, masked before anything is written, and never said anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from escalator.clients.services import find_service
from escalator.inputs import CommonInputs
from escalator.inputs.fields import PagerDutyId, ServiceName
from escalator.operations.base import Change, Field, Positional
from escalator.operations.service_writes import (
    INTEGRATION_NAME,
    AddEventsIntegration,
    CreateService,
    ServiceState,
    check_policy,
    state_of,
)
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads


@dataclass(frozen=True)
class ServiceRequest:
    """What to create, with the lookup done: the service of that name, if there is one."""

    name: str
    escalation_policy_id: str
    description: str | None = None
    found: ServiceState | None = None


def plan(request: ServiceRequest) -> TargetPlan[ServiceState]:
    """A new service and its integration; a found one only its integration when it has none.
    A found service on another escalation policy is refused: it is not the one asked for."""
    found = request.found
    if found is None:
        writes = (
            CreateService(request.name, request.escalation_policy_id, request.description),
            AddEventsIntegration(),
        )
        changes = (
            Change(Field.SERVICE, "none", f'"{request.name}"', True),
            Change(Field.INTEGRATION, "none", INTEGRATION_NAME, True),
        )
        return TargetPlan(before=None, changes=changes, writes=writes)
    service = found.service
    check_policy(service, request.escalation_policy_id)
    shown = f'"{service.label}" ({service.id})'
    held = Change(Field.SERVICE, shown, shown, False)
    if found.integration is not None:
        kept = Change(Field.INTEGRATION, found.integration.id, found.integration.id, False)
        return TargetPlan(before=found, changes=(held, kept), writes=())
    added = Change(Field.INTEGRATION, "none", INTEGRATION_NAME, True)
    return TargetPlan(
        before=found, changes=(held, added), writes=(AddEventsIntegration(service.id),)
    )


class CreateServiceInputs(CommonInputs):
    """Create-service's inputs: the name, the escalation policy, a description."""

    service_name: ServiceName
    escalation_policy_id: PagerDutyId
    description: str | None = None


class CreateServiceOperation:
    """The create-service operation: one lookup by name, then at most two writes."""

    name: ClassVar[str] = "create-service"
    noun: ClassVar[str] = "Service creation"
    doing: ClassVar[str] = "Creating"
    done: ClassVar[str] = "created"
    target: ClassVar[str] = "service"
    secret_outputs: ClassVar[tuple[str, ...]] = ("routing_key",)
    inputs_model: ClassVar[type[CommonInputs]] = CreateServiceInputs
    runs_on_service: ClassVar[bool] = False
    needs_rest_token: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Create a PagerDuty service with an Events API v2 integration, once per name."
    )
    example: ClassVar[str] = (
        'escalator create-service "Payments" -p PPAYMNT --description "Card payments"'
    )
    positional: ClassVar[Positional | None] = Positional(
        "service_name", "NAME", "the service's name (a service of that name is found, not made)"
    )
    cli_extra: ClassVar[tuple[str, ...]] = ("port_service_blueprint",)
    kit_action: ClassVar[str] = "create-service-action.json"

    def check_inputs(self, inputs: CreateServiceInputs) -> None:
        return None

    def subject(self, inputs: CreateServiceInputs) -> str:
        return "a PagerDuty service"

    def asked(self, inputs: CreateServiceInputs) -> str:
        return f'"{inputs.service_name}" on escalation policy {inputs.escalation_policy_id}'

    def gather(self, inputs: CreateServiceInputs, reads: TargetReads) -> ServiceRequest:
        pagerduty = reads.clients.pagerduty
        found = find_service(pagerduty, inputs.service_name)
        return ServiceRequest(
            name=inputs.service_name,
            escalation_policy_id=inputs.escalation_policy_id,
            description=inputs.description,
            found=state_of(pagerduty, found) if found is not None else None,
        )

    def plan(self, request: ServiceRequest) -> TargetPlan[ServiceState]:
        return plan(request)

    def said(self, state: ServiceState) -> str:
        service, integration = state.service, state.integration
        events = (
            f"Events API v2 integration {integration.id}"
            if integration
            else "no Events API v2 integration"
        )
        return (
            f'"{service.label}" ({service.id}), {service.status or "status unknown"}, escalation '
            f"policy {service.policy_id or 'none'}, {events}"
        )

    def done_label(self, plan: TargetPlan[ServiceState], after: ServiceState | None) -> str:
        if plan.before is not None:
            return "Events API v2 integration added"
        return f"Created service {after.service.label}" if after else "Created service"

    def outputs(self, state: ServiceState | None) -> dict[str, str]:
        if state is None:
            return {}
        key = state.integration.integration_key if state.integration else None
        return {
            "service_id": state.service.id,
            "routing_key": key.get_secret_value() if key is not None else "",
        }

    def summary_rows(self, state: ServiceState | None) -> list[tuple[str, str]]:
        if state is None:
            return []
        service, integration = state.service, state.integration
        return [
            ("Service", f"{service.label} ({service.id})"),
            ("Status", service.status or ""),
            ("Escalation policy", service.policy_id),
            ("Events API v2 integration", integration.id if integration else "none"),
            ("Page", service.html_url or ""),
        ]

    def port_blueprint(self, inputs: CreateServiceInputs) -> str | None:
        return inputs.port_service_blueprint

    def entity(self, inputs: CreateServiceInputs, state: ServiceState) -> EntityDraft | None:
        """The service entity: the properties the blueprint has are kept (Ocean's has status
        and url; a guide's also description and created_at)."""
        service = state.service
        properties = {
            "status": service.status,
            "url": service.html_url,
            "description": service.description,
            "created_at": service.created_at,
        }
        present = {name: value for name, value in properties.items() if value is not None}
        return EntityDraft(inputs.port_service_blueprint, service.id, service.label, present)
