"""The Port blueprints a real organisation may hold for PagerDuty, in both known shapes.

``guide``: what Port's PagerDuty guides ask a user to create (``responder``, a ``many: true``
service relation). ``integration``: what Port's PagerDuty integration creates (``assignees``,
``priority``, ``description``, ``triggered_by`` and a ``many: false`` service relation), plus
its user, schedule, on-call and escalation-policy blueprints.
"""

from __future__ import annotations

import copy
from typing import Any

SHAPES = ("guide", "integration")

Blueprint = dict[str, Any]

_STATUS_COLORS = {
    "active": "green",
    "warning": "yellow",
    "critical": "red",
    "maintenance": "lightGray",
    "disabled": "darkGray",
}
_INCIDENT_STATUSES = [
    "triggered",
    "annotated",
    "acknowledged",
    "reassigned",
    "escalated",
    "reopened",
    "resolved",
]
_INCIDENT_STATUS_COLORS = {
    "triggered": "red",
    "annotated": "blue",
    "acknowledged": "yellow",
    "reassigned": "blue",
    "escalated": "yellow",
    "reopened": "red",
    "resolved": "green",
}


def _prop(title: str, type_: str = "string", **extra: Any) -> dict[str, Any]:
    """Return a property definition; ``fmt`` becomes ``format``, ``default_icon`` an icon."""
    prop: dict[str, Any] = {"title": title, "type": type_}
    if "fmt" in extra:
        prop["format"] = extra.pop("fmt")
    if extra.pop("default_icon", False):
        prop["icon"] = "DefaultProperty"
    prop.update(extra)
    return prop


def _user_list(title: str) -> dict[str, Any]:
    """Return an array-of-users property."""
    return _prop(title, "array", items={"type": "string", "format": "user"})


def _blueprint(
    identifier: str,
    title: str,
    description: str,
    properties: dict[str, Any],
    relations: dict[str, Any] | None = None,
    *,
    aggregation: bool = True,
) -> Blueprint:
    """Return a blueprint definition as Port's API takes it."""
    blueprint: Blueprint = {
        "identifier": identifier,
        "description": (
            f"This blueprint represents a PagerDuty {description} in our software catalog"
        ),
        "title": title,
        "icon": "pagerduty",
        "schema": {"properties": properties, "required": []},
        "mirrorProperties": {},
        "calculationProperties": {},
    }
    if aggregation:
        blueprint["aggregationProperties"] = {}
    blueprint["relations"] = relations or {}
    return blueprint


def _relation(title: str, target: str, *, many: bool) -> dict[str, Any]:
    """Return a relation definition."""
    return {"title": title, "target": target, "required": False, "many": many}


def _service(*, integration: bool) -> Blueprint:
    """Return the ``pagerdutyService`` blueprint (the integration adds two properties)."""
    props: dict[str, Any] = {
        "status": _prop("Status", enum=list(_STATUS_COLORS), enumColors=dict(_STATUS_COLORS)),
        "url": _prop("URL", fmt="url"),
        "oncall": _prop("On Call", fmt="user"),
    }
    if integration:
        props["secondaryOncall"] = _prop("Secondary On Call", fmt="user")
        props["escalationLevels"] = _prop("Escalation Levels", "number")
    props["meanSecondsToResolve"] = _prop("Mean Seconds to Resolve", "number")
    props["meanSecondsToFirstAck"] = _prop("Mean Seconds to First Acknowledge", "number")
    props["meanSecondsToEngage"] = _prop("Mean Seconds to Engage", "number")
    return _blueprint("pagerdutyService", "PagerDuty Service", "service", props, aggregation=False)


