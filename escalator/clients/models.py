"""Typed views of what PagerDuty and Port answer: only the fields the action uses, extras kept.

Each model keeps unknown fields (``extra="allow"``) so the full incident can be written to the
``incident`` output as PagerDuty sent it. Closed sets (an incident's status and urgency) are
closed in the types: an answer outside them is not as documented.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from escalator.clients.answers import validated

IncidentStatus = Literal["triggered", "acknowledged", "resolved"]
Urgency = Literal["high", "low"]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class Reference(_Lenient):
    """A PagerDuty reference ``{id, type, summary, self, html_url}``; expansions add fields."""

    id: str
    type: str = ""
    summary: str | None = None
    name: str | None = None
    email: str | None = None
    html_url: str | None = None

    @property
    def label(self) -> str:
        """The human name PagerDuty gives the object."""
        return self.summary or self.name or self.id


class Assignment(_Lenient):
    """One assignee of an incident."""

    at: str | None = None
    assignee: Reference


class Incident(_Lenient):
    """A PagerDuty incident, as ``GET`` and ``PUT /incidents/{id}`` answer it."""

    id: str
    incident_number: int | None = None
    title: str = ""
    summary: str | None = None
    description: str | None = None
    status: IncidentStatus
    urgency: Urgency = "high"
    self_url: str | None = Field(default=None, alias="self")
    html_url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    incident_key: str | None = None
    service: Reference | None = None
    escalation_policy: Reference | None = None
    assignments: list[Assignment] = []
    assigned_via: str | None = None
    priority: Reference | None = None
    first_trigger_log_entry: dict[str, Any] | None = None
    pending_actions: list[dict[str, Any]] = []

    @property
    def responder(self) -> str:
        """The first assignee's name, or '' when nobody is assigned."""
        return self.assignments[0].assignee.label if self.assignments else ""

    @property
    def policy_id(self) -> str:
        return self.escalation_policy.id if self.escalation_policy else ""

    @property
    def policy_name(self) -> str:
        return self.escalation_policy.label if self.escalation_policy else ""

    def as_json(self) -> dict[str, Any]:
        """The incident as PagerDuty sent it (with ``self``, not ``self_url``)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class PortRelation(_Lenient):
    """A relation as a blueprint declares it."""

    target: str = ""
    many: bool = False
    required: bool = False


class _PortSchema(_Lenient):
    """A blueprint's ``schema``: property schemas by name, and the required names."""

    properties: dict[str, dict[str, Any]] | None = None
    required: list[str] | None = None


class _PortBlueprintAnswer(_Lenient):
    """The ``blueprint`` object of ``GET /v1/blueprints/{id}``, as Port documents it."""

    identifier: str
    schema_: _PortSchema | None = Field(default=None, alias="schema")
    relations: dict[str, PortRelation] | None = None


class PortBlueprint(_Lenient):
    """A Port blueprint: its property schemas and its relations."""

    identifier: str
    properties: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    relations: dict[str, PortRelation] = {}

    @classmethod
    def from_api(cls, document: Any) -> PortBlueprint:
        """Build from ``GET /v1/blueprints/{id}``'s ``blueprint`` object; an object of another
        shape is :class:`~escalator.errors.UnexpectedResponse`."""
        answer = validated(
            _PortBlueprintAnswer,
            document,
            service="Port",
            what="the blueprint",
            hint="Check the blueprint in Port's builder ({port_blueprint}): its schema must "
            "hold an object of properties and a list of required names, and each relation an "
            "object with a target.",
        )
        schema = answer.schema_ or _PortSchema()
        return cls(
            identifier=answer.identifier,
            properties=schema.properties or {},
            required=schema.required or [],
            relations=answer.relations or {},
        )


class PortEntity(BaseModel):
    """An entity to upsert into Port."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    identifier: str
    title: str
    properties: dict[str, Any] = {}
    relations: dict[str, Any] = {}


class EscalationRule(_Lenient):
    """One level of an escalation policy."""

    escalation_delay_in_minutes: int | None = None
    targets: list[Reference] = []


class EscalationPolicy(_Lenient):
    """A PagerDuty escalation policy and its levels (``escalation_rules``)."""

    id: str
    name: str | None = None
    summary: str | None = None
    escalation_rules: list[EscalationRule] = []
    num_loops: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.summary or self.id


class Note(_Lenient):
    """A note on an incident."""

    id: str = ""
    content: str = ""
    created_at: str | None = None


class User(_Lenient):
    """A PagerDuty user, as ``GET /users`` lists it."""

    id: str
    name: str | None = None
    email: str | None = None


class Priority(_Lenient):
    """One of the account's incident priorities (``P1``...)."""

    id: str
    name: str | None = None
    summary: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.summary or self.id
