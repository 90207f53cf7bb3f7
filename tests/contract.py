"""Check requests and answers against PagerDuty's (REST and Events API v2) and Port's published
OpenAPI specifications.

The schemas come from ``tests/contracts/``: the operations the project uses, extracted from the
official specifications by ``scripts/extract_contracts.py`` (see docs/contracts.md), so the checks
run on any clone.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

EXTRACT = Path(__file__).resolve().parent / "contracts"
REFRESH = "add it to OPERATIONS in scripts/extract_contracts.py and run that script"
PREFIXES = {"pagerduty": "/pagerduty", "port": "/port", "events": "/events/v2"}
# PagerDuty's specification omits `nullable` on fields its live API answers with null.
PAGERDUTY_NULLABLE = {
    "priority",
    "resolved_at",
    "resolve_reason",
    "conference_bridge",
    "alert_grouping",
    "body",
    "description",
    # A schedule read without since or until: "Returns null unless since or until are set".
    "rendered_coverage_percentage",
    # A service created without them: "Setting this field to 0, null (or unset in POST request)
    # will disable the feature".
    "auto_resolve_timeout",
    "acknowledgement_timeout",
    # An on-call from a user target, not a schedule: no schedule, and permanent (null times).
    "schedule",
    "start",
    "end",
}


@dataclass(frozen=True)
class Spec:
    """One loaded specification and what validating against it needs."""

    document: dict[str, Any]
    validator: type[Any]
    registry: Registry[Any]
    uri: str
    templates: list[tuple[re.Pattern[str], str]]


@dataclass(frozen=True)
class Contracts:
    """The specifications: PagerDuty's REST API, Port's API and PagerDuty's Events API v2."""

    pagerduty: Spec
    port: Spec
    events: Spec | None = None


