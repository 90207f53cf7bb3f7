"""PagerDuty's on-call side, typed: who is on call, a schedule's final entries, its overrides.

The reads and writes of ``/oncalls`` and ``/schedules/{id}/...`` through the REST client's
transport, each answer validated into the models below. A shift-based (v3) schedule refuses the
v2 routes with 400/3001: that refusal is told plainly (:func:`read_schedule_error`). An override
create answers 201 with one status per item; both documented shapes of that answer are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from escalator.clients.answers import ErrorRule, Reading, error_for, validated
from escalator.clients.bodies import OverridesCreate
from escalator.clients.models import Reference, User, _Lenient
from escalator.clients.pagerduty import (
    SERVICE,
    PagerDutyClient,
    _parse,  # the REST client's answer readers, shared with this part of it
    _parse_list,
)
from escalator.clients.pagerduty_errors import read_error
from escalator.errors import PagerDutyError, UnexpectedResponse
from escalator.http import HttpResponse, Policy, parse_json_body

V3_RULE = ErrorRule(
    "this is a shift-based (v3) schedule: PagerDuty refuses v2 overrides and v2 reads on it.",
    "Change its on-call in PagerDuty's web app (a v3 override names the rotation member it "
    "replaces); {schedule_id} must be a v2 schedule for this action.",
)
SCHEDULE_RULES = {
    3004: ErrorRule(
        "no such schedule.", "Check {schedule_id}: copy the ID from the schedule's URL (PSC7PAY)."
    ),
    4004: ErrorRule(
        "no such override on the schedule.",
        "Check {override_id}, or leave it empty to remove {oncall_user}'s override now.",
    ),
}
_SHAPE_HINT = "PagerDuty's API answered in an unexpected shape; try again later."


class Oncall(_Lenient):
    """One entry of ``GET /oncalls``: a user at a level of a policy, through a schedule or not."""

    user: Reference
    escalation_policy: Reference | None = None
    escalation_level: int = 1
    schedule: Reference | None = None
    start: str | None = None
    end: str | None = None


class RenderedEntry(_Lenient):
    """One entry of a schedule's ``final_schedule.rendered_schedule_entries``."""

    user: Reference
    start: str
    end: str


class Schedule(_Lenient):
    """A v2 schedule, as ``GET /schedules/{id}`` answers it (entries with ``since``/``until``)."""

    id: str
    name: str | None = None
    summary: str | None = None
    html_url: str | None = None
    time_zone: str | None = None
    final_schedule: dict[str, Any] | None = None

    def entries(self) -> list[RenderedEntry]:
        """The final schedule's rendered entries (empty unless a window was asked)."""
        items = (self.final_schedule or {}).get("rendered_schedule_entries") or []
        what = f"GET /schedules/{self.id}"
        return [
            validated(RenderedEntry, item, service=SERVICE, what=what, hint=_SHAPE_HINT)
            for item in items
        ]


class Override(_Lenient):
    """One override of a schedule."""

    id: str
    start: str
    end: str
    user: Reference


class OverrideResult(_Lenient):
    """One item of the answer to ``POST /schedules/{id}/overrides``."""

    status: int = 201
    errors: tuple[str, ...] = ()
    override: dict[str, Any] | None = None


def read_schedule_error(response: HttpResponse, path: str) -> Reading:
    """A schedule route's refusal: v3, unknown schedule or override by code, else as any."""
    reading = read_error(response, path)
    said = reading.said.lower()
    if reading.code == 3001 and ("shift-based" in said or "v3" in said):
        return Reading(V3_RULE, said=reading.said, code=reading.code)
    rule = SCHEDULE_RULES.get(reading.code) if isinstance(reading.code, int) else None
    return Reading(rule, said=reading.said, code=reading.code) if rule else reading


def _fail(response: HttpResponse, method: str, path: str) -> PagerDutyError:
    return error_for(PagerDutyError, response, method, path, read_schedule_error)


def _get(
    pagerduty: PagerDutyClient, path: str, params: Mapping[str, str | list[str]] | None = None
) -> HttpResponse:
    """``GET path`` read once; a refusal raised as the schedule routes tell it."""
    response = pagerduty.transport.request(Policy.READ, "GET", path, params=params)
    if not response.ok:
        raise _fail(response, "GET", path)
    return response