def _incident(*, integration: bool) -> Blueprint:
    """Return the ``pagerdutyIncident`` blueprint in one of the two shapes."""
    status = _prop("Incident Status", enum=list(_INCIDENT_STATUSES))
    urgency = _prop("Incident Urgency", enum=["high", "low"])
    props: dict[str, Any] = {"status": status, "url": _prop("Incident URL", fmt="url")}
    if integration:
        status["enumColors"] = dict(_INCIDENT_STATUS_COLORS)
        urgency["enumColors"] = {"high": "red", "low": "green"}
        priorities = ["P1", "P2", "P3", "P4", "P5"]
        colors = ["red", "yellow", "blue", "lightGray", "darkGray"]
        props["urgency"] = urgency
        props["priority"] = _prop(
            "Priority", enum=priorities, enumColors=dict(zip(priorities, colors, strict=True))
        )
        props["description"] = _prop("Description")
        props["assignees"] = _user_list("Assignees")
    else:
        props["urgency"] = urgency
        props["responder"] = _prop("Assignee")
    props["escalation_policy"] = _prop("Escalation Policy")
    props["created_at"] = _prop("Created At" if integration else "Create At", fmt="date-time")
    props["updated_at"] = _prop("Updated At", fmt="date-time")
    if integration:
        props["triggered_by"] = _prop("Triggered By")
    relations = {
        "pagerdutyService": _relation("PagerDuty Service", "pagerdutyService", many=not integration)
    }
    return _blueprint(
        "pagerdutyIncident",
        "PagerDuty Incident",
        "incident",
        props,
        relations,
        aggregation=False,
    )


def _integration_extras() -> list[Blueprint]:
    """Return the user, schedule, on-call and escalation-policy blueprints of the integration."""
    roles = [
        "admin",
        "user",
        "observer",
        "limited_user",
        "owner",
        "read_only_user",
        "restricted_access",
        "read_only_limited_user",
    ]
    string_list = {"type": "string"}
    user = _blueprint(
        "pagerdutyUser",
        "PagerDuty User",
        "user",
        {
            "role": _prop("Role", enum=roles, default_icon=True),
            "url": _prop("User URL", fmt="url", default_icon=True),
            "job_title": _prop("Job Title", default_icon=True),
            "contact_methods": _prop(
                "Contact Methods", "array", default_icon=True, items=string_list
            ),
            "description": _prop("Description"),
            "teams": _prop("Teams", "array", default_icon=True, items=dict(string_list)),
            "time_zone": _prop("Time Zone", default_icon=True),
            "email": _prop("Email", fmt="user"),
        },
    )
    schedule = _blueprint(
        "pagerdutySchedule",
        "PagerDuty Schedule",
        "schedule",
        {
            "url": _prop("Schedule URL", fmt="url"),
            "timezone": _prop("Timezone"),
            "description": _prop("Description"),
            "users": _user_list("Users"),
        },
    )
    oncall = _blueprint(
        "pagerdutyOncall",
        "PagerDuty Oncall Schedule",
        "oncall schedule",
        {
            "url": _prop("Oncall Schedule URL", fmt="url"),
            "user": _prop("User", fmt="user"),
            "startDate": _prop("Start Date", fmt="date-time"),
            "endDate": _prop("End Date", fmt="date-time"),
        },
        {
            "pagerdutySchedule": _relation("PagerDuty Schedule", "pagerdutySchedule", many=True),
            "pagerdutyEscalationPolicy": _relation(
                "Escalation Policy", "pagerdutyEscalationPolicy", many=False
            ),
        },
    )
    policy = _blueprint(
        "pagerdutyEscalationPolicy",
        "PagerDuty Escalation Policy",
        "escalation policy",
        {
            "url": _prop("URL", fmt="url"),
            "summary": _prop("Summary"),
            "primaryOncall": _prop("Primary Oncall", fmt="user"),
            "escalationRules": _prop("Escalation Rules", "array", items={"type": "object"}),
        },
    )
    return [user, schedule, oncall, policy]


def blueprints_for(shape: str) -> list[Blueprint]:
    """Return fresh copies of the blueprints of ``shape`` (``guide`` or ``integration``)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown blueprint shape {shape!r}: use one of {', '.join(SHAPES)}")
    if shape == "guide":
        return [_incident(integration=False), _service(integration=False)]
    return copy.deepcopy(
        [_service(integration=True), _incident(integration=True), *_integration_extras()]
    )
