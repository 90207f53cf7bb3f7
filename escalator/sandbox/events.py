"""The fake PagerDuty Events API v2 (``/v2/enqueue`` and ``/v2/change/enqueue``).

No auth header: the ``routing_key`` in the body names an Events API v2 integration, and so a
service. A trigger with a new ``dedup_key`` opens an incident on that service (its
``incident_key`` is the dedup key); the same key while that incident is open adds nothing (the
alert is grouped); acknowledge and resolve act on the open incident of that key and service and
are dropped, still answered 202, when there is none. Change events are kept in
``state["pagerduty"]["change_events"]`` and every event's outcome in ``state["pagerduty"]
["events"]`` (neither holds the routing key). Errors have the Events API's own shape
``{"status", "message", "errors"}``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from escalator.sandbox.incidents import Incidents
from escalator.sandbox.listing import reference
from escalator.sandbox.pagerduty import RateLimiter
from escalator.sandbox.wire import ApiError, Reply, Request, new_id, now_iso

State = dict[str, Any]

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
MAX_BYTES = 512 * 1024
ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
SUCCESS = {"status": "success", "message": "Event processed"}
INVALID = {"status": "invalid event", "message": "Event object is invalid"}
UNKNOWN_KEY = "Invalid routing key"
THROTTLED = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}


def error_body(status: int) -> dict[str, Any]:
    """Return the Events API's body for a bare error ``status``."""
    if status == 429:
        return dict(THROTTLED)
    if status == 400:
        return INVALID | {"errors": ["Event object is invalid"]}
    return {"status": "error", "message": "Internal Server Error", "errors": []}


def _invalid(*errors: str) -> ApiError:
    """Return the 400 of an invalid event, naming each field at fault."""
    return ApiError(400, INVALID | {"errors": list(errors)})


class EventsApi:
    """Serves Events API v2 requests against ``state["pagerduty"]``."""

    def __init__(
        self, state: Callable[[], State], incidents: Incidents, limiter: RateLimiter
    ) -> None:
        """Read the account from ``state()``; open incidents with ``incidents``; count
        requests per routing key with ``limiter``."""
        self._state = state
        self._incidents = incidents
        self.limiter = limiter

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def handle(self, request: Request) -> Reply:
        """Answer one request: parse, check the key and its rate, then act."""
        try:
            return self._answer(request)
        except ApiError as exc:
            return Reply(exc.status, exc.body, dict(exc.headers))

    def _answer(self, request: Request) -> Reply:
        """Route, validate and act on one event; raise :class:`ApiError` for an error answer."""
        if request.method != "POST" or request.path not in ("/v2/enqueue", "/v2/change/enqueue"):
            raise ApiError(404, {"status": "Not found", "message": "Not found", "errors": []})
        event = self._event(request)
        change = request.path == "/v2/change/enqueue"
        problems = _change_problems(event) if change else _event_problems(event)
        if problems:
            raise _invalid(*problems)
        allowed, _ = self.limiter.take(event["routing_key"])
        if not allowed:
            raise ApiError(429, dict(THROTTLED))
        service = self._service(event["routing_key"], change)
        return self._change(event, service) if change else self._act(event, service)

    @staticmethod
    def _event(request: Request) -> dict[str, Any]:
        """Return the decoded event, or raise the 400 of an unreadable one."""
        if len(request.raw_body) > MAX_BYTES:
            raise _invalid(f"Event object exceeds the {MAX_BYTES // 1024} KB limit")
        if not request.body_is_json or not isinstance(request.body, dict):
            raise ApiError(
                400,
                {
                    "status": "Unrecognized object",
                    "message": "Event object format is unrecognized",
                    "errors": ["JSON parse error"],
                },
            )
        return request.body

    def _service(self, key: str, change: bool) -> dict[str, Any]:
        """Return the service of the integration whose key is ``key``, or raise 400."""
        if change and key.startswith("R"):
            raise _invalid("Change events cannot be sent to ruleset integration keys")
        for integration in self.pd["integrations"].values():
            if integration["integration_key"] == key:
                return self.pd["services"][integration["service_id"]]  # type: ignore[no-any-return]
        raise _invalid(UNKNOWN_KEY)

    def _record(self, event: dict[str, Any], service: dict[str, Any], outcome: str) -> None:
        """Keep what happened to an event (without its routing key) in the state."""
        self.pd["events"].append(
            {
                "at": now_iso(),
                "event_action": event["event_action"],
                "dedup_key": event.get("dedup_key"),
                "service": service["id"],
                "outcome": outcome,
            }
        )

    def _act(self, event: dict[str, Any], service: dict[str, Any]) -> Reply:
        """Trigger, acknowledge or resolve by dedup key; 202 in every case."""
        action = event["event_action"]
        key = event.get("dedup_key") or new_id("", 32).lower()
        incident = self._incidents.holder(service["id"], key)
        if action == "trigger" and incident is None:
            self._open(event, service, key)
            outcome = "opened"
        elif action == "trigger":
            outcome = "grouped"
        elif incident is None:
            outcome = "dropped"
        else:
            outcome = self._move(incident, service, action)
        self._record(event | {"dedup_key": key}, service, outcome)
        return Reply(202, SUCCESS | {"dedup_key": key}, applied=outcome != "dropped")

    def _open(self, event: dict[str, Any], service: dict[str, Any], key: str) -> None:
        """Open an incident on ``service`` for a trigger event."""
        payload = event["payload"]
        urgency = "low" if payload["severity"] in ("warning", "info") else "high"
        data = {
            "type": "incident",
            "title": payload["summary"],
            "service": {"id": service["id"], "type": "service_reference"},
            "incident_key": key,
            "urgency": urgency,
        }
        opener = {"id": service["id"], "name": service["name"]}
        incident = self._incidents.create(data, opener)
        incident["last_status_change_by"] = reference(service)
        incident["alert_counts"] = {"all": 1, "triggered": 1, "resolved": 0}
        incident["first_trigger_log_entry"]["summary"] = "Triggered through the API."
        self.pd["bodies"][incident["id"]] = copy.deepcopy(payload.get("custom_details"))

    def _move(self, incident: dict[str, Any], service: dict[str, Any], action: str) -> str:
        """Acknowledge or resolve an open incident as its integration; return the outcome."""
        at = now_iso()
        self._incidents.end_snooze(incident)
        by = reference(service)
        if action == "acknowledge":
            if incident["status"] == "acknowledged":
                return "unchanged"
            incident |= {
                "status": "acknowledged",
                "acknowledgements": [{"at": at, "acknowledger": by}],
                "pending_actions": [],
            }
            outcome = "acknowledged"
        else:
            incident |= {
                "status": "resolved",
                "assignments": [],
                "acknowledgements": [],
                "pending_actions": [],
                "resolved_at": at,
                "alert_counts": {"all": 1, "triggered": 0, "resolved": 1},
            }
            outcome = "resolved"
        incident |= {"updated_at": at, "last_status_change_at": at, "last_status_change_by": by}
        return outcome

    def _change(self, event: dict[str, Any], service: dict[str, Any]) -> Reply:
        """Keep a change event on its service; 202 without a dedup key."""
        payload = event["payload"]
        self.pd["change_events"].append(
            {
                "id": new_id("P", 14),
                "received_at": now_iso(),
                "service": service["id"],
                "summary": payload["summary"],
                "source": payload.get("source"),
                "timestamp": payload.get("timestamp"),
                "custom_details": copy.deepcopy(payload.get("custom_details")),
                "links": copy.deepcopy(event.get("links", [])),
            }
        )
        return Reply(202, dict(SUCCESS), applied=True)