def _python_patterns(node: Any) -> Any:
    """Rewrite ``\\p{L}`` (unknown to Python's ``re``) as a letter range, in every pattern."""
    if isinstance(node, dict):
        return {
            k: (
                v.replace("\\p{L}", "a-zA-Z\u00c0-\uffff")
                if k == "pattern" and isinstance(v, str)
                else _python_patterns(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(item) for item in node]
    return node


def _spec(document: dict[str, Any], validator: type[Any], uri: str, draft: Any) -> Spec:
    """Return a :class:`Spec` with its path templates, most specific first."""
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(document, default_specification=draft)
    )
    templates = []
    for template in document["paths"]:
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        templates.append((pattern, template))
    templates.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
    return Spec(document, validator, registry, uri, templates)


def load_extract(name: str) -> Any:
    """Return the body of ``tests/contracts/<name>`` (blueprint files: their ``items``)."""
    document = json.loads((EXTRACT / name).read_text(encoding="utf-8"))
    return document.get("items", document)


def build_contracts(
    pagerduty: dict[str, Any], port: dict[str, Any], events: dict[str, Any] | None = None
) -> Contracts:
    """Return the :class:`Contracts` of the OpenAPI documents (the extract or the full specs)."""
    return Contracts(
        _spec(pagerduty, OAS30Validator, "urn:pagerduty", DRAFT4),
        _spec(_python_patterns(port), OAS31Validator, "urn:port", DRAFT202012),
        _spec(events, OAS30Validator, "urn:pagerduty-events", DRAFT4) if events else None,
    )


@functools.cache
def load_contracts() -> Contracts:
    """Load the specifications once, from the extract in ``tests/contracts``."""
    return build_contracts(
        load_extract("pagerduty.json"),
        load_extract("port.json"),
        load_extract("pagerduty-events.json"),
    )


def _pointer(*parts: str) -> str:
    """Return a JSON pointer fragment for ``parts``."""
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _deref(spec: Spec, node: dict[str, Any]) -> dict[str, Any]:
    """Follow an object-level ``$ref`` (responses, parameters) inside the document."""
    while "$ref" in node:
        target: Any = spec.document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _operation(
    service: str, method: str, path: str, contracts: Contracts | None
) -> tuple[Spec, str, dict[str, Any]] | None:
    """Return the spec, path template and operation for a request, or None."""
    spec: Spec | None = getattr(contracts or load_contracts(), service)
    if spec is None:
        return None
    path = path.split("?", 1)[0]
    if path.startswith(PREFIXES[service] + "/"):
        path = path[len(PREFIXES[service]) :]
    for pattern, template in spec.templates:
        if pattern.match(path) and method.lower() in spec.document["paths"][template]:
            return spec, template, spec.document["paths"][template][method.lower()]
    return None


def _schema_problems(
    spec: Spec, pointer: str, instance: Any, service: str, where: str
) -> list[str]:
    """Validate ``instance`` against the schema at ``pointer``; return readable problems."""
    validator = spec.validator({"$ref": spec.uri + pointer}, registry=spec.registry)
    problems = []
    for error in validator.iter_errors(instance):
        if service == "pagerduty" and _tolerated_null(error):
            continue
        location = "/".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append(f"{where} {location}: {error.message[:300]}")
    return problems


def _tolerated_null(error: ValidationError) -> bool:
    """Whether an error is only a null in a field PagerDuty answers null in practice."""
    path = list(error.absolute_path)
    return error.instance is None and bool(path) and path[-1] in PAGERDUTY_NULLABLE


def request_problems(
    service: str,
    method: str,
    path: str,
    query: dict[str, Any],
    headers: dict[str, str],
    body: Any,
    contracts: Contracts | None = None,
) -> list[str]:
    """Return how a request breaks the spec: unknown route, bad parameters, bad body.

    ``contracts``: the specifications to check against; by default the extract.
    """
    found = _operation(service, method, path, contracts)
    if found is None:
        return [f"no operation {method} {path} in the {service} extract: {REFRESH}"]
    spec, template, operation = found
    parameters = [
        _deref(spec, p)
        for p in spec.document["paths"][template].get("parameters", [])
        + operation.get("parameters", [])
    ]
    problems = _header_problems(parameters, headers, body)
    problems += _query_problems(parameters, query)
    request_body = _deref(spec, operation.get("requestBody", {}))
    if "application/json" in request_body.get("content", {}):
        if body is None:
            if request_body.get("required"):
                problems.append("missing required JSON body")
        else:
            where = ("paths", template, method.lower(), "requestBody", "content")
            pointer = _pointer(*where, "application/json", "schema")
            problems += _schema_problems(spec, pointer, body, service, "request body")
    return problems


def _header_problems(
    parameters: list[dict[str, Any]], headers: dict[str, str], body: Any
) -> list[str]:
    """The required headers missing from ``headers``."""
    sent = {name.lower() for name in headers}
    problems = []
    for parameter in parameters:
        if parameter["in"] != "header" or not parameter.get("required"):
            continue
        name = parameter["name"]
        if name.lower() == "content-type" and body is None:
            continue  # a request without a body needs no Content-Type
        if name.lower() not in sent:
            problems.append(f"missing required header {name}")
    return problems


def _query_problems(parameters: list[dict[str, Any]], query: dict[str, Any]) -> list[str]:
    """Required query parameters missing, undeclared ones sent, values outside their schema."""
    declared = {p["name"]: p for p in parameters if p["in"] == "query"}
    problems = [
        f"missing required query parameter {name}"
        for name, parameter in declared.items()
        if parameter.get("required") and name not in query
    ]
    for name, value in query.items():
        if name not in declared:
            problems.append(f"query parameter {name} is not declared by the operation")
            continue
        schema = declared[name].get("schema", {})
        schema = schema.get("items", schema) if schema.get("type") == "array" else schema
        for item in value if isinstance(value, list) else [value]:
            misfit = _query_value_misfit(schema, str(item))
            if misfit:
                problems.append(f"query parameter {name}: {item!r} {misfit}")
    return problems


def _query_value_misfit(schema: dict[str, Any], value: str) -> str | None:
    """How one query string value misses a scalar schema's enum or type; None when it fits."""
    if "enum" in schema and value not in [str(option) for option in schema["enum"]]:
        return f"is not one of {schema['enum']}"
    kind = schema.get("type")
    if kind == "boolean" and value not in ("true", "false"):
        return "is not true or false"
    if kind in ("integer", "number"):
        try:
            (int if kind == "integer" else float)(value)
        except ValueError:
            return f"is not an {kind}" if kind == "integer" else "is not a number"
    return None


def response_problems(
    service: str,
    method: str,
    path: str,
    status: int,
    body: Any,
    contracts: Contracts | None = None,
) -> list[str]:
    """Return how an answer breaks the schema the spec gives for that status (if it gives one).

    ``contracts``: the specifications to check against; by default the extract.
    """
    found = _operation(service, method, path, contracts)
    if found is None:
        return [f"no operation {method} {path} in the {service} extract: {REFRESH}"]
    spec, template, operation = found
    responses = operation.get("responses", {})
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    if key is None:
        return []
    response = _deref(spec, responses[key])
    if "application/json" not in response.get("content", {}):
        return []
    content = response["content"]["application/json"]
    if "schema" not in content:
        return []
    schema = content["schema"]
    if "$ref" in schema:
        pointer = schema["$ref"]
    else:
        ref = responses[key].get("$ref")
        base = ref[2:].split("/") if ref else ["paths", template, method.lower(), "responses", key]
        pointer = _pointer(
            *[p.replace("~1", "/").replace("~0", "~") for p in base],
            "content",
            "application/json",
            "schema",
        )
    return _schema_problems(spec, pointer, body, service, f"{status} answer")
