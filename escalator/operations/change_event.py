"""Change event: a deploy or configuration change posted on a service through the Events API v2.

It pages no one; PagerDuty shows it beside the service's incidents for 90 days, linked to the
Port run and the GitHub run that made it. It has no dedup key: a lost answer is never sent again
(:class:`~escalator.operations.event_writes.SendChange`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import SecretStr

from escalator.clients.bodies import ChangePayload, EventLink
from escalator.inputs import CommonInputs
from escalator.operations.base import Change, Field, Positional
from escalator.operations.event_parts import (
    EventInputs,
    check_size,
    custom_details,
    event_source,
    require_events,
    run_links,
    summary_of,
)
from escalator.operations.event_writes import EventState, SendChange
from escalator.operations.target import EntityDraft, TargetPlan, TargetReads


@dataclass(frozen=True)
class ChangeRequest:
    """The change event to send, checked."""

    routing_key: SecretStr
    payload: ChangePayload
    links: tuple[EventLink, ...]


def plan(request: ChangeRequest) -> TargetPlan[EventState]:
    """One change event, always sent (nothing can be read back to say it is there)."""
    change = Change(Field.EVENT, "", f'"{request.payload["summary"]}"', True)
    write = SendChange(request.routing_key, request.payload, request.links)
    return TargetPlan(before=None, changes=(change,), writes=(write,))


def timestamp(seconds: float) -> str:
    """``seconds`` since the epoch as the event's ISO 8601 UTC time."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


class ChangeEventInputs(EventInputs):
    """Change-event's inputs: the change's title, and where it comes from."""

    title: str


class ChangeEventOperation:
    """The change-event operation (a :class:`~escalator.operations.target.TargetOperation`)."""

    name: ClassVar[str] = "change-event"
    noun: ClassVar[str] = "Change event"
    doing: ClassVar[str] = "Sending"
    done: ClassVar[str] = "sent"
    target: ClassVar[str] = "change event"
    secret_outputs: ClassVar[tuple[str, ...]] = ()
    inputs_model: ClassVar[type[CommonInputs]] = ChangeEventInputs
    runs_on_service: ClassVar[bool] = True
    needs_rest_token: ClassVar[bool] = False
    description: ClassVar[str] = (
        "Post a change event (a deploy) on a service through PagerDuty's Events API v2."
    )
    example: ClassVar[str] = (
        "PAGERDUTY_ROUTING_KEY=a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b escalator change-event --service "
        'PSVCPAY --title "Deployed payments-api 2.4.1" --details \'{"version": "2.4.1"}\''
    )
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ("pagerduty_events_url",)
    kit_action: ClassVar[str] = "change-event-action.json"

    def check_inputs(self, inputs: ChangeEventInputs) -> None:
        require_events(inputs, self.name)

    def subject(self, inputs: ChangeEventInputs) -> str:
        service = f" on PagerDuty service {inputs.service_id}" if inputs.service_id else ""
        return f"a change event{service}"

    def asked(self, inputs: ChangeEventInputs) -> str:
        return f'"{inputs.title}"'

    def gather(self, inputs: ChangeEventInputs, reads: TargetReads) -> ChangeRequest:
        assert inputs.routing_key is not None  # check_inputs requires it
        clock = reads.clients.pagerduty.transport.deadline.clock
        payload: ChangePayload = {
            "summary": summary_of(inputs),
            "source": event_source(inputs),
            "timestamp": timestamp(clock.time()),
        }
        details = custom_details(inputs.details)
        if details is not None:
            payload["custom_details"] = details
        request = ChangeRequest(
            inputs.routing_key, payload, tuple(run_links(inputs, reads.run_url))
        )
        check_size(plan(request).writes[0].body())
        return request

    def plan(self, request: ChangeRequest) -> TargetPlan[EventState]:
        return plan(request)

    def said(self, state: EventState) -> str:
        return "accepted by PagerDuty" if state.accepted else "not sent"

    def done_label(self, plan: TargetPlan[EventState], after: EventState | None) -> str:
        return "Change event sent"

    def outputs(self, state: EventState | None) -> dict[str, str]:
        return {}

    def summary_rows(self, state: EventState | None) -> list[tuple[str, str]]:
        return [("Change event", "accepted by PagerDuty")] if state and state.accepted else []

    def port_blueprint(self, inputs: ChangeEventInputs) -> str | None:
        return None

    def entity(self, inputs: ChangeEventInputs, state: EventState) -> EntityDraft | None:
        return None