def _key_problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with the event's ``routing_key``."""
    key = event.get("routing_key")
    if not isinstance(key, str) or not key:
        return ["'routing_key' is missing or blank"]
    problems = []
    if len(key) != 32:
        problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    if not key.isalnum():
        problems.append("'routing_key' cannot contain non-alphanumeric characters.")
    return problems


def _summary_problems(payload: Any, *, severity: bool) -> list[str]:
    """What is wrong with the event's ``payload`` (its summary; its source and severity too)."""
    if not isinstance(payload, dict):
        return ["'payload' is missing or blank"]
    problems = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("'payload.summary' is missing or blank")
    elif len(summary) > MAX_SUMMARY:
        problems.append(f"'payload.summary' is too long (maximum is {MAX_SUMMARY} characters)")
    if severity:
        source = payload.get("source")
        if not isinstance(source, str) or not source.strip():
            problems.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            problems.append(
                "'payload.severity' is invalid (must be one of: " + ", ".join(SEVERITIES) + ")"
            )
    return problems


def _event_problems(event: dict[str, Any]) -> list[str]:
    """What PagerDuty refuses in an alert event, each naming its field."""
    problems = _key_problems(event)
    action = event.get("event_action")
    if action not in ACTIONS:
        problems.append("'event_action' is invalid (must be one of: " + ", ".join(ACTIONS) + ")")
    key = event.get("dedup_key")
    if key is not None and (not isinstance(key, str) or len(key) > MAX_DEDUP_KEY):
        problems.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and not key:
        problems.append("'dedup_key' is missing or blank")
    if action == "trigger":
        problems += _summary_problems(event.get("payload"), severity=True)
    return problems


def _change_problems(event: dict[str, Any]) -> list[str]:
    """What PagerDuty refuses in a change event, each naming its field."""
    return _key_problems(event) + _summary_problems(event.get("payload"), severity=False)
