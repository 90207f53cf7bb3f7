"""The validated inputs of a run: :class:`PortReporting`, and :class:`ActionInputs` built on it.

Field types carry the checks (:mod:`escalator.inputs.fields`); what depends on several inputs
(which inputs an operation needs or refuses, both Port credentials or neither) is checked once the
fields are valid, and raises :class:`InputError` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from escalator.errors import InputError
from escalator.hints import hint_for
from escalator.inputs.fields import (
    PAGERDUTY_EVENTS_REGIONS,
    PAGERDUTY_REGIONS,
    PORT_REGIONS,
    ApiUrl,
    Assignees,
    Email,
    EventActionInput,
    EventSource,
    IncidentKey,
    Instant,
    Level,
    Line,
    OperationName,
    PagerDutyId,
    PortIdentifier,
    PropertyMapping,
    Region,
    Relations,
    RoutingKey,
    RunId,
    Seconds,
    Secret,
    ServiceName,
    Severity,
    SnoozeSeconds,
    Until,
    Urgency,
    User,
)
from escalator.inputs.port_context import PortContext

DEFAULT_BLUEPRINT = "pagerdutyIncident"
DEFAULT_SERVICE_BLUEPRINT = "pagerdutyService"


class InputRule(Protocol):
    """What the inputs need to know of an operation (the registry passes them in the validation
    context as ``operations``: name to rule): the inputs it requires and those it accepts (an
    input in no operation's rule applies to every one), and its checks across inputs."""

    #: the inputs it cannot run without
    needs: ClassVar[tuple[str, ...]]
    #: the inputs it also takes
    accepts: ClassVar[tuple[str, ...]]
    #: True when its Port action runs on the service entity (``port_context`` names a service)
    runs_on_service: ClassVar[bool]
    #: False when it does not call PagerDuty's REST API (``pagerduty_token`` is then optional)
    needs_rest_token: ClassVar[bool]

    def check_inputs(self, inputs: ActionInputs) -> None:
        """Raise :class:`InputError` for what its inputs cannot be together."""
        ...


@runtime_checkable
class FillsFromContext(Protocol):
    """An operation that reads its own inputs from ``port_context`` (an action on an entity that
    is neither an incident nor a service): the parse fills only the inputs left empty."""

    def context_inputs(self, context: PortContext) -> Mapping[str, tuple[str, str]]:
        """Input name to (value, the ``port_context`` key it came from)."""
        ...


def _region_url(data: Any, service: str, regions: Mapping[str, str], url: str | None = None) -> Any:
    """Fill ``url`` (``<service>_api_url`` by default) from the region when it is not given; a
    given URL wins."""
    if not isinstance(data, dict):
        return data
    url, region = url or f"{service}_api_url", f"{service}_region"
    if data.get(url):
        return data  # the region is still checked, so a typo in it is not passed over
    chosen = str(data.get(region, next(iter(regions)))).lower()
    return {**data, url: regions[chosen]} if chosen in regions else data


class PortReporting(BaseModel):
    """What reporting to the Port run needs: read first, so even a run with an invalid input can
    be told why nothing was done."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    port_client_id: Secret | None = None
    port_client_secret: Secret | None = None
    port_region: Region = "eu"
    port_api_url: ApiUrl
    port_run_id: RunId | None = None
    dry_run: bool = False

    @model_validator(mode="before")
    @classmethod
    def _port_url(cls, data: Any) -> Any:
        return _region_url(data, "port", PORT_REGIONS)

    @property
    def port_enabled(self) -> bool:
        """True when Port credentials were given, so the action reports to Port."""
        return self.port_client_id is not None and self.port_client_secret is not None


class ActionInputs(PortReporting):
    """Every input of one run, validated; secrets are ``SecretStr``: reprs never show them."""

    operation: OperationName
    incident_id: PagerDutyId | None = None
    escalation_policy_id: PagerDutyId | None = None
    escalation_level: Level | None = None
    urgency: Urgency | None = None
    assignees: Assignees = ()
    note: str | None = None
    resolution: str | None = None
    snooze_seconds: SnoozeSeconds | None = Field(None, alias="snooze_duration")
    priority: Line | None = None
    title: str | None = None
    service_id: PagerDutyId | None = None
    details: str | None = None
    incident_key: IncidentKey | None = None
    routing_key: RoutingKey | None = None
    event_action: EventActionInput | None = None
    dedup_key: IncidentKey | None = None
    severity: Severity | None = None
    source: EventSource | None = None
    schedule_id: PagerDutyId | None = None
    oncall_user: User | None = None
    start: Instant | None = None
    end: Until | None = None
    override_id: PagerDutyId | None = None
    service_name: ServiceName | None = None
    description: str | None = None
    from_email: Email | None = Field(None, alias="from")
    #: required by every operation that calls the REST API (:attr:`InputRule.needs_rest_token`)
    pagerduty_token: Secret | None = None
    pagerduty_region: Region = "us"
    pagerduty_api_url: ApiUrl
    #: filled from the region (None: a region that names none, with pagerduty_api_url given)
    pagerduty_events_url: ApiUrl | None = None
    port_blueprint: PortIdentifier = DEFAULT_BLUEPRINT
    port_service_blueprint: PortIdentifier = DEFAULT_SERVICE_BLUEPRINT
    port_relations: Relations = {}
    #: whether a port_context was given at all (what to say when it has no run id)
    port_context_given: bool = False
    port_property_mapping: PropertyMapping | None = None
    finish_port_run: bool = False
    github_token: Secret | None = None
    timeout_seconds: Seconds = 120.0

    @model_validator(mode="before")
    @classmethod
    def _pagerduty_url(cls, data: Any) -> Any:
        events = _region_url(data, "pagerduty", PAGERDUTY_EVENTS_REGIONS, "pagerduty_events_url")
        if isinstance(data, dict) and isinstance(events, dict) and "pagerduty_region" in data:
            events = {**events, "pagerduty_region": data["pagerduty_region"]}
        return _region_url(events, "pagerduty", PAGERDUTY_REGIONS)

    @model_validator(mode="after")
    def _check_combinations(self, info: ValidationInfo) -> ActionInputs:
        rules: Mapping[str, InputRule] = (info.context or {})["operations"]
        if rules[self.operation].needs_rest_token and self.pagerduty_token is None:
            raise InputError(
                "pagerduty_token", "is required.", hint=hint_for("pagerduty_token").fix
            )
        _check_operation(self, rules)
        if (self.port_client_id is None) != (self.port_client_secret is None):
            missing = "port_client_secret" if self.port_client_secret is None else "port_client_id"
            raise InputError(
                missing,
                "is required when the other Port credential is set.",
                hint="Set both {port_client_id} and {port_client_secret}, from secrets, or "
                "neither to skip Port.",
            )
        return self

    def given(self, input_name: str) -> bool:
        """Whether the input has a value (given, or taken from ``port_context``)."""
        return getattr(self, _FIELDS.get(input_name, input_name)) not in (None, ())


#: The fields named otherwise in action.yml, by input name (read from the fields' aliases).
_FIELDS: Mapping[str, str] = {
    field.alias: name for name, field in ActionInputs.model_fields.items() if field.alias
}


def _check_operation(inputs: ActionInputs, rules: Mapping[str, InputRule]) -> None:
    """The inputs the operation needs are there, and none is given that it would ignore."""
    operation = inputs.operation
    rule = rules[operation]
    specific = dict.fromkeys(name for r in rules.values() for name in r.needs + r.accepts)
    for name in specific:
        if inputs.given(name) and name not in rule.needs + rule.accepts:
            users = [op for op, r in rules.items() if name in r.needs + r.accepts]
            raise InputError(
                name,
                f"does not apply to {{operation={operation}}}.",
                hint=f"Leave {{{name}}} empty with {operation}; it is for {', '.join(users)}.",
            )
    for name in rule.needs:
        if not inputs.given(name):
            hint = hint_for(name).fix
            raise InputError(name, f"is required by {{operation={operation}}}.", hint=hint)
    rule.check_inputs(inputs)
