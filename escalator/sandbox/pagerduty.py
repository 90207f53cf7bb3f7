"""The fake PagerDuty REST API v2: incidents, escalation policies, users and services.

Answers, status codes and error bodies follow PagerDuty's published specification and its
documented behaviour: ``Authorization: Token token=<key>`` (or ``Bearer``), a ``From`` header
on incident writes with an account-level key, ``ratelimit-*`` headers on every answer.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from escalator.sandbox.seed import (
    PAGERDUTY_READ_ONLY_TOKEN,
    PAGERDUTY_TOKEN,
    Links,
    State,
    assignment,
    level_user,
)
from escalator.sandbox.wire import ApiError, Reply, Request, new_id, now_iso

DEFAULT_RATE_LIMIT = 960
FROM_REQUIRED = (
    'You must specify a user\'s email address in the "From" header to perform this action'
)

ERROR_MESSAGES = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Authentication failed"),
    402: (2012, "Payment Required"),
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    408: (2001, "Request Timeout"),
    429: (2020, "Rate Limit Exceeded"),
}


def error_body(
    status: int,
    message: str | None = None,
    code: int | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    """Return PagerDuty's error body for ``status``, with its usual code and message by default."""
    default_code, default_message = ERROR_MESSAGES.get(status, (2000, "Internal Server Error"))
    error: dict[str, Any] = {"message": message or default_message, "code": code or default_code}
    if errors is not None:
        error["errors"] = errors
    return {"error": error}


def fail(
    status: int,
    message: str | None = None,
    code: int | None = None,
    errors: list[str] | None = None,
) -> ApiError:
    """Return an :class:`ApiError` carrying PagerDuty's error body."""
    return ApiError(status, error_body(status, message, code, errors))


def invalid(*errors: str) -> ApiError:
    """Return the 400/2001 error for invalid input, listing what is wrong."""
    return fail(400, errors=list(errors))


