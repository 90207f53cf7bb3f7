"""The fake PagerDuty on-call side: schedules, their overrides, and who is on call (``/oncalls``).

Every v2 schedule has one layer: a weekly rotation of its one seeded user, handing over on
Mondays at 00:00 UTC; overrides lie on top, the newest winning. ``/oncalls`` walks every
escalation policy and lists what PagerDuty would: one entry per policy, level and shift (the
shift's own start and end), direct user targets with no schedule and null times, the last level
first (so ``oncalls[0]`` is not the primary). A schedule no policy uses is absent from
``/oncalls``, as in PagerDuty: its final schedule tells who is on it. A shift-based (v3)
schedule refuses the v2 endpoints.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from escalator.sandbox.listing import includes, iso, page, parse_time, reference
from escalator.sandbox.pagerduty_errors import fail, invalid
from escalator.sandbox.wire import Reply, Request, new_id

State = dict[str, Any]
Route = Callable[[Request, list[str]], Reply]

WEEK = dt.timedelta(days=7)
HORIZON = dt.timedelta(days=90)
V3_REFUSAL = "Shift-based schedules use the V3 API and are not compatible with V2 automations"
V3_SCHEDULE_ID = "PSC5SFT"
UNUSED_SCHEDULE_ID = "PSC9REL"
#: Internal fields of a stored schedule, never answered.
INTERNAL = ("oncall_user", "shift_based")


def week_start(at: dt.datetime) -> dt.datetime:
    """Return the Monday 00:00 UTC that starts the rotation week holding ``at``."""
    day = at.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - dt.timedelta(days=day.weekday())


def complete_schedules(pd: State, now: dt.datetime) -> None:
    """Turn the seeded schedules into full ones and seed their overrides (all in the future)."""
    for schedule in pd["schedules"].values():
        policies = [
            reference(policy)
            for policy in pd["escalation_policies"].values()
            if any(
                target["id"] == schedule["id"]
                for rule in policy["escalation_rules"]
                for target in rule["targets"]
            )
        ]
        user = pd["users"][schedule["oncall_user"]]
        schedule |= {
            "time_zone": "Etc/UTC",
            "description": f"Weekly rotation: {schedule['name']}",
            "escalation_policies": policies,
            "users": [reference(user)],
            "teams": [],
            "shift_based": schedule["id"] == V3_SCHEDULE_ID,
        }
    start = week_start(now) + WEEK + dt.timedelta(days=2, hours=9)
    pd["overrides"] = {schedule_id: [] for schedule_id in pd["schedules"]}
    for override_id, schedule_id, user_id, offset in (
        ("PO7PAY1", "PSC7PAY", "PD8RZ2N", dt.timedelta()),
        ("PO4PLT1", "PSC4PLT", "PY6HT3C", dt.timedelta(days=1)),
    ):
        pd["overrides"][schedule_id].append(
            {
                "id": override_id,
                "start": iso(start + offset),
                "end": iso(start + offset + dt.timedelta(hours=8)),
                "user": reference(pd["users"][user_id]),
            }
        )


def _segments(
    pd: State, schedule_id: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, str, str]]:
    """Return the final schedule from ``since`` to ``until``: (start, end, user id, source).

    The source is the base week or the override that gives the segment; adjacent segments of
    one source are one entry."""
    schedule = pd["schedules"][schedule_id]
    overrides = [
        (parse_time(o["start"]), parse_time(o["end"]), o["user"]["id"], o["id"])
        for o in pd["overrides"].get(schedule_id, [])
    ]
    cuts = {since, until}
    week = week_start(since)
    while week < until:
        cuts.add(max(week, since))
        week += WEEK
    cuts |= {t for start, end, _, _ in overrides for t in (start, end) if since < t < until}
    ordered = sorted(cuts)
    found: list[tuple[dt.datetime, dt.datetime, str, str]] = []
    for start, end in itertools.pairwise(ordered):
        covering = [o for o in overrides if o[0] <= start and end <= o[1]]
        if covering:
            user, source = covering[-1][2], covering[-1][3]
        else:
            user, source = schedule["oncall_user"], f"week-{iso(week_start(start))}"
        if found and found[-1][3] == source and found[-1][1] == start:
            found[-1] = (found[-1][0], end, user, source)
        else:
            found.append((start, end, user, source))
    return found


def shifts(
    pd: State, schedule_id: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """Return the whole shifts (not cut at the window) that overlap ``since``..``until``."""
    wide = _segments(pd, schedule_id, week_start(since) - WEEK, week_start(until) + 2 * WEEK)
    return [
        (start, end, user)
        for start, end, user, _ in wide
        if start <= until and end > since and (start < until or start == since == until)
    ]


def oncall_entries(pd: State, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Return every on-call from ``since`` to ``until``: policies in reverse seed order, each
    policy's last level first, as references."""
    entries = []
    for policy in reversed(list(pd["escalation_policies"].values())):
        rules = list(enumerate(policy["escalation_rules"], start=1))
        for level, rule in reversed(rules):
            for target in rule["targets"]:
                base = {"escalation_policy": reference(policy), "escalation_level": level}
                if target["type"] == "user_reference":
                    user = pd["users"][target["id"]]
                    entries.append(
                        base
                        | {"user": reference(user), "schedule": None, "start": None, "end": None}
                    )
                    continue
                schedule = pd["schedules"][target["id"]]
                for start, end, user_id in shifts(pd, schedule["id"], since, until):
                    entries.append(
                        base
                        | {
                            "user": reference(pd["users"][user_id]),
                            "schedule": reference(schedule),
                            "start": iso(start),
                            "end": iso(end),
                        }
                    )
    return entries


