"""The validated inputs of a run: :class:`PortReporting`, :class:`CommonInputs` built on it, and
the rules an operation's own inputs model (in its module) is checked by.

Field types carry the checks (:mod:`escalator.inputs.fields`); what depends on several inputs
(which inputs an operation needs or refuses, both Port credentials or neither) is checked once the
fields are valid, and raises :class:`InputError` directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from escalator.errors import InputError
from escalator.hints import hint_for
from escalator.inputs.fields import (
    PAGERDUTY_EVENTS_REGIONS,
    PAGERDUTY_REGIONS,
    PORT_REGIONS,
    ApiUrl,
    Email,
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
)
from escalator.inputs.port_context import PortContext

DEFAULT_BLUEPRINT = "pagerdutyIncident"
DEFAULT_SERVICE_BLUEPRINT = "pagerdutyService"


class InputRule(Protocol):
    """What the inputs need to know of an operation: its inputs model (what it requires and
    accepts beyond the common inputs), what its Port action runs on, whether it calls the REST
    API, and its checks across inputs. The parse loads only the rule of the operation asked."""

    #: its own inputs: the common ones plus its fields (:meth:`CommonInputs.needs`, ``accepts``)
    inputs_model: ClassVar[type[CommonInputs]]
    #: True when its Port action runs on the service entity (``port_context`` names a service)
    runs_on_service: ClassVar[bool]
    #: False when it does not call PagerDuty's REST API (``pagerduty_token`` is then optional)
    needs_rest_token: ClassVar[bool]

    def check_inputs(self, inputs: CommonInputs) -> None:
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


class CommonInputs(PortReporting):
    """The inputs every operation takes, validated; an operation's own model adds its fields
    (the action's inputs are these plus the union of those models, told apart by
    ``operation``). Secrets are ``SecretStr``: reprs never show them."""

    operation: OperationName
    routing_key: RoutingKey | None = None
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

    @classmethod
    def inputs(cls) -> Mapping[str, str]:
        """Its inputs beyond the common ones, by input name (as action.yml names them) to field:
        those it needs first, then those the most derived model declares (its own before the
        shared ones it builds on, such as the incident's note), each in the order of its fields."""
        fields = [name for name in cls.model_fields if name not in CommonInputs.model_fields]

        def place(name: str) -> tuple[bool, int, int]:
            if cls.model_fields[name].is_required():
                return (False, 0, fields.index(name))
            declared = next(
                depth
                for depth, base in enumerate(cls.__mro__)
                if name in vars(base).get("__annotations__", {})
            )
            return (True, declared, fields.index(name))

        return {cls.model_fields[name].alias or name: name for name in sorted(fields, key=place)}

    @classmethod
    def needs(cls) -> tuple[str, ...]:
        """The inputs of its own it cannot run without, in the order of its fields."""
        fields = cls.model_fields
        return tuple(name for name, field in cls.inputs().items() if fields[field].is_required())

    @classmethod
    def accepts(cls) -> tuple[str, ...]:
        """The inputs of its own it also takes."""
        return tuple(name for name in cls.inputs() if name not in cls.needs())

    def given(self, input_name: str) -> bool:
        """Whether the input has a value (given, or taken from ``port_context``)."""
        field = type(self).inputs().get(input_name) or _COMMON_FIELDS.get(input_name, input_name)
        return getattr(self, field, None) not in (None, ())


class IncidentInputs(CommonInputs):
    """The inputs of an operation on one existing incident: the incident, and the note added
    after its change."""

    incident_id: PagerDutyId
    note: str | None = None


#: The common fields named otherwise in action.yml, by input name.
_COMMON_FIELDS: Mapping[str, str] = {
    field.alias: name for name, field in CommonInputs.model_fields.items() if field.alias
}
#: What every operation takes: the common fields, by input name, and the inputs read into them.
COMMON_INPUTS: frozenset[str] = frozenset(
    {*(field.alias or name for name, field in CommonInputs.model_fields.items()), "port_context"}
)


def check_rules(inputs: CommonInputs, rule: InputRule) -> None:
    """What the fields cannot say: the inputs the operation needs have values, its own checks
    hold, and both Port credentials are given or neither."""
    for name in rule.inputs_model.needs():
        if not inputs.given(name):
            raise required_by(name, inputs.operation)
    rule.check_inputs(inputs)
    if (inputs.port_client_id is None) != (inputs.port_client_secret is None):
        missing = "port_client_secret" if inputs.port_client_secret is None else "port_client_id"
        raise InputError(
            missing,
            "is required when the other Port credential is set.",
            hint="Set both {port_client_id} and {port_client_secret}, from secrets, or "
            "neither to skip Port.",
        )


def required_by(name: str, operation: str) -> InputError:
    """The error for an input ``operation`` needs and was not given."""
    return InputError(name, f"is required by {{operation={operation}}}.", hint=hint_for(name).fix)
