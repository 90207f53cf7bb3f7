"""The Port blueprints a real organisation may hold for PagerDuty, in both known shapes.

Both are made from the kit's blueprints (``escalator/kit/data/blueprints.json``), with what the
organisation holds in their place. ``guide``: what Port's PagerDuty guides ask a user to create
(``responder``, a ``many: true`` service relation; the guide's descriptions and titles).
``integration``: what Port's PagerDuty integration creates (``assignees``, ``priority``,
``description``, ``triggered_by`` and a ``many: false`` service relation), plus its user,
schedule, on-call and escalation-policy blueprints.
"""

from __future__ import annotations

from typing import Any

from escalator.kit import definitions

SHAPES = ("guide", "integration")

Blueprint = dict[str, Any]

_DESCRIPTION = "This blueprint represents a PagerDuty {noun} in our software catalog"

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
) -> Blueprint:
    """Return one of the integration's other blueprints, as Port's API takes it."""
    return {
        "identifier": identifier,
        "description": _DESCRIPTION.format(noun=description),
        "title": title,
        "icon": "pagerduty",
        "schema": {"properties": properties, "required": []},
        "mirrorProperties": {},
        "calculationProperties": {},
        "aggregationProperties": {},
        "relations": relations or {},
    }


def _relation(title: str, target: str, *, many: bool) -> dict[str, Any]:
    """Return a relation definition."""
    return {"title": title, "target": target, "required": False, "many": many}


def _catalog_description(blueprint: Blueprint) -> None:
    """Give ``blueprint`` the description the guide and the integration both use."""
    noun = blueprint["identifier"].removeprefix("pagerduty").lower()
    blueprint["description"] = _DESCRIPTION.format(noun=noun)


def _as_guide(service: Blueprint, incident: Blueprint) -> None:
    """Turn the kit's blueprints into the guide's: its descriptions and titles, fewer colours."""
    for blueprint in (service, incident):
        _catalog_description(blueprint)
    props = incident["schema"]["properties"]
    del props["url"]["description"]
    del props["urgency"]["enumColors"]
    props["created_at"]["title"] = "Create At"  # sic: the guide's own title


def _after(props: dict[str, Any], key: str, extra: dict[str, Any]) -> dict[str, Any]:
    """``props`` with ``extra`` inserted right after ``key``."""
    result: dict[str, Any] = {}
    for name, value in props.items():
        result[name] = value
        if name == key:
            result |= extra
    return result


def _as_integration(service: Blueprint, incident: Blueprint) -> None:
    """Turn the kit's blueprints into the integration's: more properties, a single relation."""
    for blueprint in (service, incident):
        _catalog_description(blueprint)
    service["schema"]["properties"] = _after(
        service["schema"]["properties"],
        "oncall",
        {
            "secondaryOncall": _prop("Secondary On Call", fmt="user"),
            "escalationLevels": _prop("Escalation Levels", "number"),
        },
    )
    props = incident["schema"]["properties"]
    del props["url"]["description"]
    del props["responder"]
    props["status"]["enumColors"] = dict(_INCIDENT_STATUS_COLORS)
    props["urgency"]["enumColors"] = {"high": "red", "low": "green"}
    priorities = ["P1", "P2", "P3", "P4", "P5"]
    colors = ["red", "yellow", "blue", "lightGray", "darkGray"]
    incident["schema"]["properties"] = _after(
        props,
        "urgency",
        {
            "priority": _prop(
                "Priority", enum=priorities, enumColors=dict(zip(priorities, colors, strict=True))
            ),
            "description": _prop("Description"),
            "assignees": _user_list("Assignees"),
        },
    ) | {"triggered_by": _prop("Triggered By")}
    incident["relations"]["pagerdutyService"]["many"] = False


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
    kit = {blueprint["identifier"]: blueprint for blueprint in definitions.blueprints()}
    service = kit[definitions.SERVICE_BLUEPRINT]
    incident = kit[definitions.INCIDENT_BLUEPRINT]
    if shape == "guide":
        _as_guide(service, incident)
        return [incident, service]
    _as_integration(service, incident)
    return [service, incident, *_integration_extras()]
