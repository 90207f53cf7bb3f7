"""How the fake PagerDuty account's incidents change: status, assignment, escalation, priority,
snooze and creation, with PagerDuty's rules and error codes.

Callers validate and apply a change on a copy of the incident and keep it only when no
:class:`~escalator.sandbox.wire.ApiError` was raised, so a refused request changes nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable
from typing import Any, TypeGuard

from escalator.sandbox.pagerduty_errors import fail, invalid
from escalator.sandbox.seed import Links, State, assignment, level_user
from escalator.sandbox.wire import new_id, now_iso

STATUSES = ("triggered", "acknowledged", "resolved")
MAX_SNOOZE = 604800
DUPLICATE_KEY = "Open incident with matching dedup key already exists on this service"


def iso_after(seconds: float) -> str:
    """Return the UTC time ``seconds`` from now, as PagerDuty prints it."""
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_reference(value: Any, *types: str) -> TypeGuard[dict[str, Any]]:
    """Whether ``value`` is an object with a string ``id`` and one of ``types``."""
    return (
        isinstance(value, dict) and isinstance(value.get("id"), str) and value.get("type") in types
    )


class Incidents:
    """Applies PagerDuty's incident rules to ``state()["pagerduty"]``."""

    def __init__(
        self,
        state: Callable[[], State],
        links: Callable[[], Links],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Read the account from ``state()``; ``clock`` (epoch seconds) ends snoozes."""
        self._state = state
        self._links = links
        self._clock = clock

    @property
    def pd(self) -> State:
        """The PagerDuty part of the current state."""
        return self._state()["pagerduty"]  # type: ignore[no-any-return]

    def user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        """Return a ``user_reference`` to ``user``."""
        return self._links().reference("user", user["id"], user["name"])

    # -- assignment ----------------------------------------------------------------------------

    def assign_level(self, incident: dict[str, Any], level: int, at: str) -> None:
        """Assign an incident to level ``level`` of its policy and remember that level."""
        user_id = level_user(self.pd, incident["escalation_policy"]["id"], level)
        incident["assignments"] = [assignment(self.pd, self._links(), user_id, at)]
        incident["assigned_via"] = "escalation_policy"
        self.pd["escalation_levels"][incident["id"]] = level

    def _retrigger(self, incident: dict[str, Any], at: str) -> None:
        """A reassigned acknowledged incident is triggered again and pages its new assignees."""
        self.end_snooze(incident)
        if incident["status"] == "acknowledged":
            incident["status"] = "triggered"
            incident["acknowledgements"] = []
            incident["last_status_change_at"] = at
        if incident["status"] == "triggered":
            incident["pending_actions"] = self._escalate_pending(incident)

    def _escalate_pending(self, incident: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the pending escalation of a triggered incident (none for low urgency)."""
        if incident["urgency"] != "high" or incident["assigned_via"] == "direct_assignment":
            return []
        policy = self.pd["escalation_policies"][incident["escalation_policy"]["id"]]
        level = self.pd["escalation_levels"].get(incident["id"], 1)
        delay = policy["escalation_rules"][level - 1]["escalation_delay_in_minutes"]
        return [{"type": "escalate", "at": iso_after(delay * 60)}]

    def _assignees(self, value: Any, problems: list[str]) -> list[str]:
        """Return the user ids of an ``assignments`` list; note shape problems; 1007 for ids."""
        if not isinstance(value, list) or not value:
            problems.append("Assignments must be a non-empty array of user references.")
            return []
        ids = []
        for item in value:
            assignee = item.get("assignee") if isinstance(item, dict) else None
            if not is_reference(assignee, "user_reference", "user"):
                problems.append("Each assignment needs an assignee user_reference with an id.")
                return []
            ids.append(assignee["id"])
        return ids

    def _check_assignees(self, ids: list[str]) -> None:
        """Raise 1007 when an assignee is no user of the account."""
        unknown = [i for i in ids if i not in self.pd["users"]]
        if unknown:
            raise fail(
                400,
                "Assigned To User Not Found",
                1007,
                [f"User {i} not found." for i in unknown],
            )

    def _assign_users(self, incident: dict[str, Any], ids: list[str], at: str) -> None:
        """Assign the incident directly to these users."""
        links = self._links()
        incident["assignments"] = [assignment(self.pd, links, user_id, at) for user_id in ids]
        incident["assigned_via"] = "direct_assignment"

    # -- status ----------------------------------------------------------------------------------

    def _set_status(
        self, incident: dict[str, Any], status: str, user: dict[str, Any], at: str
    ) -> None:
        """Move an incident to ``status`` the way PagerDuty does."""
        previous = incident["status"]
        if status == previous == "resolved":
            raise fail(400, "Incident Already Resolved", 1001, ["Incident is already resolved."])
        if status == previous == "acknowledged":
            if not self.snoozed(incident):
                raise fail(
                    400,
                    "Incident Already Acknowledged",
                    1002,
                    ["Incident is already acknowledged."],
                )
        elif status == previous:
            return
        self.end_snooze(incident)
        user_ref = self.user_ref(user)
        if status == "resolved":
            incident |= {
                "assignments": [],
                "acknowledgements": [],
                "pending_actions": [],
                "resolved_at": at,
            }
        elif status == "acknowledged":
            # Acknowledging takes ownership (observed, not documented); a resolved incident
            # reopens acknowledged and assigned to the requester, as the specification says.
            incident["resolved_at"] = None
            incident["assignments"] = [assignment(self.pd, self._links(), user["id"], at)]
            incident["acknowledgements"] = [{"at": at, "acknowledger": user_ref}]
            timeout = self.pd["services"][incident["service"]["id"]]["acknowledgement_timeout"]
            incident["pending_actions"] = (
                [{"type": "unacknowledge", "at": iso_after(timeout)}] if timeout else []
            )
        else:
            if previous == "resolved":
                incident["resolved_at"] = None
                self.assign_level(incident, 1, at)
            incident["acknowledgements"] = []
            incident["status"] = status
            incident["pending_actions"] = self._escalate_pending(incident)
        incident["last_status_change_at"] = at
        incident["last_status_change_by"] = user_ref
        incident["status"] = status

    # -- update ----------------------------------------------------------------------------------

    def update(
        self, incident: dict[str, Any], changes: dict[str, Any], user: dict[str, Any]
    ) -> None:
        """Validate and apply one incident update (the ``incident`` object of a PUT)."""
        problems = self._update_problems(incident, changes)
        assignees = (
            self._assignees(changes["assignments"], problems) if "assignments" in changes else []
        )
        if problems:
            raise invalid(*problems)
        self._check_assignees(assignees)
        policy_ref = changes.get("escalation_policy")
        if policy_ref is not None and policy_ref["id"] not in self.pd["escalation_policies"]:
            raise fail(
                400,
                "Escalation Policy Not Found",
                1014,
                [f"Escalation policy {policy_ref['id']} not found."],
            )
        at = now_iso()
        self._apply_fields(incident, changes)
        if "status" in changes:
            self._set_status(incident, changes["status"], user, at)
        self._check_reassignable(incident, changes)
        if policy_ref is not None:
            policy = self.pd["escalation_policies"][policy_ref["id"]]
            incident["escalation_policy"] = self._links().reference(
                "escalation_policy", policy["id"], policy["name"]
            )
            self.assign_level(incident, 1, at)
        if changes.get("escalation_level") is not None:
            self.assign_level(incident, max(changes["escalation_level"], 1), at)
        if "assignments" in changes:
            self._assign_users(incident, assignees, at)
        moved = policy_ref is not None or "assignments" in changes or "escalation_level" in changes
        if moved and changes.get("status") != "acknowledged":
            self._retrigger(incident, at)
        if changes.get("status") == "resolved" and "resolution" in changes:
            self.pd["resolutions"].setdefault(incident["id"], []).append(changes["resolution"])
        incident["updated_at"] = at

    def _apply_fields(self, incident: dict[str, Any], changes: dict[str, Any]) -> None:
        """Apply urgency, title and priority."""
        if "urgency" in changes:
            incident["urgency"] = changes["urgency"]
            if changes["urgency"] == "low":
                incident["pending_actions"] = [
                    p for p in incident["pending_actions"] if p["type"] != "escalate"
                ]
        if "title" in changes:
            incident["title"] = changes["title"]
            incident["summary"] = f"[#{incident['incident_number']}] {changes['title']}"
        if "priority" in changes:
            incident["priority"] = self.priority(changes["priority"], by_name=True)

    def _check_reassignable(self, incident: dict[str, Any], changes: dict[str, Any]) -> None:
        """Refuse escalating (1006) or reassigning (1011) an incident that stays resolved, and
        escalating a low-urgency one (1006)."""
        if changes.get("escalation_level") is not None:
            if incident["status"] == "resolved":
                raise fail(
                    400,
                    "Incident cannot be escalated",
                    1006,
                    ["A resolved incident cannot be escalated."],
                )
            if incident["urgency"] == "low":
                raise fail(
                    400,
                    "Incident cannot be escalated",
                    1006,
                    ["A low-urgency incident cannot be escalated."],
                )
        reassigning = changes.get("escalation_policy") is not None or "assignments" in changes
        if reassigning and incident["status"] == "resolved":
            raise fail(
                400,
                "Cannot process reassign action",
                1011,
                ["A resolved incident cannot be reassigned: reopen it first."],
            )

    def _update_problems(self, incident: dict[str, Any], changes: dict[str, Any]) -> list[str]:
        """Return what is invalid in an incident update, as PagerDuty's ``errors`` list."""
        problems: list[str] = []
        if changes.get("type") not in {"incident", "incident_reference"}:
            problems.append("Incident type must be 'incident' or 'incident_reference'.")
        if "status" in changes and changes["status"] not in STATUSES:
            problems.append("Status must be one of triggered, acknowledged, resolved.")
        if "urgency" in changes and changes["urgency"] not in {"high", "low"}:
            problems.append("Urgency must be 'high' or 'low'.")
        for name in ("title", "resolution"):
            if name in changes and not isinstance(changes[name], str):
                problems.append(f"{name.capitalize()} must be a string.")
        policy = changes.get("escalation_policy")
        if policy is not None and not is_reference(
            policy, "escalation_policy_reference", "escalation_policy"
        ):
            problems.append("Escalation policy must be an escalation_policy_reference with an id.")
        if "escalation_level" in changes:
            problems += self._level_problems(incident, changes["escalation_level"], policy)
        if "escalation_level" in changes and "assignments" in changes:
            problems.append("Cannot escalate and assign users in the same request.")
        return problems

    def _level_problems(self, incident: dict[str, Any], level: Any, policy: Any) -> list[str]:
        """Return what is wrong with an ``escalation_level`` for the incident's (new) policy."""
        if not isinstance(level, int) or isinstance(level, bool):
            return ["Escalation level must be an integer."]
        policy_id = policy.get("id") if isinstance(policy, dict) else None
        policy_obj = self.pd["escalation_policies"].get(
            policy_id or incident["escalation_policy"]["id"]
        )
        levels = len(policy_obj["escalation_rules"]) if policy_obj else 0
        if level < 0 or (policy_obj and level > levels):
            return [f"Escalation level must be between 1 and {levels}."]
        return []

    # -- priority --------------------------------------------------------------------------------

    def priority(self, value: Any, *, by_name: bool) -> dict[str, Any] | None:
        """Return the account priority referenced by ``value`` (or named by it, when
        ``by_name``: the most severe of that name); 402/2014 when priorities are disabled."""
        if value is None:
            return None
        if self.pd["priorities_mode"] == "disabled":
            raise fail(402, errors=["Priorities are not enabled on this account."])
        if isinstance(value, str) and not by_name:
            raise invalid("Priority must be a priority_reference with an id.")
        if not isinstance(value, str) and not is_reference(value, "priority_reference", "priority"):
            raise invalid("Priority must be a priority_reference with an id, or a priority name.")
        if self.pd["priorities_mode"] == "enabled":
            for priority in self.pd["priorities"].values():
                if value == priority["name"] or (
                    isinstance(value, dict) and value["id"] == priority["id"]
                ):
                    return copy.deepcopy(priority)  # type: ignore[no-any-return]
        wanted = value if isinstance(value, str) else value["id"]
        raise fail(400, "Invalid Priority", 1020, [f"Priority {wanted} not found."])

    # -- snooze ----------------------------------------------------------------------------------

    def snoozed(self, incident: dict[str, Any]) -> bool:
        """Whether the incident is snoozed now."""
        return incident["id"] in self.pd["snoozes"]

    def end_snooze(self, incident: dict[str, Any]) -> None:
        """Cancel a snooze (a reassignment, a status change or its end does)."""
        if self.pd["snoozes"].pop(incident["id"], None) is not None:
            incident["pending_actions"] = [
                p for p in incident["pending_actions"] if p["type"] != "unacknowledge"
            ]

    def snooze(self, incident: dict[str, Any], duration: Any, at: str) -> None:
        """Snooze an acknowledged incident for ``duration`` seconds (a repeat replaces it)."""
        if isinstance(duration, bool) or not isinstance(duration, int):
            raise fail(400, "Snooze Duration is Invalid", 1013, ["Duration must be an integer."])
        if not 1 <= duration <= MAX_SNOOZE:
            raise fail(
                400,
                "Snooze Duration is Invalid",
                1013,
                [f"Duration must be between 1 and {MAX_SNOOZE} seconds."],
            )
        if incident["status"] != "acknowledged":
            raise fail(
                400,
                "Incident is not Acknowledged",
                1012,
                [f"Only an acknowledged incident snoozes; this one is {incident['status']}."],
            )
        self.end_snooze(incident)
        self.pd["snoozes"][incident["id"]] = self._clock() + duration
        incident["pending_actions"] = [
            p for p in incident["pending_actions"] if p["type"] != "unacknowledge"
        ] + [{"type": "unacknowledge", "at": iso_after(duration)}]
        incident["updated_at"] = at

    def expire_snoozes(self, *, everything: bool = False) -> list[str]:
        """End the snoozes whose time has come (every one with ``everything``): those incidents
        are triggered again. Return their ids."""
        now = self._clock()
        ended = [i for i, until in self.pd["snoozes"].items() if everything or until <= now]
        at = now_iso()
        for incident_id in ended:
            incident = self.pd["incidents"][incident_id]
            self.end_snooze(incident)
            incident |= {"status": "triggered", "acknowledgements": [], "updated_at": at}
            incident["last_status_change_at"] = at
            incident["pending_actions"] = self._escalate_pending(incident)
        return ended

    # -- creation --------------------------------------------------------------------------------

    def create(self, data: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """Validate and open an incident (the ``incident`` object of ``POST /incidents``)."""
        problems = self._create_problems(data)
        assignees = self._assignees(data["assignments"], problems) if "assignments" in data else []
        if len(assignees) > 1:
            problems.append("Only one assignee is supported.")
        if problems:
            raise invalid(*problems)
        service = self._open_service(data["service"]["id"])
        self._check_assignees(assignees)
        policy_ref = data.get("escalation_policy") or service["escalation_policy"]
        policy = self.pd["escalation_policies"].get(policy_ref["id"])
        if policy is None:
            raise fail(
                400,
                "Escalation Policy Not Found",
                1014,
                [f"Escalation policy {policy_ref['id']} not found."],
            )
        key = data.get("incident_key")
        if key is not None and self.holder(service["id"], key) is not None:
            raise fail(400, "Arguments Caused Error", 2002, [DUPLICATE_KEY])
        incident = self._new_incident(data, service, policy, user)
        at = incident["created_at"]
        if assignees:
            self._assign_users(incident, assignees, at)
            self.pd["escalation_levels"][incident["id"]] = 1
        else:
            self.assign_level(incident, 1, at)
        if assignees == [user["id"]]:
            # Assigned to the requester: it starts acknowledged and pages no one.
            incident["status"] = "acknowledged"
            incident["acknowledgements"] = [{"at": at, "acknowledger": self.user_ref(user)}]
        else:
            incident["pending_actions"] = self._escalate_pending(incident)
        return incident

    def holder(self, service_id: str, key: str) -> dict[str, Any] | None:
        """Return the open incident on the service that holds ``key``, or None."""
        for incident in self.pd["incidents"].values():
            if (
                incident["service"]["id"] == service_id
                and incident["incident_key"] == key
                and incident["status"] != "resolved"
            ):
                return incident  # type: ignore[no-any-return]
        return None

    def _open_service(self, service_id: str) -> dict[str, Any]:
        """Return the service incidents are created on: 400/2002 unknown, 400/2001 disabled."""
        service = self.pd["services"].get(service_id)
        if service is None:
            raise fail(400, "Arguments Caused Error", 2002, ["Service not found"])
        if service["status"] == "disabled":
            raise fail(
                400,
                "Incident could not be created",
                2001,
                [f"Service {service_id} is disabled: enable it to create incidents on it."],
            )
        return service  # type: ignore[no-any-return]

    def _create_problems(self, data: dict[str, Any]) -> list[str]:
        """Return what is invalid in a new incident, as PagerDuty's ``errors`` list."""
        problems = []
        if data.get("type") != "incident":
            problems.append("Incident type must be 'incident'.")
        if not isinstance(data.get("title"), str) or not data["title"].strip():
            problems.append("Title cannot be empty.")
        if not is_reference(data.get("service"), "service_reference", "service"):
            problems.append("Service must be a service_reference with an id.")
        if data.get("urgency", "high") not in {"high", "low"}:
            problems.append("Urgency must be 'high' or 'low'.")
        if "incident_key" in data and not isinstance(data["incident_key"], str):
            problems.append("Incident key must be a string.")
        body = data.get("body")
        if body is not None and not (
            isinstance(body, dict)
            and body.get("type") == "incident_body"
            and isinstance(body.get("details", ""), str)
        ):
            problems.append("Body must be an incident_body whose details are a string.")
        policy = data.get("escalation_policy")
        if policy is not None and not is_reference(
            policy, "escalation_policy_reference", "escalation_policy"
        ):
            problems.append("Escalation policy must be an escalation_policy_reference with an id.")
        if policy is not None and "assignments" in data:
            problems.append("Assignments cannot be specified if an escalation policy is given.")
        return problems

    def _new_incident(
        self,
        data: dict[str, Any],
        service: dict[str, Any],
        policy: dict[str, Any],
        user: dict[str, Any],
    ) -> dict[str, Any]:
        """Return a new triggered incident, numbered and stored, before its assignment."""
        links = self._links()
        at = now_iso()
        priority = self.priority(data.get("priority"), by_name=False)
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
            "last_status_change_by": self.user_ref(user),
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
            "priority": priority,
            "urgency": data.get("urgency", "high"),
            "resolve_reason": None,
            "conference_bridge": None,
        }
        self.pd["incidents"][incident_id] = incident
        self.pd["notes"][incident_id] = []
        self.pd["resolutions"][incident_id] = []
        self.pd["bodies"][incident_id] = (data.get("body") or {}).get("details")
        return incident
