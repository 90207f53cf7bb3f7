"""Trigger: an alert event on the Events API v2 (trigger, acknowledge or resolve), once per key.

The dedup key defaults to ``port-<Port run id>``, so a re-run of the same Port run (or of the
GitHub job) sends the same key and PagerDuty groups it into the alert it opened; acknowledge and
resolve need the trigger's key. The routing key is the only credential: with a REST token as
well, the incident holding the key is read before (acknowledge and resolve say when PagerDuty
would drop the event) and after (polled, as ingestion is asynchronous), and upserted into Port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from pydantic import SecretStr

from escalator.clients.bodies import EventAction, EventLink, EventPayload
from escalator.clients.models import Incident
from escalator.errors import InputError
from escalator.inputs import CommonInputs
from escalator.inputs.fields import EventActionInput, IncidentKey, Severity
from escalator.operations.base import Change, Field, Positional
from escalator.operations.event_parts import (
    EventInputs,
    check_size,
    custom_details,
    event_source,
    require_events,
    run_key,
    run_links,
    summary_of,
)
from escalator.operations.event_writes import STATUS_AFTER, EventLookup, EventState, SendAlert
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads
from escalator.report.entity import KNOWN_PROPERTIES, SERVICE_RELATION

DEFAULT_SEVERITY: Final = "error"


@dataclass(frozen=True)
class TriggerRequest:
    """The event to send, checked, and what the REST API said of its key before (if asked)."""

    routing_key: SecretStr
    event_action: EventAction
    dedup_key: str
    payload: EventPayload | None
    links: tuple[EventLink, ...]
    lookup: EventLookup | None
    #: the open incident holding the key before sending (read only with a REST token)
    held: Incident | None = None


def plan(request: TriggerRequest) -> TargetPlan[EventState]:
    """One event; the status it asks, said as already held when the REST read showed it."""
    action, held = request.event_action, request.held
    status = STATUS_AFTER[action]
    before = (
        EventState(action, request.dedup_key, incident=held) if request.lookup is not None else None
    )
    # a trigger while its alert is open is grouped into it; acknowledge holds once acknowledged
    already = held is not None and (action == "trigger" or held.status == status)
    change = Change(Field.STATUS, held.status if held else "none", status, not already)
    triggers = action == "trigger"
    write = SendAlert(
        routing_key=request.routing_key,
        event_action=action,
        dedup_key=request.dedup_key,
        payload=request.payload,
        links=request.links,
        # read after: a trigger's open incident, or the one acknowledged or resolved (none is
        # read when no open incident held the key: PagerDuty drops that event)
        lookup=request.lookup if triggers or held is not None else None,
        held=None if triggers else held,
    )
    return TargetPlan(before=before, changes=(change,), writes=(write,))


def _payload(inputs: TriggerInputs) -> EventPayload:
    """A trigger's payload: summary, source, severity and the custom details."""
    payload: EventPayload = {
        "summary": summary_of(inputs),
        "source": event_source(inputs),
        "severity": inputs.severity or DEFAULT_SEVERITY,
    }
    details = custom_details(inputs.details)
    if details is not None:
        payload["custom_details"] = details
    return payload


class TriggerInputs(EventInputs):
    """Trigger's inputs: the event action, its dedup key, title and severity, beside the event's."""

    event_action: EventActionInput | None = None
    dedup_key: IncidentKey | None = None
    title: str | None = None
    severity: Severity | None = None