def list_oncalls(
    pagerduty: PagerDutyClient, *, schedule_id: str | None = None, policy_id: str | None = None
) -> list[Oncall]:
    """``GET /oncalls`` now, for one schedule or one policy, users included, earliest only."""
    params: dict[str, str | list[str]] = {"include[]": ["users"], "earliest": "true"}
    if schedule_id:
        params["schedule_ids[]"] = [schedule_id]
    if policy_id:
        params["escalation_policy_ids[]"] = [policy_id]
    params["limit"] = "100"
    response = _get(pagerduty, "/oncalls", params=params)
    return _parse_list(response, "GET", "/oncalls", "oncalls", Oncall)


def get_schedule(
    pagerduty: PagerDutyClient, schedule_id: str, *, since: str | None, until: str | None
) -> Schedule:
    """``GET /schedules/{id}``, with its final entries from ``since`` to ``until`` when given."""
    path = f"/schedules/{quote(schedule_id, safe='')}"
    params = {"since": since, "until": until} if since and until else None
    response = _get(pagerduty, path, params=params)
    return _parse(response, "GET", path, "schedule", Schedule)


def get_user(pagerduty: PagerDutyClient, user_id: str) -> User:
    """``GET /users/{id}``: the user with their email."""
    path = f"/users/{quote(user_id, safe='')}"
    response = _get(pagerduty, path)
    return _parse(response, "GET", path, "user", User)


def get_service_policy(pagerduty: PagerDutyClient, service_id: str) -> str:
    """``GET /services/{id}``: the ID of the service's escalation policy."""
    path = f"/services/{quote(service_id, safe='')}"
    response = _get(pagerduty, path)
    service = _parse(response, "GET", path, "service", Reference)
    policy = (service.model_extra or {}).get("escalation_policy")
    if not isinstance(policy, dict) or not isinstance(policy.get("id"), str):
        raise UnexpectedResponse(
            SERVICE, f"GET {path}: the service has no escalation policy.", hint=_SHAPE_HINT
        )
    return str(policy["id"])


def list_overrides(
    pagerduty: PagerDutyClient, schedule_id: str, *, since: str, until: str
) -> list[Override]:
    """``GET /schedules/{id}/overrides?since&until``: the overrides overlapping the window."""
    path = f"/schedules/{quote(schedule_id, safe='')}/overrides"
    params = {"since": since, "until": until}
    response = _get(pagerduty, path, params=params)
    return _parse_list(response, "GET", path, "overrides", Override)


def create_overrides(
    pagerduty: PagerDutyClient, schedule_id: str, body: OverridesCreate
) -> list[OverrideResult]:
    """``POST /schedules/{id}/overrides`` with the plural body as given: one result per item,
    from a bare array or ``{"overrides": [...]}``. Raises OutcomeUnknown when no answer came."""
    path = f"/schedules/{quote(schedule_id, safe='')}/overrides"
    headers = {"Content-Type": "application/json"}
    response = pagerduty.transport.request(
        Policy.WRITE, "POST", path, json_body=body, headers=headers
    )
    if not response.ok:
        raise _fail(response, "POST", path)
    items: Any = response.body
    if isinstance(items, dict):
        items = parse_json_body(response, SERVICE, f"POST {path}", hint=_SHAPE_HINT).get(
            "overrides"
        )
    if not isinstance(items, list) or not items:
        raise UnexpectedResponse(
            SERVICE, f"POST {path}: the answer has no list of overrides.", hint=_SHAPE_HINT
        )
    what = f"POST {path}"
    return [
        validated(OverrideResult, _as_result(item), service=SERVICE, what=what, hint=_SHAPE_HINT)
        for item in items
    ]


def _as_result(item: Any) -> Any:
    """An item of either shape as a result: a bare override (the wrapped shape) is a 201."""
    if isinstance(item, dict) and "status" not in item and "id" in item:
        return {"status": 201, "override": item}
    return item


def delete_override(pagerduty: PagerDutyClient, schedule_id: str, override_id: str) -> bool:
    """``DELETE /schedules/{id}/overrides/{oid}``: True when deleted (204), False when cut short
    because it was under way (200). Raises OutcomeUnknown when no answer came."""
    path = f"/schedules/{quote(schedule_id, safe='')}/overrides/{quote(override_id, safe='')}"
    response = pagerduty.transport.request(Policy.WRITE, "DELETE", path)
    if not response.ok:
        raise _fail(response, "DELETE", path)
    return response.status != 200
