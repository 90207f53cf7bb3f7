"""The JSON bodies of the PagerDuty writes, typed: the write builds one, the client sends it as is.

A write (:mod:`escalator.operations.writes`) builds its body once; the dry run shows that body and
the client sends that body, so what is shown is what is sent.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args


class Reference(TypedDict):
    """A reference to another PagerDuty object: ``{"id": "PPLATFM", "type": "..._reference"}``."""

    id: str
    type: str


class Assignment(TypedDict):
    assignee: Reference


class IncidentFields(TypedDict):
    """The ``incident`` of ``PUT /incidents/{id}``: only the fields that change."""

    type: Literal["incident_reference"]
    escalation_policy: NotRequired[Reference]
    urgency: NotRequired[str]
    escalation_level: NotRequired[int]
    status: NotRequired[str]
    resolution: NotRequired[str]
    assignments: NotRequired[list[Assignment]]
    priority: NotRequired[Reference]


class IncidentUpdate(TypedDict):
    incident: IncidentFields


class NoteContent(TypedDict):
    content: str


class NoteBody(TypedDict):
    """``POST /incidents/{id}/notes``."""

    note: NoteContent


class SnoozeBody(TypedDict):
    """``POST /incidents/{id}/snooze``: seconds."""

    duration: int


class IncidentBody(TypedDict):
    type: Literal["incident_body"]
    details: str


class NewIncident(TypedDict):
    """The ``incident`` of ``POST /incidents``."""

    type: Literal["incident"]
    title: str
    service: Reference
    incident_key: str
    urgency: NotRequired[str]
    body: NotRequired[IncidentBody]
    priority: NotRequired[Reference]
    escalation_policy: NotRequired[Reference]
    assignments: NotRequired[list[Assignment]]


class IncidentCreate(TypedDict):
    incident: NewIncident


class OverrideItem(TypedDict):
    """One override of ``POST /schedules/{id}/overrides``: ISO 8601 times with offsets."""

    start: str
    end: str
    user: Reference
    time_zone: NotRequired[str]


class OverridesCreate(TypedDict):
    """``POST /schedules/{id}/overrides``, the plural body (the singular one is deprecated)."""

    overrides: list[OverrideItem]


class NewService(TypedDict):
    """The ``service`` of ``POST /services``: what was asked, PagerDuty's defaults for the rest."""

    type: Literal["service"]
    name: str
    escalation_policy: Reference
    description: NotRequired[str]


class ServiceCreate(TypedDict):
    service: NewService


class NewIntegration(TypedDict):
    """The ``integration`` of ``POST /services/{id}/integrations``."""

    type: Literal["events_api_v2_inbound_integration"]
    name: str


class IntegrationCreate(TypedDict):
    integration: NewIntegration


class EventLink(TypedDict):
    """A link shown on an Events API v2 event: ``{"href", "text"}``."""

    href: str
    text: str


class EventPayload(TypedDict):
    """The ``payload`` of an alert event (a trigger's only)."""

    summary: str
    source: str
    severity: Literal["critical", "error", "warning", "info"]
    custom_details: NotRequired[dict[str, object]]


#: What an alert event does to the alert of its dedup key.
EventAction = Literal["trigger", "acknowledge", "resolve"]
EVENT_ACTIONS: tuple[EventAction, ...] = get_args(EventAction)


class AlertEvent(TypedDict):
    """``POST /v2/enqueue`` of the Events API v2: trigger, acknowledge or resolve by dedup key."""

    routing_key: str
    event_action: EventAction
    dedup_key: str
    payload: NotRequired[EventPayload]
    links: NotRequired[list[EventLink]]


class ChangePayload(TypedDict):
    """The ``payload`` of a change event."""

    summary: str
    source: str
    timestamp: str
    custom_details: NotRequired[dict[str, object]]


class ChangeEvent(TypedDict):
    """``POST /v2/change/enqueue`` of the Events API v2."""

    routing_key: str
    payload: ChangePayload
    links: NotRequired[list[EventLink]]
