"""The Port entity for an incident, shaped by the blueprint the organisation really has.

Two ``pagerdutyIncident`` blueprints exist in the wild: the one in Port's guides (``responder``, a
``many`` relation to the service) and the one Port's PagerDuty integration creates (``assignees``,
``priority``, ``description``, ``triggered_by``, a single relation). Each property the action knows
how to fill is filled the way the integration maps incidents, only when the blueprint declares it;
a value that breaks the property's schema is left out with a warning rather than failing the upsert;
relations are shaped by their ``many``. ``port_property_mapping`` adds or overrides properties for
customised blueprints.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from escalator.clients.models import Incident, PortBlueprint, PortEntity

SERVICE_BLUEPRINT = "pagerdutyService"
SERVICE_RELATION = "pagerdutyService"


def _assignee_emails(incident: Incident) -> list[str] | None:
    emails = [a.assignee.email for a in incident.assignments]
    if any(email is None for email in emails):
        return None  # an assignee without a known email: better left out than half right
    return [email for email in emails if email]


def _triggered_by(incident: Incident) -> str | None:
    entry = incident.first_trigger_log_entry or {}
    agent = entry.get("agent")
    if isinstance(agent, dict):
        summary = agent.get("summary")
        return summary if isinstance(summary, str) else None
    return None


#: Port property -> how the action fills it (the PagerDuty integration's own mapping).
KNOWN_PROPERTIES: Mapping[str, Callable[[Incident], Any]] = {
    "status": lambda i: i.status,
    "url": lambda i: i.html_url,
    "urgency": lambda i: i.urgency,
    "responder": lambda i: i.responder or None,
    "assignees": _assignee_emails,
    "escalation_policy": lambda i: i.policy_name or None,
    "priority": lambda i: i.priority.label if i.priority else None,
    "description": lambda i: i.description,
    "created_at": lambda i: i.created_at,
    "updated_at": lambda i: i.updated_at,
    "triggered_by": _triggered_by,
}

#: Properties whose value None means "not read" rather than "none": left out, never sent as null
#: over what Port holds (the integration fills them from the expanded incident).
UNKNOWN_WHEN_NONE = frozenset({"assignees", "triggered_by"})

#: What is sent when the blueprint could not be read (dry run without Port): the guide's shape.
GUIDE_PROPERTIES = (
    "status",
    "url",
    "urgency",
    "responder",
    "escalation_policy",
    "created_at",
    "updated_at",
)


def merge_expansions(after: Incident, before: Incident) -> Incident:
    """``after`` (a PUT answer, references only) completed with what the expanded read knew:
    assignee emails by user id, and the first trigger log entry."""
    emails = {a.assignee.id: a.assignee.email for a in before.assignments if a.assignee.email}
    data = after.as_json()
    for assignment in data.get("assignments") or []:
        assignee = assignment.get("assignee") or {}
        if not assignee.get("email") and assignee.get("id") in emails:
            assignee["email"] = emails[assignee["id"]]
    if not _triggered_by(after) and before.first_trigger_log_entry:
        data["first_trigger_log_entry"] = before.first_trigger_log_entry
    for key in ("description",):
        if data.get(key) is None and getattr(before, key) is not None:
            data[key] = getattr(before, key)
    return Incident.model_validate(data)


def needs_assignee_emails(blueprint: PortBlueprint | None, incident: Incident) -> bool:
    """True when the blueprint wants assignee emails that the incident does not carry."""
    if blueprint is None or "assignees" not in blueprint.properties:
        return False
    return _assignee_emails(incident) is None


def wants_trigger_agent(blueprint: PortBlueprint | None, incident: Incident) -> bool:
    """True when the blueprint has ``triggered_by`` and the incident does not say who triggered
    it (a create's answer does not: the incident must be read with its first trigger entry)."""
    if blueprint is None or "triggered_by" not in blueprint.properties:
        return False
    return _triggered_by(incident) is None


def build_entity(
    incident: Incident,
    blueprint: PortBlueprint | None,
    *,
    context_relations: Mapping[str, str | list[str] | None],
    property_mapping: Mapping[str, str | None] | None = None,
) -> tuple[PortEntity, list[str]]:
    """The entity to upsert, and warnings about what was left out and why."""
    warnings: list[str] = []
    mapping = dict(property_mapping or {})
    declared = blueprint.properties if blueprint else {name: {} for name in GUIDE_PROPERTIES}
    properties = _properties(incident, declared, mapping, warnings)
    for name in mapping:
        if name not in declared:
            warnings.append(
                f"port_property_mapping names '{name}', which blueprint "
                f"'{blueprint.identifier if blueprint else '?'}' does not have; it was not sent."
            )

    relations = _relations(incident, blueprint, context_relations, warnings)
    entity = PortEntity(
        identifier=incident.id,
        title=incident.title or incident.summary or incident.id,
        properties=properties,
        relations=relations,
    )
    return entity, warnings


def _properties(
    incident: Incident,
    declared: Mapping[str, Mapping[str, Any]],
    mapping: Mapping[str, str | None],
    warnings: list[str],
) -> dict[str, Any]:
    """The ``declared`` properties the incident gives, each checked against its schema (one
    that does not fit is left out, with a warning)."""
    document = incident.as_json()
    properties: dict[str, Any] = {}
    for name, schema in declared.items():
        found = _property(incident, document, name, mapping)
        if found is None:
            continue
        value = found[0]
        problem = schema_problem(value, schema) if value is not None else None
        if problem:
            warnings.append(f"Port property '{name}' left out: {problem}.")
            continue
        properties[name] = value
    return properties


def _property(
    incident: Incident, document: Any, name: str, mapping: Mapping[str, str | None]
) -> tuple[Any] | None:
    """``(value,)`` of property ``name``: by the mapping's path, else by its known name; None
    when it is not sent (mapped to null, unknown, or not known for this incident)."""
    if name in mapping:
        path = mapping[name]
        return None if path is None else (field_at(document, path),)
    if name in KNOWN_PROPERTIES:
        value = KNOWN_PROPERTIES[name](incident)
        return None if value is None and name in UNKNOWN_WHEN_NONE else (value,)
    return None


def _relations(
    incident: Incident,
    blueprint: PortBlueprint | None,
    context_relations: Mapping[str, str | list[str] | None],
    warnings: list[str],
) -> dict[str, Any]:
    wanted: dict[str, str | list[str] | None] = dict(context_relations)
    service_id = incident.service.id if incident.service else None
    if blueprint is None:
        if service_id:
            wanted[SERVICE_RELATION] = [service_id]
        return dict(wanted)
    owned = owned_service_relation(blueprint)
    if service_id and owned is not None:
        wanted[owned] = service_id
    shaped: dict[str, Any] = {}
    for name, value in wanted.items():
        relation = blueprint.relations.get(name)
        if relation is None:
            warnings.append(
                f"relation '{name}' from port_context is not in blueprint "
                f"'{blueprint.identifier}'; it was not sent."
            )
            continue
        shaped[name] = shape_relation(value, many=relation.many, name=name, warnings=warnings)
    return shaped


def owned_service_relation(blueprint: PortBlueprint) -> str | None:
    """The one relation the action sets: ``pagerdutyService`` (the integration's name), else the
    blueprint's only relation to the service blueprint. Any other relation to services (a curated
    ``impactedServices``) is the organisation's, and never sent."""
    if SERVICE_RELATION in blueprint.relations:
        return SERVICE_RELATION
    to_services = [n for n, r in blueprint.relations.items() if r.target == SERVICE_BLUEPRINT]
    return to_services[0] if len(to_services) == 1 else None


def shape_relation(
    value: str | list[str] | None, *, many: bool, name: str, warnings: list[str]
) -> str | list[str] | None:
    if value is None:
        return [] if many else None
    if many:
        return [value] if isinstance(value, str) else list(value)
    if isinstance(value, str):
        return value
    if len(value) > 1:
        warnings.append(f"relation '{name}' takes one entity; the first of {len(value)} was sent.")
    return value[0] if value else None


def field_at(document: Any, path: str) -> Any:
    """The value at a dotted path (``assignments.0.assignee.summary``), or None."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit():
            index = int(part)
            current = current[index] if index < len(current) else None
        else:
            return None
        if current is None:
            return None
    return current


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def schema_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    """Why ``value`` breaks a Port property schema (type, enum, format), or None."""
    expected = schema.get("type")
    if (
        isinstance(expected, str)
        and expected in _TYPES
        and (
            not isinstance(value, _TYPES[expected])
            or (expected == "number" and isinstance(value, bool))
        )
    ):
        return f"{type(value).__name__} is not of type {expected}"
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return f"{value!r} is not one of {', '.join(map(str, enum))}"
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for item in value:
            problem = schema_problem(item, items)
            if problem:
                return f"an item: {problem}"
    fmt = schema.get("format")
    if isinstance(value, str) and isinstance(fmt, str):
        return _format_problem(value, fmt)
    return None


def _format_problem(value: str, fmt: str) -> str | None:
    if fmt == "url" and not value.startswith(("http://", "https://")):
        return f"{value!r} is not a URL"
    if fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{value!r} is not a date-time"
    if fmt == "user" and not _EMAIL.fullmatch(value):
        return f"{value!r} is not a user email"
    return None
