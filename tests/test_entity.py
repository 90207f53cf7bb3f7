"""The Port entity is shaped by the blueprint: known properties, enums and formats, relations."""

from __future__ import annotations

from typing import Any

import pytest

from escalator.clients.models import Incident, PortBlueprint
from escalator.report.entity import build_entity, field_at, merge_expansions, schema_problem

INCIDENT: dict[str, Any] = {
    "id": "Q2LAR4ADCXC8IB",
    "title": "Disk full",
    "status": "acknowledged",
    "urgency": "high",
    "html_url": "https://acme.pagerduty.com/incidents/Q2LAR4ADCXC8IB",
    "self": "https://api.pagerduty.com/incidents/Q2LAR4ADCXC8IB",
    "created_at": "2026-08-20T08:57:03Z",
    "updated_at": "2026-08-20T09:57:03Z",
    "description": "Disk full on db-1",
    "service": {"id": "PSVC1", "type": "service_reference", "summary": "db"},
    "escalation_policy": {"id": "PPOL", "type": "escalation_policy_reference", "summary": "DB"},
    "priority": {"id": "PPRI", "type": "priority", "summary": "P2"},
    "assignments": [
        {"assignee": {"id": "PU1", "type": "user_reference", "summary": "Ann"}},
    ],
    "first_trigger_log_entry": {"id": "L1", "agent": {"id": "PS", "summary": "Datadog"}},
}


def blueprint(properties: dict[str, Any], relations: dict[str, Any]) -> PortBlueprint:
    return PortBlueprint.from_api(
        {
            "identifier": "pagerdutyIncident",
            "schema": {"properties": properties},
            "relations": relations,
        }
    )


def test_guide_blueprint_gets_responder_and_a_service_list() -> None:
    """The guide's blueprint: responder, url = the web page, the service relation as a list."""
    guide = blueprint(
        {name: {"type": "string"} for name in ("status", "url", "responder", "escalation_policy")},
        {"pagerdutyService": {"target": "pagerdutyService", "many": True}},
    )
    entity, warnings = build_entity(Incident.model_validate(INCIDENT), guide, context_relations={})
    assert entity.properties == {
        "status": "acknowledged",
        "url": INCIDENT["html_url"],
        "responder": "Ann",
        "escalation_policy": "DB",
    }
    assert entity.relations == {"pagerdutyService": ["PSVC1"]}
    assert entity.title == "Disk full"
    assert warnings == []


def test_integration_blueprint_gets_its_own_mapping() -> None:
    """The integration's blueprint: assignee emails, priority name, trigger agent, one service."""
    integration = blueprint(
        {
            "assignees": {"type": "array", "items": {"type": "string", "format": "user"}},
            "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4", "P5"]},
            "triggered_by": {"type": "string"},
            "description": {"type": "string"},
        },
        {"pagerdutyService": {"target": "pagerdutyService", "many": False}},
    )
    before = Incident.model_validate(
        {
            **INCIDENT,
            "assignments": [
                {"assignee": {"id": "PU1", "type": "user", "summary": "Ann", "email": "ann@x.io"}}
            ],
        }
    )
    after = merge_expansions(Incident.model_validate(INCIDENT), before)
    entity, warnings = build_entity(after, integration, context_relations={})
    assert entity.properties == {
        "assignees": ["ann@x.io"],
        "priority": "P2",
        "triggered_by": "Datadog",
        "description": "Disk full on db-1",
    }
    assert entity.relations == {"pagerdutyService": "PSVC1"}
    assert warnings == []


@pytest.mark.parametrize(
    ("value", "schema", "problem"),
    [
        ("P9", {"type": "string", "enum": ["P1", "P2"]}, "not one of"),
        ("not-a-url", {"type": "string", "format": "url"}, "not a URL"),
        ("yesterday", {"type": "string", "format": "date-time"}, "not a date-time"),
        ("Ann", {"type": "string", "format": "user"}, "not a user email"),
        ("3", {"type": "number"}, "not of type number"),
        (True, {"type": "number"}, "not of type number"),
        (["a"], {"type": "array", "items": {"type": "number"}}, "an item"),
    ],
)
def test_schema_problems_are_found(value: Any, schema: dict[str, Any], problem: str) -> None:
    """A value that breaks the property's type, enum or format is reported."""
    found = schema_problem(value, schema)
    assert found is not None
    assert problem in found


def test_a_value_breaking_the_blueprint_is_left_out_with_a_warning() -> None:
    """A status the blueprint's enum lacks is not sent, and a warning says why."""
    strict = blueprint(
        {
            "status": {"type": "string", "enum": ["triggered", "resolved"]},
            "urgency": {"type": "string"},
        },
        {},
    )
    entity, warnings = build_entity(Incident.model_validate(INCIDENT), strict, context_relations={})
    assert entity.properties == {"urgency": "high"}
    assert len(warnings) == 1
    assert "'status' left out" in warnings[0]


def test_mapping_adds_overrides_and_removes_properties() -> None:
    """port_property_mapping fills custom properties, overrides known ones, and drops with null."""
    custom = blueprint(
        {"team": {"type": "string"}, "responder": {"type": "string"}, "status": {"type": "string"}},
        {},
    )
    entity, warnings = build_entity(
        Incident.model_validate(INCIDENT),
        custom,
        context_relations={},
        property_mapping={
            "team": "service.summary",
            "status": "assignments.0.assignee.summary",
            "responder": None,
            "ghost": "title",
        },
    )
    assert entity.properties == {"team": "db", "status": "Ann"}
    assert any("'ghost'" in warning for warning in warnings)


def test_context_relations_are_shaped_and_unknown_ones_dropped() -> None:
    """Relations from port_context follow each relation's many; ones the blueprint lacks go."""
    shaped = blueprint(
        {},
        {
            "owners": {"target": "team", "many": True},
            "parent": {"target": "incident", "many": False},
            "pagerdutyService": {"target": "pagerdutyService", "many": True},
        },
    )
    entity, warnings = build_entity(
        Incident.model_validate(INCIDENT),
        shaped,
        context_relations={
            "owners": "team-a",
            "parent": ["P1", "P2"],
            "stale": "x",
            "pagerdutyService": ["POLD"],
        },
    )
    assert entity.relations == {"owners": ["team-a"], "parent": "P1", "pagerdutyService": ["PSVC1"]}
    assert any("'stale'" in w for w in warnings)
    assert any("first of 2" in w for w in warnings)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("service.summary", "db"),
        ("assignments.0.assignee.summary", "Ann"),
        ("assignments.5.assignee.summary", None),
        ("title.length", None),
        ("nope", None),
    ],
)
def test_field_paths(path: str, expected: Any) -> None:
    """Dotted paths reach into objects and lists, and end in None when a step is missing."""
    assert field_at(INCIDENT, path) == expected
