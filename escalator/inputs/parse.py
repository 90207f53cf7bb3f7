"""From the raw strings the runner (or the command line) passes to the validated models.

Empty inputs take their defaults; values are trimmed of the spaces YAML leaves, except secrets,
which are kept exactly. What ``port_context`` says fills the inputs left empty: the incident (or,
for an operation run on a service entity, the service), the blueprint, the run and the relations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from escalator.errors import InputError
from escalator.hints import operation_hint
from escalator.inputs.model import (
    DEFAULT_SERVICE_BLUEPRINT,
    ActionInputs,
    FillsFromContext,
    InputRule,
    PortReporting,
)
from escalator.inputs.port_context import PortContext, parse_port_context, run_id_in
from escalator.inputs.translate import input_error
from escalator.terms import INPUT_NAMES, SECRET_ENV

Model = TypeVar("Model", bound=BaseModel)

#: The defaults action.yml declares (the others are empty).
DEFAULTS: Mapping[str, str] = {
    "pagerduty_region": "us",
    "port_region": "eu",
    "finish_port_run": "false",
    "dry_run": "false",
    "timeout_seconds": "120",
}


def given_values(raw: Mapping[str, str]) -> dict[str, str]:
    """The inputs that have a value, trimmed (secrets as they are); unknown names are dropped."""
    values = {}
    for name in INPUT_NAMES:
        value = raw.get(name) or ""
        if value.strip():
            values[name] = value if name in SECRET_ENV else value.strip()
    return values


def parse_inputs(
    raw: Mapping[str, str],
    *,
    operations: Mapping[str, InputRule],
    insecure_http_hosts: frozenset[str] = frozenset(),
) -> ActionInputs:
    """Validate the raw string inputs into :class:`ActionInputs`.

    ``operations`` are the registry's rules, the first being the default operation;
    ``insecure_http_hosts`` are extra hosts allowed over plain http (loopback always is).
    Raises :class:`~escalator.errors.InputError` naming the first invalid input.
    """
    values: dict[str, Any] = given_values(raw)
    values.setdefault("operation", next(iter(operations)))
    values["port_context_given"] = "port_context" in values
    context = parse_port_context(values.pop("port_context", ""))
    rule = operations.get(str(values["operation"]).lower())
    if isinstance(rule, FillsFromContext):
        values["port_run_id"] = context.run_id
        sources = _fill_own(values, rule.context_inputs(context))
    else:
        sources = _fill_from_context(values, context, rule)
    try:
        return _validate(ActionInputs, values, insecure_http_hosts, sources, operations)
    except InputError as error:
        if error.input != "operation" or not error.message_template.endswith("an operation."):
            raise
        problem = error.message_template.removeprefix("{operation}: ")
        raise InputError("operation", problem, hint=operation_hint(operations)) from error


def parse_port_reporting(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> PortReporting | None:
    """The Port run to tell why a run did nothing, or None when there is none to tell.

    None when there is no run id, no Port credentials, a dry run (which writes nothing, not
    even this log), or any of these inputs is itself invalid.
    """
    values: dict[str, Any] = given_values(raw)
    values["port_run_id"] = run_id_in(values.pop("port_context", ""))
    try:
        reporting = _validate(PortReporting, values, insecure_http_hosts, {})
    except InputError:
        return None
    if reporting.dry_run or not reporting.port_enabled or not reporting.port_run_id:
        return None
    return reporting


def _fill_own(values: dict[str, Any], found: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Fill the inputs left empty with what an operation found in ``port_context`` (value and
    the key it came from); returns the keys each was taken from."""
    sources: dict[str, str] = {}
    for name, (value, source) in found.items():
        if name not in values and value:
            values[name] = value
            sources[name] = source
    return sources


def _fill_from_context(
    values: dict[str, Any], context: PortContext, rule: InputRule | None
) -> dict[str, str]:
    """Fill the inputs left empty from ``context`` (only those ``rule`` takes, for an operation
    run on a service); returns the keys each was taken from."""
    sources: dict[str, str] = {}

    def fill(name: str, value: object, source: str) -> None:
        if name not in values and value:
            values[name] = value
            sources[name] = source

    values["port_run_id"] = context.run_id
    if rule is None or not rule.runs_on_service:
        fill("incident_id", context.entity, "port_context.entity")
        fill("port_blueprint", context.blueprint, "port_context.blueprint")
        values["port_relations"] = context.relations
        return sources
    # an operation run on a service entity: what it makes gets its own blueprint and relations.
    takes = (*rule.needs, *rule.accepts)
    service_blueprint = values.get("port_service_blueprint", DEFAULT_SERVICE_BLUEPRINT)
    if context.blueprint == service_blueprint and "service_id" in takes:
        fill("service_id", context.entity, "port_context.entity")
    if "source" in takes:
        fill("source", context.entity, "port_context.entity")
    if context.run_id and "incident_key" in takes:
        fill("incident_key", f"port-{context.run_id}", "port_context.run_id")
    return sources


def _validate(
    model: type[Model],
    values: dict[str, Any],
    insecure_http_hosts: frozenset[str],
    sources: Mapping[str, str],
    operations: Mapping[str, InputRule] | None = None,
) -> Model:
    context = {"insecure_http_hosts": insecure_http_hosts, "operations": operations or {}}
    try:
        return model.model_validate(values, context=context)
    except ValidationError as exc:
        secrets = [str(values[name]) for name in SECRET_ENV if values.get(name)]
        raise input_error(exc, sources=sources, secrets=secrets) from exc


def port_api_url(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> str:
    """The Port API base URL that ``port_api_url`` or ``port_region`` in ``raw`` name."""
    values = {name: value for name, value in given_values(raw).items() if name.startswith("port_")}
    return _validate(PortReporting, values, insecure_http_hosts, {}).port_api_url
