"""The Port entity an operation drafts for its target, shaped by the blueprint read from Port: only
the properties and relations the blueprint has, each checked against its schema, as for an incident.
"""

from __future__ import annotations

from typing import Any

from escalator.clients.models import PortBlueprint, PortEntity
from escalator.operations.target import EntityDraft
from escalator.report.entity import schema_problem, shape_relation


def shape(draft: EntityDraft, blueprint: PortBlueprint | None) -> tuple[PortEntity, list[str]]:
    """The entity to upsert for ``draft``, and warnings about what was left out and why
    (without a blueprint, everything drafted is sent)."""
    if blueprint is None:
        return PortEntity(
            identifier=draft.identifier,
            title=draft.title,
            properties=dict(draft.properties),
            relations=dict(draft.relations),
        ), []
    warnings: list[str] = []
    properties: dict[str, Any] = {}
    for name, value in draft.properties.items():
        schema = blueprint.properties.get(name)
        if schema is None:
            continue  # the organisation's blueprint does not keep it
        problem = schema_problem(value, schema) if value is not None else None
        if problem:
            warnings.append(f"Port property '{name}' left out: {problem}.")
            continue
        properties[name] = value
    relations: dict[str, Any] = {}
    for name, target in draft.relations.items():
        relation = blueprint.relations.get(name)
        if relation is not None:
            relations[name] = shape_relation(
                target, many=relation.many, name=name, warnings=warnings
            )
    entity = PortEntity(
        identifier=draft.identifier, title=draft.title, properties=properties, relations=relations
    )
    return entity, warnings
