"""Create: a new incident on a service, exactly once per incident key.

Before creating, the open incidents of the service holding the key are looked up: a re-run of the
same Port run (or of the GitHub job) finds the incident instead of creating a second. A lost answer
to the create is checked by the same lookup before anything is sent again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import ClassVar, Literal

from escalator.clients.models import Incident, Priority, User
from escalator.errors import InputError
from escalator.inputs import DEFAULT_BLUEPRINT, CommonInputs
from escalator.inputs.fields import Assignees, IncidentKey, Line, PagerDutyId, Urgency
from escalator.markdown import md, md_code
from escalator.operations.base import Change, Field, Gather, Plan, Positional, shown
from escalator.operations.lookups import resolve_priority, resolve_users
from escalator.operations.writes import CreateIncident


@dataclass(frozen=True)
class CreateRequest:
    """What to create, with the lookups done: priority and assignee resolved, the key checked."""

    title: str
    service_id: str
    incident_key: str
    urgency: Literal["high", "low"] | None = None
    details: str | None = None
    priority: Priority | None = None
    escalation_policy_id: str | None = None
    assignees: tuple[User, ...] = ()
    #: an open incident of the service already holding the key
    found: Incident | None = None


def plan(incident: Incident | None, request: CreateRequest) -> Plan:
    """Nothing when an open incident holds the key; else one create."""
    if request.found is not None:
        change = Change(Field.INCIDENT, shown(Field.INCIDENT, request.found), "", False)
        return Plan(changes=(change,), writes=(), found=request.found)
    if len(request.assignees) > 1:
        raise InputError(
            "assignees",
            "PagerDuty creates an incident with one assignee at most.",
            hint="Give one user in {assignees}, and reassign the incident afterwards.",
        )
    write = CreateIncident(
        title=request.title,
        service_id=request.service_id,
        incident_key=request.incident_key,
        urgency=request.urgency,
        details=request.details,
        priority_id=request.priority.id if request.priority else None,
        escalation_policy_id=request.escalation_policy_id,
        assignee_ids=tuple(user.id for user in request.assignees),
    )
    change = Change(Field.INCIDENT, "none", request.title, True)
    return Plan(changes=(change,), writes=(write,))


def run_key() -> str:
    """A key for a create given none (no ``incident_key``, no Port run): unique to this run, so
    a lost answer is still checked by the lookup; a later run creates a new incident."""
    return f"escalator-{uuid.uuid4().hex}"


class CreateInputs(CommonInputs):
    """Create's inputs: the title and the service, and what the new incident may carry."""

    title: str
    service_id: PagerDutyId
    details: str | None = None
    incident_key: IncidentKey | None = None
    urgency: Urgency | None = None
    escalation_policy_id: PagerDutyId | None = None
    priority: Line | None = None
    assignees: Assignees = ()
    note: str | None = None


class Create:
    """The create operation: the key lookup, priorities and users are read together."""

    name: ClassVar[str] = "create"
    noun: ClassVar[str] = "Creation"
    doing: ClassVar[str] = "Creating"
    done: ClassVar[str] = "created"
    reads_incident: ClassVar[bool] = False
    inputs_model: ClassVar[type[CommonInputs]] = CreateInputs
    runs_on_service: ClassVar[bool] = True
    needs_rest_token: ClassVar[bool] = True
    description: ClassVar[str] = "Create an incident on a service, once per incident key."
    example: ClassVar[str] = (
        'escalator create --service PSVCPAY --title "Card payments failing" -u high '
        "--from alice@example.com"
    )
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ("port_service_blueprint",)
    kit_action: ClassVar[str] = "create-incident-action.json"

    def check_inputs(self, inputs: CreateInputs) -> None:
        if inputs.assignees and inputs.escalation_policy_id:
            raise InputError(
                "assignees",
                "cannot be given with {escalation_policy_id}: PagerDuty refuses the combination.",
                hint="Give {assignees} or {escalation_policy_id}, not both.",
            )
        if inputs.port_blueprint == inputs.port_service_blueprint:
            raise InputError(
                "port_blueprint",
                f"{inputs.port_blueprint} is the service blueprint; the new incident's entity "
                "needs the incident blueprint.",
                hint=f"Leave {{port_blueprint}} empty (it defaults to {DEFAULT_BLUEPRINT}) or "
                "name the incident blueprint.",
            )

    def subject(self, inputs: CreateInputs) -> str:
        return "a PagerDuty incident"

    def asked(self, inputs: CreateInputs) -> str:
        return f'"{inputs.title}" on service {inputs.service_id}'

    def incident_to_read(self, inputs: CreateInputs) -> str | None:
        return None

    def note_after(self, inputs: CreateInputs) -> str | None:
        return inputs.note

    def done_label(self, plan: Plan, after: Incident) -> str:
        number = f"#{after.incident_number}" if after.incident_number else after.id
        return f"Created incident {number}"

    def summary_line(
        self, inputs: CreateInputs, incident: Incident | None, redact: Callable[[str], str]
    ) -> str:
        """Its service and incident key: 'Service payments-api (`PSVCPAY`) · key `k`'."""
        service = incident.service if incident is not None else None
        service_id = service.id if service is not None else inputs.service_id
        name = f"{md(redact(service.summary))} " if service is not None and service.summary else ""
        key = (incident.as_json().get("incident_key") if incident else None) or (
            inputs.incident_key
        )
        line = f"Service {name}({md_code(redact(service_id))})"
        return line + (f" · incident key {md_code(redact(str(key)))}" if key else "")

    def gather(
        self, inputs: CreateInputs, reads: Gather, incident: Future[Incident] | None
    ) -> CreateRequest:
        pagerduty = reads.pagerduty
        key = inputs.incident_key or run_key()
        found = (
            reads.submit(
                pagerduty.find_open_incidents, incident_key=key, service_id=inputs.service_id
            )
            if inputs.incident_key
            else None  # a key made for this run: no incident can hold it yet
        )
        priority = (
            reads.submit(resolve_priority, pagerduty, inputs.priority) if inputs.priority else None
        )
        users = (
            reads.submit(resolve_users, pagerduty, inputs.assignees) if inputs.assignees else None
        )
        existing = found.result() if found is not None else []
        return CreateRequest(
            title=inputs.title,
            service_id=inputs.service_id,
            incident_key=key,
            urgency=inputs.urgency,
            details=inputs.details,
            priority=priority.result() if priority else None,
            escalation_policy_id=inputs.escalation_policy_id,
            assignees=users.result() if users else (),
            found=existing[0] if existing else None,
        )

    def plan(self, incident: Incident | None, request: CreateRequest) -> Plan:
        return plan(incident, request)
