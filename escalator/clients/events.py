"""A thin typed client for PagerDuty's Events API v2: send an alert event or a change event.

The Events API is a host of its own (``pagerduty_events_url``) with no credential header: the
routing key travels in the body. Its refusals have their own shape, ``{"status", "message",
"errors"}``, and name the event's fields; they are read into a :class:`PagerDutyError` whose
message and hint name the input that field came from. The routing key is never quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from escalator.clients.answers import ErrorRule, Reading, error_for, validated
from escalator.clients.bodies import AlertEvent, ChangeEvent
from escalator.errors import PagerDutyError, UnexpectedResponse
from escalator.http import Deadline, HttpResponse, Policy, Transport, parse_json_body

SERVICE = "PagerDuty Events API"
ALERT_PATH = "/v2/enqueue"
CHANGE_PATH = "/v2/change/enqueue"
_SHAPE_HINT = "PagerDuty's Events API answered in an unexpected shape; try again later."
_KEY_FIX = (
    "Set {routing_key} to the Integration Key of the service's Events API v2 integration "
    "(PagerDuty: the service > Integrations), kept in a secret; an EU account also needs "
    "{pagerduty_region=eu}."
)

#: The field PagerDuty names in a refusal, and the input it came from, with the fix.
#: (PagerDuty's words, underscores read as spaces; they are matched in this order).
FIELD_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "ruleset",
        "routing_key",
        "Change events need a service's integration key, not a ruleset key (those begin with "
        "R): set {routing_key} to the service's Events API v2 key.",
    ),
    ("routing key", "routing_key", _KEY_FIX),
    ("payload.summary", "title", "Give {title} in at most 1024 characters."),
    ("payload.source", "source", "Give {source}, or leave it empty for the Port entity."),
    ("payload.severity", "severity", "Use critical, error, warning or info in {severity}."),
    ("dedup key", "dedup_key", "Give {dedup_key} in at most 255 characters: the trigger's key."),
    ("event action", "event_action", "Use trigger, acknowledge or resolve in {event_action}."),
    ("exceeds", "details", "Shorten {details}: an event is at most 512 KB."),
)


class EventAccepted(BaseModel):
    """PagerDuty's 202: ``status`` always; ``dedup_key`` for an alert event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: str
    message: str = ""
    dedup_key: str | None = None


class EventsClient:
    """Sends events to one integration of the Events API v2 (the routing key is in each body)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def connect(
        cls, base_url: str, *, deadline: Deadline, environ: Mapping[str, str] | None = None
    ) -> EventsClient:
        """A client with its own pooled session for ``base_url`` (no credential header)."""
        transport = Transport(
            SERVICE,
            base_url,
            headers={"Accept": "application/json"},
            deadline=deadline,
            hint_unreachable="Check {pagerduty_events_url} / {pagerduty_region} and the runner's "
            "network.",
            environ=environ,
        )
        return cls(transport)

    def close(self) -> None:
        self.transport.close()

    def send_alert(self, body: AlertEvent) -> EventAccepted:
        """``POST /v2/enqueue``: the 202's answer, whose ``dedup_key`` is PagerDuty's. A lost
        answer is sent again by the transport: the same dedup key makes it harmless."""
        what = f"POST {ALERT_PATH}"
        document = parse_json_body(self._send(Policy.EVENT, ALERT_PATH, body), SERVICE, what)
        answer = validated(EventAccepted, document, service=SERVICE, what=what, hint=_SHAPE_HINT)
        if not answer.dedup_key:
            raise UnexpectedResponse(
                SERVICE, f"POST {ALERT_PATH}: the answer has no dedup_key.", hint=_SHAPE_HINT
            )
        return answer

    def send_change(self, body: ChangeEvent) -> EventAccepted:
        """``POST /v2/change/enqueue``: a 2xx is accepted whatever its body (a change event has
        no key to read back). Raises OutcomeUnknown when no answer came: it is not sent again."""
        response = self._send(Policy.CHANGE_EVENT, CHANGE_PATH, body)
        if isinstance(response.body, dict) and isinstance(response.body.get("status"), str):
            return EventAccepted(status=response.body["status"])
        return EventAccepted(status="accepted")

    def _send(self, policy: Policy, path: str, body: AlertEvent | ChangeEvent) -> HttpResponse:
        """Send ``body``; the answer when it is a 2xx, else the refusal as a PagerDutyError."""
        headers = {"Content-Type": "application/json"}
        response = self.transport.request(policy, "POST", path, json_body=body, headers=headers)
        if not response.ok:
            raise error_for(PagerDutyError, response, "POST", path, read_event_error)
        return response


def read_event_error(response: HttpResponse, path: str) -> Reading:
    """What an Events API refusal means: by the field PagerDuty names, then by status."""
    said = _said(response.body)
    status = response.status
    if status == 400 or status == 413:
        lowered = said.lower().replace("_", " ")
        for needle, input_name, fix in FIELD_RULES:
            if needle in lowered or (needle == "exceeds" and status == 413):
                rule = ErrorRule(f"PagerDuty refused the event's {{{input_name}}}.", fix)
                return Reading(rule, said)
        return Reading(ErrorRule("PagerDuty refused the event.", _KEY_FIX), said)
    if status == 429:
        rule = ErrorRule(
            "PagerDuty kept refusing events as too many (about 120 a minute per integration key) "
            "until the deadline.",
            "Send fewer events to this service, or raise {timeout_seconds} to wait longer.",
        )
        return Reading(rule, said)
    if status in (401, 403, 404, 405):  # the Events API asks for no credential: another API
        rule = ErrorRule(
            "no Events API answers at this address.",
            "Check {pagerduty_events_url}: PagerDuty's is https://events.pagerduty.com "
            "(https://events.eu.pagerduty.com for {pagerduty_region=eu}).",
        )
        return Reading(rule, said)
    if status >= 500:
        rule = ErrorRule(
            "PagerDuty's Events API had an internal error after every retry.",
            "Try again later; PagerDuty's status page says whether events are delayed.",
        )
        return Reading(rule, said)
    return Reading(ErrorRule(f"PagerDuty refused the event ({status}).", _KEY_FIX), said)


def _said(body: Any) -> str:
    """PagerDuty's own words: its message and each error it lists."""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "")]
    errors = body.get("errors")
    if isinstance(errors, list):
        parts += [str(error) for error in errors]
    return "; ".join(part for part in parts if part)
