"""The fake PagerDuty REST API v2: incidents, escalation policies, users; routing of the rest.

Services live in :mod:`escalator.sandbox.services`, schedules and on-calls in
:mod:`escalator.sandbox.schedules`; this module authenticates, rate-limits and routes them all.

Answers, status codes and error bodies follow PagerDuty's published specification and its
documented behaviour: ``Authorization: Token token=<key>`` (or ``Bearer``), a ``From`` header
on incident writes with an account-level key, ``ratelimit-*`` headers on every answer.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from escalator.sandbox.incidents import STATUSES, Incidents
from escalator.sandbox.listing import page, parse_time
from escalator.sandbox.pagerduty_errors import FROM_REQUIRED, error_body, fail, invalid
from escalator.sandbox.schedules import Schedules
from escalator.sandbox.seed import (
    PAGERDUTY_READ_ONLY_TOKEN,
    PAGERDUTY_TOKEN,
    PRIORITY_MODES,
    REAL_SHAPED_PAGERDUTY_TOKEN,
    Links,
    State,
)
from escalator.sandbox.services import Services
from escalator.sandbox.wire import ApiError, Reply, Request, new_id, now_iso

__all__ = ["FROM_REQUIRED", "PagerDutyApi", "RateLimiter", "error_body"]

DEFAULT_RATE_LIMIT = 960
MONTH = dt.timedelta(days=30)


class RateLimiter:
    """Counts requests per key in fixed windows (a minute, as PagerDuty reports them)."""

    def __init__(
        self,
        limit: int | None,
        clock: Callable[[], float] = time.monotonic,
        window: float = 60.0,
    ) -> None:
        """Enforce ``limit`` requests per ``window`` seconds per key; None only reports the
        default 960."""
        self.limit = limit
        self.window = window
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
            if now - start >= self.window:
                start, count = now, 0
            allowed = self.limit is None or count < limit
            if allowed:
                count += 1
            self._windows[key] = (start, count)
        headers = {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(limit - count, 0)),
            "ratelimit-reset": str(max(int(self.window - (now - start) + 0.999), 1)),
        }
        return allowed, headers


Route = Callable[[Request, list[str]], Reply]


class PagerDutyApi:
    """Serves PagerDuty requests against ``state["pagerduty"]``."""

    def __init__(
        self,
        state: Callable[[], State],
        links: Callable[[], Links],
        rate_limit: int | None,
        create_rate_limit: int | None = None,
        rate_window: float = 60.0,
    ) -> None:
        """Read the account from ``state()`` and build links with ``links()`` at each request;
        ``create_rate_limit`` is the lower per-minute limit of ``POST /incidents`` (None: none)."""
        self._state = state
        self._links = links
        self.rate_limiter = RateLimiter(rate_limit, window=rate_window)
        self.create_limiter = RateLimiter(create_rate_limit)
        self.incidents = Incidents(state, links)
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("GET", re.compile(r"/incidents"), self._list_incidents),
            ("POST", re.compile(r"/incidents"), self._create_incident),
            ("PUT", re.compile(r"/incidents"), self._update_incidents),
            ("GET", re.compile(r"/incidents/([^/]+)"), self._get_incident),
            ("PUT", re.compile(r"/incidents/([^/]+)"), self._update_incident),
            ("GET", re.compile(r"/incidents/([^/]+)/notes"), self._list_notes),
            ("POST", re.compile(r"/incidents/([^/]+)/notes"), self._create_note),
            ("POST", re.compile(r"/incidents/([^/]+)/snooze"), self._snooze),
            ("GET", re.compile(r"/priorities"), self._list_priorities),
            ("GET", re.compile(r"/escalation_policies"), self._list_policies),
            ("GET", re.compile(r"/escalation_policies/([^/]+)"), self._get_policy),
            ("GET", re.compile(r"/users"), self._list_users),
            ("GET", re.compile(r"/users/([^/]+)"), self._get_user),
        ]
        self.schedules = Schedules(state, lambda: dt.datetime.now(dt.UTC))
        self.services = Services(state)
        for method, pattern, route in self.schedules.routes() + self.services.routes():
            self._routes.append((method, re.compile(pattern), route))

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def set_priorities(self, mode: str) -> None:
        """Make the account's priorities ``enabled``, ``empty`` (none configured) or
        ``disabled`` (the plan lacks them: 402)."""
        if mode not in PRIORITY_MODES:
            raise ValueError(
                f"unknown priorities mode {mode!r}: use one of {', '.join(PRIORITY_MODES)}"
            )
        self.pd["priorities_mode"] = mode

    def handle(self, request: Request) -> Reply:
        """Answer one request: authenticate, count it against the rate limit, route it."""
        key = self._api_key(request)
        allowed, limit_headers = self.rate_limiter.take(key or "")
        try:
            if key not in {PAGERDUTY_TOKEN, PAGERDUTY_READ_ONLY_TOKEN, REAL_SHAPED_PAGERDUTY_TOKEN}:
                raise fail(401)
            if not allowed:
                raise fail(429)
            self.incidents.expire_snoozes()
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

    def _change(
        self, request: Request, incident: dict[str, Any], change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """Apply ``change`` to a copy of the incident and keep it only if nothing was refused."""
        working = copy.deepcopy(incident)
        saved = {
            name: copy.deepcopy(self.pd[name].get(incident["id"]))
            for name in ("escalation_levels", "snoozes", "resolutions")
        }
        try:
            change(working)
        except ApiError:
            for name, value in saved.items():
                self.pd[name].pop(incident["id"], None)
                if value is not None:
                    self.pd[name][incident["id"]] = value
            raise
        incident.clear()
        incident.update(working)
        return self._render(incident, request)

    @staticmethod
    def _page(request: Request, name: str, items: list[dict[str, Any]]) -> Reply:
        """Return one page of a classic-paginated list (``limit`` at most 100)."""
        return page(request, name, items)

    # -- incidents ---------------------------------------------------------------------------

    def _list_incidents(self, request: Request, args: list[str]) -> Reply:
        """``GET /incidents``: filtered by ``incident_key``, ``service_ids[]``, ``statuses[]``,
        ``urgencies[]`` and the date window (the last month unless ``date_range=all``)."""
        query = request.query
        statuses = query.get("statuses[]", [])
        urgencies = query.get("urgencies[]", [])
        if not set(statuses) <= set(STATUSES) or not set(urgencies) <= {"high", "low"}:
            raise invalid("statuses[] and urgencies[] take only the documented values.")
        since, until = self._window(query)
        keys = query.get("incident_key", [])
        services = set(query.get("service_ids[]", []))
        found = [
            self._render(incident, request)
            for incident in sorted(self.pd["incidents"].values(), key=lambda i: i["created_at"])
            if (not keys or incident["incident_key"] == keys[-1])
            and (not services or incident["service"]["id"] in services)
            and (not statuses or incident["status"] in statuses)
            and (not urgencies or incident["urgency"] in urgencies)
            and (since is None or since <= parse_time(incident["created_at"]) <= until)
        ]
        return self._page(request, "incidents", found)

    @staticmethod
    def _window(query: dict[str, list[str]]) -> tuple[dt.datetime | None, dt.datetime]:
        """Return the creation window (``since`` None for ``date_range=all``) or raise 400."""
        now = dt.datetime.now(dt.UTC)
        date_range = query.get("date_range", [None])[-1]
        if date_range not in (None, "all"):
            raise invalid("date_range must be 'all'.")
        try:
            since = parse_time(query["since"][-1]) if "since" in query else now - MONTH
            until = parse_time(query["until"][-1]) if "until" in query else now
        except ValueError:
            raise fail(
                400, "Invalid time values in 'since' and/or 'until' parameters", 2004
            ) from None
        if date_range == "all":
            return None, until
        return since, until

    def _get_incident(self, request: Request, args: list[str]) -> Reply:
        """``GET /incidents/{id}``: the incident by id or number."""
        return Reply(200, {"incident": self._render(self._find_incident(args[0]), request)})

    def _update_incident(self, request: Request, args: list[str]) -> Reply:
        """``PUT /incidents/{id}``: acknowledge, resolve, reopen, escalate, reassign, change
        urgency, title or priority."""
        user = self._requester(request)
        changes = self._body_object(request, "incident")
        incident = self._find_incident(args[0])
        rendered = self._change(
            request, incident, lambda working: self.incidents.update(working, changes, user)
        )
        return Reply(200, {"incident": rendered}, applied=True)

    def _update_incidents(self, request: Request, args: list[str]) -> Reply:
        """``PUT /incidents``: update several incidents; each item carries its ``id``."""
        user = self._requester(request)
        body = request.body
        items = body.get("incidents") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise invalid("incidents must be a non-empty array.")
        if len(items) > 250:
            raise fail(413, "Request Entity Too Large", 2001, ["At most 250 incidents at once."])
        updated = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise invalid("Each incident needs an id.")
            incident = self._find_incident(item["id"])
            changes = {k: v for k, v in item.items() if k != "id"}
            updated.append(
                self._change(
                    request,
                    incident,
                    functools.partial(self.incidents.update, changes=changes, user=user),
                )
            )
        return Reply(200, {"incidents": updated}, applied=True)

    def _create_incident(self, request: Request, args: list[str]) -> Reply:
        """``POST /incidents``: open an incident on a service, under its own, lower rate limit."""
        if self.create_limiter.limit is not None:
            allowed, headers = self.create_limiter.take(self._api_key(request) or "")
            if not allowed:
                raise ApiError(
                    429,
                    error_body(
                        429,
                        errors=[
                            "Incident creation is rate limited per account, far below the "
                            "general limit: retry after ratelimit-reset seconds."
                        ],
                    ),
                    headers,
                )
        user = self._requester(request)
        data = self._body_object(request, "incident")
        incident = self.incidents.create(data, user)
        return Reply(201, {"incident": self._render(incident, request)}, applied=True)

    def _snooze(self, request: Request, args: list[str]) -> Reply:
        """``POST /incidents/{id}/snooze``: snooze an acknowledged incident (201)."""
        self._requester(request)
        incident = self._find_incident(args[0])
        body = request.body if isinstance(request.body, dict) else {}
        duration = body.get("duration")
        at = now_iso()
        rendered = self._change(
            request, incident, lambda working: self.incidents.snooze(working, duration, at)
        )
        return Reply(201, {"incident": rendered}, applied=True)

    def _list_notes(self, request: Request, args: list[str]) -> Reply:
        """``GET /incidents/{id}/notes``: the incident's notes, oldest first."""
        incident = self._find_incident(args[0])
        return Reply(200, {"notes": copy.deepcopy(self.pd["notes"][incident["id"]])})

    def _create_note(self, request: Request, args: list[str]) -> Reply:
        """``POST /incidents/{id}/notes``: add a note to an incident, whatever its status."""
        user = self._requester(request)
        incident = self._find_incident(args[0])
        note = self._body_object(request, "note")
        if not isinstance(note.get("content"), str) or not note["content"]:
            raise invalid("Note content is required.")
        notes = self.pd["notes"][incident["id"]]
        if len(notes) >= 2000:
            raise invalid("An incident holds at most 2000 notes.")
        created = {
            "id": new_note_id(),
            "user": self.incidents.user_ref(user),
            "channel": {"summary": "The PagerDuty website or APIs"},
            "content": note["content"],
            "created_at": now_iso(),
        }
        notes.append(created)
        return Reply(200, {"note": copy.deepcopy(created)}, applied=True)

    # -- account -----------------------------------------------------------------------------

    def _list_priorities(self, request: Request, args: list[str]) -> Reply:
        """``GET /priorities``: most to least severe; none when ``empty``, 402 when ``disabled``."""
        mode = self.pd["priorities_mode"]
        if mode == "disabled":
            raise fail(402, errors=["Priorities are not enabled on this account."])
        priorities = list(self.pd["priorities"].values()) if mode == "enabled" else []
        return self._page(request, "priorities", priorities)

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

    def _get_user(self, request: Request, args: list[str]) -> Reply:
        """``GET /users/{id}``: the user; unknown: 404."""
        user = self.pd["users"].get(args[0])
        if user is None:
            raise fail(404, "Not Found", 2100)
        return Reply(200, {"user": copy.deepcopy(user)})

    def _list_users(self, request: Request, args: list[str]) -> Reply:
        """``GET /users``: the users whose name or email contains ``query`` (ignoring case),
        sorted by name: an exact email match may come after near misses, on a later page."""
        query = request.query.get("query", [""])[-1].lower()
        users = sorted(
            (
                u
                for u in self.pd["users"].values()
                if query in u["name"].lower() or query in u["email"].lower()
            ),
            key=lambda u: (u["name"].lower(), u["id"]),
        )
        return self._page(request, "users", users)


def new_note_id() -> str:
    """Return a note id as PagerDuty makes them (uppercase letters and digits)."""
    return new_id("P", 14)