class RateLimiter:
    """Counts requests per key in fixed one-minute windows, as PagerDuty reports them."""

    def __init__(self, limit: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        """Enforce ``limit`` requests per minute per key; None only reports the default 960."""
        self.limit = limit
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._windows.clear()

    def take(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request for ``key``; return whether it may pass and the headers to send."""
        limit = self.limit if self.limit is not None else DEFAULT_RATE_LIMIT
        now = self._clock()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            allowed = self.limit is None or count < limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
        headers = {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(limit - count, 0)),
            "ratelimit-reset": str(max(int(60 - (now - start) + 0.999), 1)),
        }
        return allowed, headers


Route = Callable[[Request, list[str]], Reply]


class PagerDutyApi:
    """Serves PagerDuty requests against ``state["pagerduty"]``."""

    def __init__(
        self, state: Callable[[], State], links: Callable[[], Links], rate_limit: int | None
    ) -> None:
        """Read the account from ``state()`` and build links with ``links()`` at each request."""
        self._state = state
        self._links = links
        self.rate_limiter = RateLimiter(rate_limit)
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("POST", re.compile(r"/incidents"), self._create_incident),
            ("PUT", re.compile(r"/incidents"), self._update_incidents),
            ("GET", re.compile(r"/incidents/([^/]+)"), self._get_incident),
            ("PUT", re.compile(r"/incidents/([^/]+)"), self._update_incident),
            ("POST", re.compile(r"/incidents/([^/]+)/notes"), self._create_note),
            ("GET", re.compile(r"/escalation_policies"), self._list_policies),
            ("GET", re.compile(r"/escalation_policies/([^/]+)"), self._get_policy),
            ("GET", re.compile(r"/users"), self._list_users),
            ("GET", re.compile(r"/services/([^/]+)"), self._get_service),
        ]

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def handle(self, request: Request) -> Reply:
        """Answer one request: authenticate, count it against the rate limit, route it."""
        key = self._api_key(request)
        allowed, limit_headers = self.rate_limiter.take(key or "")
        try:
            if key not in {PAGERDUTY_TOKEN, PAGERDUTY_READ_ONLY_TOKEN}:
                raise fail(401)
            if not allowed:
                raise fail(429)
            reply = self._route(request, key)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body, dict(exc.headers))
        reply.headers = limit_headers | reply.headers
        return reply

    def _route(self, request: Request, key: str | None) -> Reply:
        """Find the route for the request and check write permissions."""
        for method, pattern, route in self._routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                if method != "GET" and key == PAGERDUTY_READ_ONLY_TOKEN:
                    raise fail(403, errors=["This API key is read-only."])
                return route(request, list(match.groups()))
        raise fail(404)

    @staticmethod
    def _api_key(request: Request) -> str | None:
        """Return the key from ``Token token=<key>`` or ``Bearer <key>``, or None."""
        value = (request.header("Authorization") or "").strip()
        for prefix in ("Token token=", "Bearer "):
            if value.startswith(prefix):
                return value[len(prefix) :].strip()
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _requester(self, request: Request) -> dict[str, Any]:
        """Return the user named by the ``From`` header, which writes need with an account key."""
        email = (request.header("From") or "").strip()
        if not email:
            raise fail(400, FROM_REQUIRED, 2001, [FROM_REQUIRED])
        for user in self.pd["users"].values():
            if user["email"].lower() == email.lower():
                return user  # type: ignore[no-any-return]
        raise fail(400, "Requester User Not Found", 1008, [f"No user has the email {email!r}."])

    def _find_incident(self, incident_id: str) -> dict[str, Any]:
        """Return an incident by id or incident number, or raise 404."""
        incidents = self.pd["incidents"]
        if incident_id in incidents:
            return incidents[incident_id]  # type: ignore[no-any-return]
        if incident_id.isdigit():
            for incident in incidents.values():
                if incident["incident_number"] == int(incident_id):
                    return incident  # type: ignore[no-any-return]
        raise fail(404, "Incident Not Found", 2100, [f"Incident {incident_id} not found."])

    @staticmethod
    def _body_object(request: Request, name: str) -> dict[str, Any]:
        """Return ``body[name]`` as an object, or raise 400/2001."""
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get(name), dict):
            raise invalid(f"{name} must be an object.")
        return body[name]  # type: ignore[no-any-return]

    def _render(self, incident: dict[str, Any], request: Request) -> dict[str, Any]:
        """Return a copy of an incident, expanded as the request's ``include[]`` asks."""
        rendered = copy.deepcopy(incident)
        includes = set(request.query.get("include[]", []) + request.query.get("include", []))
        if "assignees" in includes:
            for item in rendered["assignments"]:
                item["assignee"] = copy.deepcopy(self.pd["users"][item["assignee"]["id"]])
        if "escalation_policies" in includes:
            policy_id = rendered["escalation_policy"]["id"]
            rendered["escalation_policy"] = copy.deepcopy(self.pd["escalation_policies"][policy_id])
        if "services" in includes:
            rendered["service"] = copy.deepcopy(self.pd["services"][rendered["service"]["id"]])
        return rendered

    def _assign_level(self, incident: dict[str, Any], level: int, at: str) -> None:
        """Assign an incident to level ``level`` of its policy and remember that level."""
        user_id = level_user(self.pd, incident["escalation_policy"]["id"], level)
        incident["assignments"] = [assignment(self.pd, self._links(), user_id, at)]
        incident["assigned_via"] = "escalation_policy"
        self.pd["escalation_levels"][incident["id"]] = level

    def _set_status(
        self, incident: dict[str, Any], status: str, user: dict[str, Any], at: str
    ) -> None:
        """Move an incident to ``status`` the way PagerDuty does."""
        links = self._links()
        user_ref = links.reference("user", user["id"], user["name"])
        previous = incident["status"]
        if status == "resolved":
            if previous == "resolved":
                raise fail(400, "Incident Already Resolved", 1001)
            incident |= {
                "assignments": [],
                "acknowledgements": [],
                "pending_actions": [],
                "resolved_at": at,
            }
        elif status == "acknowledged":
            if previous == "resolved":
                incident["assignments"] = [assignment(self.pd, links, user["id"], at)]
                incident["resolved_at"] = None
            incident["acknowledgements"] = [{"at": at, "acknowledger": user_ref}]
            incident["pending_actions"] = []
        else:
            if previous == "resolved":
                incident["resolved_at"] = None
                self._assign_level(incident, 1, at)
            incident["acknowledgements"] = []
        if status != previous:
            incident["last_status_change_at"] = at
            incident["last_status_change_by"] = user_ref
        incident["status"] = status

    def _apply_update(
        self, incident: dict[str, Any], changes: dict[str, Any], user: dict[str, Any]
    ) -> None:
        """Validate and apply one incident update (the ``incident`` object of a PUT)."""
        problems = self._update_problems(incident, changes)
        if problems:
            raise invalid(*problems)
        at = now_iso()
        policy_ref = changes.get("escalation_policy")
        if policy_ref is not None:
            policy = self.pd["escalation_policies"].get(policy_ref["id"])
            if policy is None:
                raise fail(
                    400,
                    "Escalation Policy Not Found",
                    1014,
                    [f"Escalation policy {policy_ref['id']} not found."],
                )
        level = changes.get("escalation_level")
        if level is not None and (incident["status"] == "resolved" or incident["urgency"] == "low"):
            reason = (
                "a resolved incident cannot be escalated"
                if incident["status"] == "resolved"
                else "a low-urgency incident cannot be escalated"
            )
            raise fail(400, "Incident cannot be escalated", 1006, [reason.capitalize() + "."])
        if "urgency" in changes:
            incident["urgency"] = changes["urgency"]
            if changes["urgency"] == "low":
                incident["pending_actions"] = []
        if "title" in changes:
            incident["title"] = changes["title"]
            incident["summary"] = f"[#{incident['incident_number']}] {changes['title']}"
        if "priority" in changes:
            incident["priority"] = self._priority(changes["priority"])
        if "status" in changes:
            self._set_status(incident, changes["status"], user, at)
        if policy_ref is not None:
            policy = self.pd["escalation_policies"][policy_ref["id"]]
            incident["escalation_policy"] = self._links().reference(
                "escalation_policy", policy["id"], policy["name"]
            )
            self._reassign(incident, 1, at)
        if level is not None:
            self._reassign(incident, max(level, 1), at)
        if "assignments" in changes:
            incident["assignments"] = [
                assignment(self.pd, self._links(), item["assignee"]["id"], at)
                for item in changes["assignments"]
            ]
            incident["assigned_via"] = "direct_assignment"
        incident["updated_at"] = at

    def _reassign(self, incident: dict[str, Any], level: int, at: str) -> None:
        """Assign a level after a reassignment or escalation; that re-triggers the incident."""
        self._assign_level(incident, level, at)
        if incident["status"] == "acknowledged":
            incident["status"] = "triggered"
            incident["acknowledgements"] = []
            incident["last_status_change_at"] = at

    def _priority(self, value: Any) -> dict[str, Any] | None:
        """Return the account priority named or referenced by ``value``."""
        if value is None:
            return None
        for priority in self.pd["priorities"].values():
            if value in (priority["name"], priority["id"]) or (
                isinstance(value, dict) and value.get("id") == priority["id"]
            ):
                return copy.deepcopy(priority)  # type: ignore[no-any-return]
        raise invalid("Priority not found.")

    def _update_problems(self, incident: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        """Return what is invalid in an incident update, as PagerDuty's ``errors`` list."""
        problems: list[str] = []
        if changes.get("type") not in {"incident", "incident_reference"}:
            problems.append("Incident type must be 'incident' or 'incident_reference'.")
        if "status" in changes and changes["status"] not in {
            "triggered",
            "acknowledged",
            "resolved",
        }:
            problems.append("Status must be one of triggered, acknowledged, resolved.")
        if "urgency" in changes and changes["urgency"] not in {"high", "low"}:
            problems.append("Urgency must be 'high' or 'low'.")
        if "title" in changes and not isinstance(changes["title"], str):
            problems.append("Title must be a string.")
        policy = changes.get("escalation_policy")
        if policy is not None and not (
            isinstance(policy, dict)
            and isinstance(policy.get("id"), str)
            and policy.get("type") in {"escalation_policy_reference", "escalation_policy"}
        ):
            problems.append("Escalation policy must be an escalation_policy_reference with an id.")
        level = changes.get("escalation_level")
        if "escalation_level" in changes:
            if not isinstance(level, int) or isinstance(level, bool):
                problems.append("Escalation level must be an integer.")
            else:
                policy_id = (policy or {}).get("id") if isinstance(policy, dict) else None
                policy_obj = self.pd["escalation_policies"].get(
                    policy_id or incident["escalation_policy"]["id"]
                )
                levels = len(policy_obj["escalation_rules"]) if policy_obj else 0
                if level < 0 or (policy_obj and level > levels):
                    problems.append(f"Escalation level must be between 1 and {levels}.")
        assignments = changes.get("assignments")
        if assignments is not None and not (
            isinstance(assignments, list)
            and all(
                isinstance(a, dict)
                and isinstance(a.get("assignee"), dict)
                and a["assignee"].get("id") in self.pd["users"]
                for a in assignments
            )
        ):
            problems.append("Assignments must reference existing users.")
        return problems

    # -- routes ------------------------------------------------------------------------------

    def _get_incident(self, request: Request, args: list[str]) -> Reply:
        """``GET /incidents/{id}``: the incident by id or number."""
        return Reply(200, {"incident": self._render(self._find_incident(args[0]), request)})

    def _update_incident(self, request: Request, args: list[str]) -> Reply:
        """``PUT /incidents/{id}``: acknowledge, resolve, escalate, reassign, change urgency."""
        user = self._requester(request)
        changes = self._body_object(request, "incident")
        incident = self._find_incident(args[0])
        working = copy.deepcopy(incident)
        level_before = self.pd["escalation_levels"].get(incident["id"])
        try:
            self._apply_update(working, changes, user)
        except ApiError:
            self.pd["escalation_levels"][incident["id"]] = level_before
            raise
        incident.clear()
        incident.update(working)
        return Reply(200, {"incident": self._render(incident, request)}, applied=True)

    def _update_incidents(self, request: Request, args: list[str]) -> Reply:
        """``PUT /incidents``: update several incidents; each item carries its ``id``."""
        user = self._requester(request)
        body = request.body
        items = body.get("incidents") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid("incidents must be a non-empty array.")
        if len(items) > 500:
            raise invalid("At most 500 incidents can be updated at once.")
        updated = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise invalid("Each incident needs an id.")
            incident = self._find_incident(item["id"])
            changes = {k: v for k, v in item.items() if k != "id"}
            working = copy.deepcopy(incident)
            self._apply_update(working, changes, user)
            incident.clear()
            incident.update(working)
            updated.append(self._render(incident, request))
        return Reply(200, {"incidents": updated}, applied=True)

    def _create_incident(self, request: Request, args: list[str]) -> Reply:
        """``POST /incidents``: open an incident on a service, assigned to level 1."""
        user = self._requester(request)
        data = self._body_object(request, "incident")
        problems = []
        if data.get("type") != "incident":
            problems.append("Incident type must be 'incident'.")
        if not isinstance(data.get("title"), str) or not data.get("title"):
            problems.append("Title is required.")
        service_ref = data.get("service")
        service_id = service_ref.get("id") if isinstance(service_ref, dict) else None
        if service_id not in self.pd["services"]:
            problems.append("Service not found.")
        urgency = data.get("urgency", "high")
        if urgency not in {"high", "low"}:
            problems.append("Urgency must be 'high' or 'low'.")
        if problems:
            raise invalid(*problems)
        service = self.pd["services"][service_id]
        links = self._links()
        policy_ref = data.get("escalation_policy") or service["escalation_policy"]
        policy = self.pd["escalation_policies"].get(policy_ref.get("id"))
        if policy is None:
            raise fail(400, "Escalation Policy Not Found", 1014)
        at = now_iso()
        number = self.pd["next_incident_number"]
        self.pd["next_incident_number"] = number + 1
        incident_id = new_id("Q", 14)
        incident = links.full("incident", incident_id, f"[#{number}] {data['title']}") | {
            "incident_number": number,
            "title": data["title"],
            "description": data["title"],
            "created_at": at,
            "updated_at": at,
            "status": "triggered",
            "incident_key": data.get("incident_key") or new_id("", 32).lower(),
            "service": links.reference("service", service["id"], service["name"]),
            "assignments": [],
            "assigned_via": "escalation_policy",
            "last_status_change_at": at,
            "last_status_change_by": links.reference("user", user["id"], user["name"]),
            "resolved_at": None,
            "first_trigger_log_entry": links.reference(
                "log_entry", new_id("R", 26), "Triggered through the API."
            )
            | {"type": "trigger_log_entry_reference"},
            "alert_counts": {"all": 0, "triggered": 0, "resolved": 0},
            "is_mergeable": True,
            "incident_type": {"name": "incident_default"},
            "escalation_policy": links.reference("escalation_policy", policy["id"], policy["name"]),
            "teams": [],
            "pending_actions": [],
            "acknowledgements": [],
            "priority": self._priority(data.get("priority")),
            "urgency": urgency,
            "resolve_reason": None,
            "conference_bridge": None,
        }
        self.pd["incidents"][incident_id] = incident
        self.pd["notes"][incident_id] = []
        if data.get("assignments"):
            self._apply_update(
                incident, {"type": "incident", "assignments": data["assignments"]}, user
            )
            self.pd["escalation_levels"][incident_id] = 1
        else:
            self._assign_level(incident, 1, at)
        return Reply(201, {"incident": self._render(incident, request)}, applied=True)

    def _create_note(self, request: Request, args: list[str]) -> Reply:
        """``POST /incidents/{id}/notes``: add a note to an incident."""
        user = self._requester(request)
        incident = self._find_incident(args[0])
        note = self._body_object(request, "note")
        if not isinstance(note.get("content"), str) or not note["content"]:
            raise invalid("Note content is required.")
        at = now_iso()
        created = {
            "id": new_id("P", 7),
            "user": self._links().reference("user", user["id"], user["name"]),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": note["content"],
            "created_at": at,
        }
        self.pd["notes"][incident["id"]].append(created)
        return Reply(200, {"note": created}, applied=True)

    @staticmethod
    def _page(request: Request, name: str, items: list[dict[str, Any]]) -> Reply:
        """Return one page of a classic-paginated list."""
        try:
            limit = int(request.query.get("limit", ["25"])[-1])
            offset = int(request.query.get("offset", ["0"])[-1])
        except ValueError:
            raise invalid("limit and offset must be integers.") from None
        page = items[offset : offset + limit]
        return Reply(
            200,
            {
                name: copy.deepcopy(page),
                "limit": limit,
                "offset": offset,
                "more": offset + limit < len(items),
                "total": len(items),
            },
        )

    def _list_policies(self, request: Request, args: list[str]) -> Reply:
        """``GET /escalation_policies``: the policies whose name matches ``query``."""
        query = request.query.get("query", [""])[-1].lower()
        policies = [
            p for p in self.pd["escalation_policies"].values() if query in p["name"].lower()
        ]
        return self._page(request, "escalation_policies", policies)

    def _get_policy(self, request: Request, args: list[str]) -> Reply:
        """``GET /escalation_policies/{id}``: one policy with its escalation rules."""
        policy = self.pd["escalation_policies"].get(args[0])
        if policy is None:
            raise fail(404, "Escalation Policy Not Found", 2100)
        return Reply(200, {"escalation_policy": copy.deepcopy(policy)})

    def _list_users(self, request: Request, args: list[str]) -> Reply:
        """``GET /users``: the users whose name or email matches ``query``."""
        query = request.query.get("query", [""])[-1].lower()
        users = [
            u
            for u in self.pd["users"].values()
            if query in u["name"].lower() or query in u["email"].lower()
        ]
        return self._page(request, "users", users)

    def _get_service(self, request: Request, args: list[str]) -> Reply:
        """``GET /services/{id}``: one service."""
        service = self.pd["services"].get(args[0])
        if service is None:
            raise fail(404, "Service Not Found", 2100)
        return Reply(200, {"service": copy.deepcopy(service)})