def render_schedule(pd: State, schedule: dict[str, Any]) -> dict[str, Any]:
    """Return a schedule as answered, without rendered entries and internal fields."""
    rendered = {k: copy.deepcopy(v) for k, v in schedule.items() if k not in INTERNAL}
    virtual_start = iso(week_start(parse_time("2025-11-03T00:00:00Z")))
    rendered["schedule_layers"] = [
        {
            "id": f"L{schedule['id'][1:]}",
            "name": "Layer 1",
            "start": virtual_start,
            "end": None,
            "rotation_virtual_start": virtual_start,
            "rotation_turn_length_seconds": int(WEEK.total_seconds()),
            "users": [{"user": copy.deepcopy(u)} for u in schedule["users"]],
            "restrictions": [],
        }
    ]
    for name in ("final_schedule", "overrides_subschedule"):
        title = "Final Schedule" if name == "final_schedule" else "Overrides"
        rendered[name] = {
            "name": title,
            "rendered_schedule_entries": [],
            "rendered_coverage_percentage": None,
        }
    return rendered


class Schedules:
    """Serves ``/oncalls`` and ``/schedules/...`` against ``state()["pagerduty"]``."""

    def __init__(self, state: Callable[[], State], clock: Callable[[], dt.datetime]) -> None:
        """Read the account from ``state()``; ``clock`` gives now (UTC)."""
        self._state = state
        self._clock = clock

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def routes(self) -> list[tuple[str, str, Route]]:
        """The (method, path pattern, handler) of every route served here."""
        return [
            ("GET", r"/oncalls", self._list_oncalls),
            ("GET", r"/schedules/([^/]+)", self._get_schedule),
            ("GET", r"/schedules/([^/]+)/overrides", self._list_overrides),
            ("POST", r"/schedules/([^/]+)/overrides", self._create_overrides),
            ("DELETE", r"/schedules/([^/]+)/overrides/([^/]+)", self._delete_override),
        ]

    def _schedule(self, schedule_id: str) -> dict[str, Any]:
        """Return a v2 schedule: 404/3004 unknown, 400/3001 shift-based."""
        schedule = self.pd["schedules"].get(schedule_id)
        if schedule is None:
            raise fail(404, "Schedule Not Found", 3004, [f"Schedule {schedule_id} not found."])
        if schedule["shift_based"]:
            raise fail(400, "Invalid Schedule", 3001, [V3_REFUSAL])
        return schedule  # type: ignore[no-any-return]

    def _times(
        self, query: dict[str, list[str]], *, required: bool, spread: dt.timedelta | None = None
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """Return ``since`` and ``until`` (None when both absent and not required) or raise 400.

        One given alone puts the other ``spread`` away (none: now)."""
        if "since" not in query and "until" not in query and not required:
            return None
        if required and not ("since" in query and "until" in query):
            raise invalid("since and until are required.")
        now = self._clock()
        try:
            since = parse_time(query["since"][-1]) if "since" in query else None
            until = parse_time(query["until"][-1]) if "until" in query else None
        except ValueError:
            raise fail(
                400, "Invalid time values in 'since' and/or 'until' parameters", 2004
            ) from None
        gap = spread or dt.timedelta()
        since = since or ((until - gap) if (until and spread) else now)
        until = until or (since + gap if spread else now)
        if until < since:
            raise invalid("until must not be before since.")
        return since, until

    # -- on-calls ------------------------------------------------------------------------------

    def _list_oncalls(self, request: Request, args: list[str]) -> Reply:
        """``GET /oncalls``: filtered by ``schedule_ids[]``, ``escalation_policy_ids[]``,
        ``user_ids[]``, the window (``since``/``until``, default now) and ``earliest``."""
        query = request.query
        window = self._times(query, required=False) or (self._clock(), self._clock())
        since, until = window
        if until > self._clock() + HORIZON:
            raise invalid("until is limited to 90 days in the future.")
        wanted = {
            name: set(query.get(f"{name}[]", []))
            for name in ("schedule_ids", "escalation_policy_ids", "user_ids")
        }
        entries = [entry for entry in oncall_entries(self.pd, since, until) if _keep(entry, wanted)]
        if request.flag("earliest"):
            entries = _earliest(entries)
        extra = includes(request)
        for entry in entries:
            if "users" in extra:
                entry["user"] = copy.deepcopy(self.pd["users"][entry["user"]["id"]])
            if "escalation_policies" in extra:
                policy = self.pd["escalation_policies"][entry["escalation_policy"]["id"]]
                entry["escalation_policy"] = copy.deepcopy(policy)
            if "schedules" in extra and entry["schedule"] is not None:
                schedule = self.pd["schedules"][entry["schedule"]["id"]]
                entry["schedule"] = render_schedule(self.pd, schedule)
        return page(request, "oncalls", entries)

    # -- schedules -----------------------------------------------------------------------------

    def _get_schedule(self, request: Request, args: list[str]) -> Reply:
        """``GET /schedules/{id}``: with ``since`` or ``until``, the final schedule's entries
        in that window (the other bound two weeks away), cut at its bounds."""
        schedule = self._schedule(args[0])
        rendered = render_schedule(self.pd, schedule)
        window = self._times(request.query, required=False, spread=dt.timedelta(days=14))
        if window is not None:
            since, until = window
            segments = _segments(self.pd, schedule["id"], since, until)
            final = rendered["final_schedule"]
            final["rendered_schedule_entries"] = [
                {"start": iso(start), "end": iso(end), "user": reference(self.pd["users"][user])}
                for start, end, user, _ in segments
            ]
            final["rendered_coverage_percentage"] = 100.0
            overridden = [seg for seg in segments if not seg[3].startswith("week-")]
            layer = rendered["overrides_subschedule"]
            layer["rendered_schedule_entries"] = [
                {"start": iso(start), "end": iso(end), "user": reference(self.pd["users"][user])}
                for start, end, user, _ in overridden
            ]
            covered = sum((end - start).total_seconds() for start, end, _, _ in overridden)
            length = (until - since).total_seconds()
            layer["rendered_coverage_percentage"] = (
                round(100 * covered / length, 2) if length else 0.0
            )
        return Reply(200, {"schedule": rendered})

    # -- overrides -----------------------------------------------------------------------------

    def _list_overrides(self, request: Request, args: list[str]) -> Reply:
        """``GET /schedules/{id}/overrides?since&until``: the overrides overlapping the window
        (``editable=true``: only future ones, ids only)."""
        schedule = self._schedule(args[0])
        window = self._times(request.query, required=True)
        assert window is not None
        since, until = window
        found = [
            copy.deepcopy(o)
            for o in self.pd["overrides"][schedule["id"]]
            if parse_time(o["start"]) < until and parse_time(o["end"]) > since
        ]
        if request.flag("editable"):
            found = [{"id": o["id"]} for o in found if parse_time(o["start"]) > self._clock()]
        return Reply(200, {"overrides": found})

    def _create_overrides(self, request: Request, args: list[str]) -> Reply:
        """``POST /schedules/{id}/overrides``: the plural body answers 201 with one status per
        item (400 items carry ``errors``); the deprecated singular body ``{"override": ...}``
        answers 201 ``{"override"}`` or a plain 400."""
        schedule = self._schedule(args[0])
        body = request.body if isinstance(request.body, dict) else {}
        if "overrides" not in body and isinstance(body.get("override"), dict):
            problems = self._override_problems(body["override"])
            if problems:
                raise invalid(*problems)
            return Reply(201, {"override": self._add(schedule, body["override"])}, applied=True)
        items = body.get("overrides")
        if not isinstance(items, list) or not items:
            raise invalid("overrides must be a non-empty array.")
        answer = []
        for item in items:
            problems = self._override_problems(item)
            if problems:
                answer.append({"status": 400, "errors": problems, "override": copy.deepcopy(item)})
            else:
                answer.append({"status": 201, "override": self._add(schedule, item)})
        created = any(entry["status"] == 201 for entry in answer)
        return Reply(201, answer, applied=created)

    def _override_problems(self, item: Any) -> list[str]:
        """What PagerDuty refuses in one override item."""
        if not isinstance(item, dict):
            return ["Override must be an object."]
        problems = []
        try:
            start, end = parse_time(str(item["start"])), parse_time(str(item["end"]))
        except (KeyError, ValueError):
            return ["Override must have a valid start and end."]
        if end <= start:
            problems.append("Override must end after its start")
        elif end <= self._clock():
            problems.append("Override must end in the future")
        user = item.get("user")
        if not isinstance(user, dict) or user.get("id") not in self.pd["users"]:
            problems.append("Override user must be a user of this account")
        return problems

    def _add(self, schedule: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        """Store one valid override, newest last (it wins), and return it as answered."""
        created = {
            "id": new_id("Q", 14),
            "start": iso(parse_time(item["start"])),
            "end": iso(parse_time(item["end"])),
            "user": reference(self.pd["users"][item["user"]["id"]]),
        }
        self.pd["overrides"][schedule["id"]].append(created)
        return copy.deepcopy(created)

    def _delete_override(self, request: Request, args: list[str]) -> Reply:
        """``DELETE /schedules/{id}/overrides/{override_id}``: 204 a future one; 200 one under
        way (it now ends now); 400 a past one; 404/4004 an unknown one."""
        schedule = self._schedule(args[0])
        overrides = self.pd["overrides"][schedule["id"]]
        found = next((o for o in overrides if o["id"] == args[1]), None)
        if found is None:
            raise fail(404, "Override Not Found", 4004, [f"Override {args[1]} not found."])
        now = self._clock()
        if parse_time(found["end"]) <= now:
            raise invalid("You cannot remove a past override")
        if parse_time(found["start"]) < now:
            found["end"] = iso(now)
            return Reply(200, {"override": copy.deepcopy(found)}, applied=True)
        overrides.remove(found)
        return Reply(204, None, applied=True)


def _keep(entry: dict[str, Any], wanted: dict[str, set[str]]) -> bool:
    """Whether an on-call entry passes the id filters (an empty filter passes all)."""
    schedule = entry["schedule"]["id"] if entry["schedule"] else None
    checks = (
        ("schedule_ids", schedule),
        ("escalation_policy_ids", entry["escalation_policy"]["id"]),
        ("user_ids", entry["user"]["id"]),
    )
    return all(not wanted[name] or value in wanted[name] for name, value in checks)


def _earliest(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the earliest entry per escalation policy, level and user, in the same order."""
    best: dict[tuple[str, int, str], dict[str, Any]] = {}
    for entry in entries:
        key = (entry["escalation_policy"]["id"], entry["escalation_level"], entry["user"]["id"])
        if key not in best or (entry["start"] or "") < (best[key]["start"] or ""):
            best[key] = entry
    kept = {id(entry) for entry in best.values()}
    return [entry for entry in entries if id(entry) in kept]


def seeded_oncall_entities(pd: State, now: dt.datetime) -> list[dict[str, Any]]:
    """Return the ``pagerdutyOncall`` entities Port's integration would hold now (its mapping:
    identifier ``<user>-<schedule>-<start>``, entries without a schedule left out)."""
    entities: dict[str, dict[str, Any]] = {}
    for entry in oncall_entries(pd, now, now):
        if entry["schedule"] is None:
            continue
        user = pd["users"][entry["user"]["id"]]
        identifier = f"{user['id']}-{entry['schedule']['id']}-{entry['start']}"
        entities[identifier] = {
            "identifier": identifier,
            "title": user["name"],
            "icon": "pagerduty",
            "team": [],
            "properties": {
                "user": user["email"],
                "startDate": entry["start"],
                "endDate": entry["end"],
                "url": entry["schedule"]["html_url"],
            },
            "relations": {
                "pagerdutySchedule": entry["schedule"]["id"],
                "pagerdutyEscalationPolicy": entry["escalation_policy"]["id"],
            },
        }
    return list(entities.values())


def schedule_entity(pd: State, schedule: dict[str, Any]) -> dict[str, Any]:
    """Return the ``pagerdutySchedule`` entity as Port's integration maps a schedule."""
    return {
        "identifier": schedule["id"],
        "title": schedule["name"],
        "icon": "pagerduty",
        "team": [],
        "properties": {
            "url": schedule["html_url"],
            "timezone": schedule["time_zone"],
            "description": schedule["description"],
            "users": [pd["users"][u["id"]]["email"] for u in schedule["users"]],
        },
        "relations": {},
    }
