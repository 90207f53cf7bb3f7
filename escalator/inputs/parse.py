"""From the raw strings the runner (or the command line) passes to the validated models.

Empty inputs take their defaults; values are trimmed of the spaces YAML leaves, except secrets,
which are kept exactly. What ``port_context`` says fills the inputs left empty: the incident (or,
for an operation run on a service entity, the service), the blueprint, the run and the relations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from escalator.errors import InputError
from escalator.hints import hint_for, operation_hint
from escalator.inputs.model import (
    COMMON_INPUTS,
    DEFAULT_SERVICE_BLUEPRINT,
    CommonInputs,
    FillsFromContext,
    InputRule,
    PortReporting,
    check_rules,
    required_by,
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
) -> CommonInputs:
    """Validate the raw string inputs into the inputs model of the operation they name.

    ``operations`` are the registry's rules by name, the first being the default operation
    (only the one named is loaded, unless an input of another one is given);
    ``insecure_http_hosts`` are extra hosts allowed over plain http (loopback always is).
    Raises :class:`~escalator.errors.InputError` naming the first invalid input.
    """
    values: dict[str, Any] = given_values(raw)
    values.setdefault("operation", next(iter(operations)))
    values["port_context_given"] = "port_context" in values
    context = parse_port_context(values.pop("port_context", ""))
    name = str(values["operation"]).lower()
    rule = operations.get(name)
    if isinstance(rule, FillsFromContext):
        values["port_run_id"] = context.run_id
        sources = _fill_own(values, rule.context_inputs(context))
    else:
        sources = _fill_from_context(values, context, rule)
    stray, wrong = _strays(values, rule, operations, insecure_http_hosts)
    if rule is None:
        raise _not_an_operation(values, insecure_http_hosts, sources, operations, wrong)
    model = rule.inputs_model
    try:
        inputs = _validate(model, values, insecure_http_hosts, sources, operations, model, wrong)
    except MissingOwn:
        _check_given(values, rule, operations, stray)
        first = next(need for need in rule.inputs_model.needs() if need not in values)
        raise required_by(first, name) from None
    _check_given(values, rule, operations, stray)
    check_rules(inputs, rule)
    return inputs


class MissingOwn(Exception):
    """Only inputs the operation itself needs are missing (said after the other checks)."""


def _not_an_operation(
    values: dict[str, Any],
    insecure_http_hosts: frozenset[str],
    sources: Mapping[str, str],
    operations: Mapping[str, InputRule],
    wrong: Sequence[ErrorDetails],
) -> InputError:
    """The error for an ``operation`` that names none (or for an input invalid before it)."""
    try:
        _validate(CommonInputs, values, insecure_http_hosts, sources, operations, extra=wrong)
    except InputError as error:
        if error.input != "operation" or not error.message_template.endswith("an operation."):
            return error
        problem = error.message_template.removeprefix("{operation}: ")
        return InputError("operation", problem, hint=operation_hint(operations))
    raise AssertionError("an operation the registry has no rule for validated")  # pragma: no cover


def _strays(
    values: Mapping[str, Any],
    rule: InputRule | None,
    operations: Mapping[str, InputRule],
    insecure_http_hosts: frozenset[str],
) -> tuple[list[str], list[ErrorDetails]]:
    """The inputs of other operations given that hold a value once read (every operation is
    loaded to say whose they are, only then), and the errors of their values, each read as the
    first operation that takes it reads it: a wrong value is said before the input is said not
    to apply, in the order of every input, as when one model held them all."""
    own = rule.inputs_model.inputs() if rule is not None else {}
    given = [name for name in values if name not in own and name not in COMMON_INPUTS]
    models = [r.inputs_model for r in operations.values()] if given else []
    context = {"insecure_http_hosts": insecure_http_hosts, "operations": operations}
    stray: list[str] = []
    wrong: list[ErrorDetails] = []
    for name in given:
        model = next((m for m in models if name in m.inputs()), None)
        if model is None:
            continue
        kind = TypeAdapter[Any](model.model_fields[model.inputs()[name]].rebuild_annotation())
        try:
            value = kind.validate_python(values[name], context=context)
        except ValidationError as exc:
            wrong += [{**error, "loc": (name, *error["loc"])} for error in exc.errors()]
            continue
        if value not in (None, ()):
            stray.append(name)
    return stray, wrong


def _check_given(
    values: Mapping[str, Any],
    rule: InputRule,
    operations: Mapping[str, InputRule],
    stray: Sequence[str],
) -> None:
    """The REST token is there when the operation calls the REST API, and no input of another
    operation (``stray``: given, holding a value) is given."""
    if rule.needs_rest_token and "pagerduty_token" not in values:
        raise InputError("pagerduty_token", "is required.", hint=hint_for("pagerduty_token").fix)
    if not stray:
        return
    operation = str(values["operation"]).lower()
    for name in dict.fromkeys(n for r in operations.values() for n in r.inputs_model.inputs()):
        if name in stray:
            users = [op for op, r in operations.items() if name in r.inputs_model.inputs()]
            raise InputError(
                name,
                f"does not apply to {{operation={operation}}}.",
                hint=f"Leave {{{name}}} empty with {operation}; it is for {', '.join(users)}.",
            )


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
        if rule is None or "incident_id" in rule.inputs_model.inputs():  # an incident entity
            fill("incident_id", context.entity, "port_context.entity")
        fill("port_blueprint", context.blueprint, "port_context.blueprint")
        values["port_relations"] = context.relations
        return sources
    # an operation run on a service entity: what it makes gets its own blueprint and relations.
    takes = rule.inputs_model.inputs()
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
    own: type[CommonInputs] | None = None,
    extra: Sequence[ErrorDetails] = (),
) -> Model:
    """``values`` validated into ``model``; raises :class:`MissingOwn` when the only errors are
    inputs that ``own`` (an operation's inputs model) needs and were not given. ``extra`` are
    errors found in other inputs, said with the model's in the order of the inputs."""
    context = {"insecure_http_hosts": insecure_http_hosts, "operations": operations or {}}
    secrets = [str(values[name]) for name in SECRET_ENV if values.get(name)]
    try:
        validated = model.model_validate(values, context=context)
    except ValidationError as exc:
        needs = set(own.needs()) if own is not None else set()
        errors = [e for e in exc.errors() if not _missing_of(e, needs, own)] + [*extra]
        if not errors:
            raise MissingOwn from None
        raise input_error(errors, sources=sources, secrets=secrets) from exc
    if extra:
        raise input_error(extra, sources=sources, secrets=secrets)
    return validated


def _missing_of(error: ErrorDetails, needs: set[str], own: type[CommonInputs] | None) -> bool:
    """Whether ``error`` says a field of ``needs`` (by input name) is missing."""
    if error["type"] != "missing" or own is None or len(error["loc"]) != 1:
        return False
    field = str(error["loc"][0])  # the input's name when the field has an alias
    return any(field in (need, own.inputs()[need]) for need in needs)


def port_api_url(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> str:
    """The Port API base URL that ``port_api_url`` or ``port_region`` in ``raw`` name."""
    values = {name: value for name, value in given_values(raw).items() if name.startswith("port_")}
    return _validate(PortReporting, values, insecure_http_hosts, {}).port_api_url
