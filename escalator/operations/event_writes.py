"""The two Events API v2 writes, each a typed request that knows how it may be repeated, and the
state an event leaves: PagerDuty's answer and, read through the REST API when a token is given,
the incident the event acts on.

An alert event carries its dedup key, so a lost answer is sent again with the same key and
PagerDuty groups it. A change event has no key: once it may have been posted, it is never sent
again. The Events API is asynchronous: the incident an event opens or changes is read a few times
with a growing wait, within the run's deadline, before the run says it is not there yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pydantic import SecretStr

from escalator.clients.bodies import (
    EVENT_ACTIONS,
    AlertEvent,
    ChangeEvent,
    ChangePayload,
    EventAction,
    EventLink,
    EventPayload,
)
from escalator.clients.events import ALERT_PATH, CHANGE_PATH, EventsClient
from escalator.clients.models import Incident
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import EscalatorError, OutcomeUnknown, PagerDutyError, ServiceUnavailable
from escalator.operations.target import Clients

#: The waits between reads of an event's incident (PagerDuty ingests events asynchronously).
POLL_WAITS = (0.5, 1.0, 2.0, 4.0)
#: The status an event action leaves its incident in.
STATUS_AFTER: dict[str, str] = dict(
    zip(EVENT_ACTIONS, ("triggered", "acknowledged", "resolved"), strict=True)
)


@dataclass(frozen=True)
class EventState:
    """What an event did, as far as PagerDuty says: its answer, and the incident when read."""

    event_action: str
    #: the dedup key PagerDuty answered with ('' for a change event, or before any answer)
    dedup_key: str = ""
    #: PagerDuty answered 202
    accepted: bool = False
    #: the incident the event acts on, read through the REST API (None: not read, or none found)
    incident: Incident | None = None
    #: why the incident could not be read ('' when it was, or was not asked for)
    lookup_problem: str = ""


def poll(
    read: Callable[[], Incident | None],
    *,
    remaining: Callable[[], float],
    sleep: Callable[[float], None],
) -> Incident | None:
    """``read`` until it finds the incident, waiting :data:`POLL_WAITS` between reads while the
    deadline leaves time for another read after the wait."""
    found = read()
    for wait in POLL_WAITS:
        if found is not None or remaining() < wait + 2.0:
            break
        sleep(wait)
        found = read()
    return found


@dataclass(frozen=True)
class EventLookup:
    """How the incident of an event is read back through the REST API (a token was given)."""

    pagerduty: PagerDutyClient
    service_id: str | None

    def incident(self, state: EventState, held: Incident | None) -> EventState:
        """``state`` with the incident the event acts on: polled until it shows the event (a
        trigger's open incident; the acknowledged or resolved one), or as last read."""
        deadline = self.pagerduty.transport.deadline
        status = STATUS_AFTER[state.event_action]
        last: list[Incident] = []

        def read() -> Incident | None:
            latest: Incident | None
            if held is not None:
                latest = self.pagerduty.get_incident(held.id, include=())
            else:
                found = self.pagerduty.find_open_incidents(
                    incident_key=state.dedup_key, service_id=self.service_id
                )
                latest = found[0] if found else None
            if latest is not None:
                last[:] = [latest]
            shows = latest is not None and (
                latest.status == status or (status == "triggered" and held is None)
            )
            return latest if shows else None

        try:
            found = poll(read, remaining=deadline.remaining, sleep=deadline.clock.sleep)
        except EscalatorError as exc:
            return replace(state, lookup_problem=exc.message_template)
        return replace(state, incident=found or (last[0] if last else None))


@dataclass(frozen=True)
class SendAlert:
    """``POST /v2/enqueue``: a trigger, acknowledge or resolve; repeated with the same dedup key
    after a lost answer (PagerDuty groups it)."""

    routing_key: SecretStr
    event_action: EventAction
    dedup_key: str
    payload: EventPayload | None = None
    links: tuple[EventLink, ...] = ()
    #: the REST read of the incident, when a token was given
    lookup: EventLookup | None = None
    #: the open incident holding the key, read before sending (acknowledge, resolve)
    held: Incident | None = None

    @property
    def request_line(self) -> str:
        return f"POST {ALERT_PATH} ({self.event_action} {self.dedup_key})"

    def body(self) -> AlertEvent:
        body: AlertEvent = {
            "routing_key": self.routing_key.get_secret_value(),
            "event_action": self.event_action,
            "dedup_key": self.dedup_key,
        }
        if self.payload is not None:
            body["payload"] = self.payload
        if self.links:
            body["links"] = list(self.links)
        return body

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, clients: Clients, current: EventState | None) -> EventState:
        answer = _events(clients).send_alert(self.body())
        state = EventState(self.event_action, answer.dedup_key or self.dedup_key, accepted=True)
        return self.lookup.incident(state, self.held) if self.lookup is not None else state

    def landed(self, clients: Clients, current: EventState | None) -> EventState | None:
        """Not readable without its answer: sent again, with the same dedup key."""
        return None


@dataclass(frozen=True)
class SendChange:
    """``POST /v2/change/enqueue``: never sent twice (a change event has no dedup key)."""

    routing_key: SecretStr
    payload: ChangePayload
    links: tuple[EventLink, ...] = ()

    @property
    def request_line(self) -> str:
        return f"POST {CHANGE_PATH}"

    def body(self) -> ChangeEvent:
        body: ChangeEvent = {
            "routing_key": self.routing_key.get_secret_value(),
            "payload": self.payload,
        }
        if self.links:
            body["links"] = list(self.links)
        return body

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def send(self, clients: Clients, current: EventState | None) -> EventState:
        try:
            _events(clients).send_change(self.body())
        except OutcomeUnknown as exc:
            # not an ambiguity to settle by sending again: a change event cannot be read back
            raise ServiceUnavailable(
                "PagerDuty Events API",
                f"{exc.message_template.removeprefix('PagerDuty Events API: ')} It is not sent "
                "again: a change event has no key, so a second one would be shown twice.",
                hint="Look at the service's change events in PagerDuty before running it again.",
            ) from exc
        return EventState("change", accepted=True)

    def landed(self, clients: Clients, current: EventState | None) -> EventState | None:
        return None


def _events(clients: Clients) -> EventsClient:
    assert clients.events is not None  # built for every run given a routing key
    return clients.events