class Trigger:
    """The trigger operation (a :class:`~escalator.operations.target.TargetOperation`)."""

    name: ClassVar[str] = "trigger"
    noun: ClassVar[str] = "Event"
    doing: ClassVar[str] = "Sending"
    done: ClassVar[str] = "sent"
    target: ClassVar[str] = "event"
    secret_outputs: ClassVar[tuple[str, ...]] = ()
    inputs_model: ClassVar[type[CommonInputs]] = TriggerInputs
    runs_on_service: ClassVar[bool] = True
    needs_rest_token: ClassVar[bool] = False
    description: ClassVar[str] = (
        "Trigger, acknowledge or resolve an alert through PagerDuty's Events API v2, once per "
        "dedup key."
    )
    example: ClassVar[str] = (
        "PAGERDUTY_ROUTING_KEY=a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b escalator trigger --service "
        'PSVCPAY --title "Disk full on db-1" --severity critical --dedup-key db-1-disk'
    )
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ("pagerduty_events_url",)
    kit_action: ClassVar[str] = "trigger-event-action.json"

    def check_inputs(self, inputs: TriggerInputs) -> None:
        require_events(inputs, self.name)
        action = inputs.event_action or "trigger"
        if action == "trigger" and not inputs.title:
            raise InputError(
                "title",
                "is required to trigger: it is the alert's summary.",
                hint="Give {title}, or set {event_action} to acknowledge or resolve.",
            )
        if action != "trigger" and not inputs.dedup_key:
            raise InputError(
                "dedup_key",
                f"is required to {action}: PagerDuty finds the alert by the trigger's key.",
                hint="Give the trigger's {dedup_key} (its run's dedup_key output, such as "
                "port-r_AbC123).",
            )

    def subject(self, inputs: TriggerInputs) -> str:
        service = f" on PagerDuty service {inputs.service_id}" if inputs.service_id else ""
        return f"an alert event{service}"

    def asked(self, inputs: TriggerInputs) -> str:
        action = inputs.event_action or "trigger"
        if action == "trigger":
            return f'trigger "{inputs.title}" ({inputs.severity or DEFAULT_SEVERITY})'
        return f"{action} dedup key {inputs.dedup_key}"

    def gather(self, inputs: TriggerInputs, reads: TargetReads) -> TriggerRequest:
        assert inputs.routing_key is not None  # check_inputs requires it
        action: EventAction = inputs.event_action or "trigger"
        run = inputs.port_run_id
        key = inputs.dedup_key or (f"port-{run}" if run else run_key())
        payload = _payload(inputs) if action == "trigger" else None
        lookup = (
            EventLookup(reads.clients.pagerduty, inputs.service_id)
            if inputs.pagerduty_token is not None
            else None
        )
        held = None
        if lookup is not None:
            found = reads.clients.pagerduty.find_open_incidents(
                incident_key=key, service_id=inputs.service_id
            )
            held = found[0] if found else None
        links = tuple(run_links(inputs, reads.run_url)) if action == "trigger" else ()
        request = TriggerRequest(inputs.routing_key, action, key, payload, links, lookup, held)
        check_size(plan(request).writes[0].body())
        return request

    def plan(self, request: TriggerRequest) -> TargetPlan[EventState]:
        return plan(request)

    def said(self, state: EventState) -> str:
        """'dedup key port-r_1: incident #12 (Q1) triggered'."""
        text = f"dedup key {state.dedup_key}"
        incident = state.incident
        if incident is not None:
            number = f"#{incident.incident_number} " if incident.incident_number else ""
            return f"{text}: incident {number}({incident.id}) {incident.status}"
        if state.lookup_problem:
            return f"{text}; its incident could not be read: {state.lookup_problem}"
        if state.accepted:
            return f"{text}: accepted by PagerDuty"
        return f"{text}: no open incident holds it"

    def done_label(self, plan: TargetPlan[EventState], after: EventState | None) -> str:
        action = plan.changes[0].asked if plan.changes else "sent"
        incident = after.incident if after is not None else None
        if incident is not None and incident.incident_number:
            return f"Alert {action}: incident #{incident.incident_number}"
        return f"Alert event accepted ({action})"

    def outputs(self, state: EventState | None) -> dict[str, str]:
        if state is None:
            return {}
        found = {"dedup_key": state.dedup_key}
        incident = state.incident
        if incident is not None:
            found |= {
                "incident_id": incident.id,
                "incident_number": str(incident.incident_number or ""),
                "incident_status": incident.status,
                "incident_url": incident.html_url or "",
            }
        return found

    def summary_rows(self, state: EventState | None) -> list[tuple[str, str]]:
        if state is None:
            return []
        rows = [("Event action", state.event_action), ("Dedup key", state.dedup_key)]
        incident = state.incident
        if incident is not None:
            number = f"#{incident.incident_number} " if incident.incident_number else ""
            rows.append(("Incident", f"{number}{incident.id}: {incident.status}"))
        elif state.lookup_problem:
            rows.append(("Incident", f"not read: {state.lookup_problem}"))
        return rows

    def port_blueprint(self, inputs: TriggerInputs) -> str | None:
        return inputs.port_blueprint if inputs.pagerduty_token is not None else None

    def entity(self, inputs: TriggerInputs, state: EventState) -> EntityDraft | None:
        """The incident the event acts on, as the incident operations upsert it (never keyed by
        the dedup key); none when it was not read."""
        incident = state.incident
        if incident is None:
            return None
        properties = {name: fill(incident) for name, fill in KNOWN_PROPERTIES.items()}
        service = incident.service.id if incident.service is not None else None
        return EntityDraft(
            blueprint=inputs.port_blueprint,
            identifier=incident.id,
            title=incident.title,
            properties={name: value for name, value in properties.items() if value is not None},
            relations={SERVICE_RELATION: service} if service else {},
        )
