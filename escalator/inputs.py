"""The action's inputs: read once, validated once, into one frozen model.

Every check happens here, before any request is sent, and every failure is an :class:`InputError`
that names the input and says how to fix it. The names are those of ``action.yml``.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from escalator.errors import InputError

#: The action's inputs in ``action.yml`` order (a test keeps action.yml and the README agreed).
INPUT_NAMES: tuple[str, ...] = (
    "port_context",
    "incident_id",
    "escalation_policy_id",
    "escalation_level",
    "urgency",
    "from",
    "pagerduty_token",
    "pagerduty_region",
    "pagerduty_api_url",
    "port_client_id",
    "port_client_secret",
    "port_region",
    "port_api_url",
    "port_blueprint",
    "port_property_mapping",
    "finish_port_run",
    "github_token",
    "dry_run",
    "timeout_seconds",
)

#: Inputs whose values are credentials: masked before anything is printed.
SECRET_INPUTS: tuple[str, ...] = (
    "pagerduty_token",
    "port_client_id",
    "port_client_secret",
    "github_token",
)

DEFAULTS: Mapping[str, str] = {
    "pagerduty_region": "us",
    "port_region": "eu",
    "finish_port_run": "false",
    "dry_run": "false",
    "timeout_seconds": "120",
}

PAGERDUTY_REGIONS: Mapping[str, str] = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
PORT_REGIONS: Mapping[str, str] = {
    "eu": "https://api.port.io",
    "us": "https://api.us.port.io",
}
DEFAULT_BLUEPRINT = "pagerdutyIncident"

# GitHub caps a workflow_dispatch input at 65,535 characters; what Port sends is far smaller.
MAX_PORT_CONTEXT_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32

# PagerDuty ids are uppercase letters and digits of no fixed length; an incident number is digits.
_PAGERDUTY_ID = re.compile(r"[A-Z0-9]{1,64}")
# Port identifiers (blueprints, runs, relations) that go into a URL path or a query string.
_PORT_BLUEPRINT = re.compile(r"[A-Za-z0-9@_=-]{1,100}")
_PORT_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PORT_ENTITY_ID = re.compile(r"[A-Za-z0-9@_.+:\\/=-]{1,1000}")
_EMAIL = re.compile(r"[^@\s\"<>(),;:\\]+@[^@\s\"<>(),;:\\]+\.[^@\s\"<>(),;:\\]+")
_FIELD_PATH = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")
_BOOLEANS: Mapping[str, bool] = {
    "true": True,
    "false": False,
    "yes": True,
    "no": False,
    "1": True,
    "0": False,
}

Relations = dict[str, str | list[str] | None]


class PortContext(BaseModel):
    """What the action uses of the ``port_context`` JSON that Port sends."""

    model_config = ConfigDict(frozen=True)

    run_id: str | None = None
    entity: str | None = None
    blueprint: str | None = None
    relations: Relations = {}


class ActionInputs(BaseModel):
    """Every input of one run, validated; secrets are :class:`SecretStr`: reprs never show them."""

    model_config = ConfigDict(frozen=True)

    operation: Literal[
        "escalate", "acknowledge", "resolve", "reassign", "note", "snooze", "priority", "create"
    ] = "escalate"
    incident_id: str | None = None
    assignees: tuple[str, ...] = ()
    note: str | None = None
    resolution: str | None = None
    snooze_seconds: int | None = None
    priority: str | None = None
    title: str | None = None
    service_id: str | None = None
    details: str | None = None
    incident_key: str | None = None
    port_service_blueprint: str = "pagerdutyService"
    port_context_given: bool = False
    escalation_policy_id: str | None = None
    escalation_level: int | None = None
    urgency: Literal["high", "low"] | None = None
    from_email: str | None = None
    pagerduty_token: SecretStr
    pagerduty_api_url: str
    port_client_id: SecretStr | None = None
    port_client_secret: SecretStr | None = None
    port_api_url: str
    port_blueprint: str = DEFAULT_BLUEPRINT
    port_run_id: str | None = None
    port_relations: Relations = {}
    port_property_mapping: dict[str, str | None] | None = None
    finish_port_run: bool = False
    github_token: SecretStr | None = None
    dry_run: bool = False
    timeout_seconds: float = 120.0

    @property
    def port_enabled(self) -> bool:
        """True when Port credentials were given, so the action reports to Port."""
        return self.port_client_id is not None and self.port_client_secret is not None

    def describe_change(self) -> str:
        """A one-line description of what was asked, for logs: 'policy PX, urgency high'."""
        parts = []
        if self.escalation_policy_id:
            parts.append(f"escalation policy {self.escalation_policy_id}")
        if self.escalation_level is not None:
            parts.append(f"escalation level {self.escalation_level}")
        if self.urgency:
            parts.append(f"urgency {self.urgency}")
        return ", ".join(parts)


def parse_inputs(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> ActionInputs:
    """Validate the raw string inputs (as the runner passes them) into :class:`ActionInputs`.

    ``insecure_http_hosts`` are extra hosts allowed over plain http (loopback always is).
    Raises :class:`InputError` naming the first invalid input.
    """
    values = {name: _get(raw, name) for name in INPUT_NAMES}
    context = parse_port_context(values["port_context"])

    incident_id = values["incident_id"] or context.entity or ""
    if not incident_id:
        raise InputError(
            "incident_id",
            "no incident to escalate.",
            hint="Set incident_id, or pass port_context with the incident entity "
            '(for example {"entity": "{{.entity.identifier}}", "run_id": "{{.run.id}}"}).',
        )
    source = "incident_id" if values["incident_id"] else "port_context.entity"
    _require(
        _PAGERDUTY_ID,
        incident_id,
        source,
        "is not a PagerDuty incident ID or number.",
        "PagerDuty IDs are uppercase letters and digits, such as Q2LAR4ADCXC8IB or PT4KHLK.",
    )

    policy_id = values["escalation_policy_id"] or None
    if policy_id is not None:
        _require(
            _PAGERDUTY_ID,
            policy_id,
            "escalation_policy_id",
            "is not a PagerDuty escalation policy ID.",
            "Copy the ID from the policy's page in PagerDuty (the last part of its URL, "
            "such as PT4KHLK).",
        )
    level = _parse_level(values["escalation_level"])
    urgency = _parse_urgency(values["urgency"])
    if policy_id is None and level is None and urgency is None:
        raise InputError(
            "escalation_policy_id",
            "nothing to change.",
            hint="Set at least one of escalation_policy_id, escalation_level or urgency.",
        )

    from_email = values["from"] or None
    if from_email is not None and (
        len(from_email) > 254 or not _header_safe(from_email) or not _EMAIL.fullmatch(from_email)
    ):
        raise InputError(
            "from",
            "is not an email address.",
            hint="Give the email of a PagerDuty user, such as oncall@example.com "
            "(Port's user input: the user's email).",
        )

    token = values["pagerduty_token"]
    if not token:
        raise InputError(
            "pagerduty_token",
            "is required.",
            hint="Create a PagerDuty REST API key and pass it from a secret: "
            "pagerduty_token: ${{ secrets.PAGERDUTY_API_KEY }}.",
        )
    _no_control_characters(token, "pagerduty_token", "Paste the key again, without spaces.")

    client_id = values["port_client_id"] or None
    client_secret = values["port_client_secret"] or None
    if (client_id is None) != (client_secret is None):
        missing = "port_client_secret" if client_secret is None else "port_client_id"
        raise InputError(
            missing,
            "is required when the other Port credential is set.",
            hint="Pass both port_client_id and port_client_secret from secrets, or neither to "
            "skip Port reporting.",
        )
    for name, value in (("port_client_id", client_id), ("port_client_secret", client_secret)):
        if value is not None:
            _no_control_characters(value, name, "Copy the credentials again from Port.")

    blueprint = values["port_blueprint"] or context.blueprint or DEFAULT_BLUEPRINT
    _require(
        _PORT_BLUEPRINT,
        blueprint,
        "port_blueprint" if values["port_blueprint"] else "port_context.blueprint",
        "is not a Port blueprint identifier.",
        "Use the blueprint's identifier, such as pagerdutyIncident.",
    )
    if context.run_id is not None:
        _require(
            _PORT_RUN_ID,
            context.run_id,
            "port_context.run_id",
            "is not a Port run ID.",
            'Template it as "run_id": "{{.run.id}}" in the Port action.',
        )

    github_token = values["github_token"] or None
    if github_token is not None:
        _no_control_characters(github_token, "github_token", "Pass ${{ github.token }}.")

    return ActionInputs(
        incident_id=incident_id,
        escalation_policy_id=policy_id,
        escalation_level=level,
        urgency=urgency,
        from_email=from_email,
        pagerduty_token=SecretStr(token),
        pagerduty_api_url=_api_url("pagerduty", values, PAGERDUTY_REGIONS, insecure_http_hosts),
        port_client_id=SecretStr(client_id) if client_id else None,
        port_client_secret=SecretStr(client_secret) if client_secret else None,
        port_api_url=_api_url("port", values, PORT_REGIONS, insecure_http_hosts),
        port_blueprint=blueprint,
        port_run_id=context.run_id,
        port_context_given=bool(values["port_context"]),
        port_relations=context.relations,
        port_property_mapping=_parse_property_mapping(values["port_property_mapping"]),
        finish_port_run=_parse_bool(values, "finish_port_run"),
        github_token=SecretStr(github_token) if github_token else None,
        dry_run=_parse_bool(values, "dry_run"),
        timeout_seconds=_parse_timeout(values["timeout_seconds"]),
    )


def parse_port_context(raw: str) -> PortContext:
    """Read the ``port_context`` JSON in any of the shapes Port's guides template.

    Accepts ``run_id``/``runId`` (top level or under ``context``), ``entity`` as an identifier or an
    entity object, ``blueprint``, ``relations`` (an object, or that object as a JSON string).
    Unknown keys are ignored.
    """
    if not raw.strip():
        return PortContext()
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_PORT_CONTEXT_BYTES:
        raise InputError(
            "port_context",
            f"is larger than {MAX_PORT_CONTEXT_BYTES // 1024} KiB.",
            hint="Send only blueprint, entity, run_id and relations from the Port action.",
        )
    document = _load_json(raw, "port_context", 'an object such as {"entity": ..., "run_id": ...}')
    if not isinstance(document, dict):
        raise InputError(
            "port_context",
            f"must be a JSON object, not {_json_type(document)}.",
            hint='Template it as {"blueprint": "{{.action.blueprint}}", "entity": '
            '"{{.entity.identifier}}", "run_id": "{{.run.id}}", '
            '"relations": "{{.entity.relations}}"}.',
        )
    nested = document.get("context")
    scopes: list[dict[str, Any]] = [document]
    if isinstance(nested, dict):
        scopes.append(nested)

    run_id = _first_string(scopes, ("run_id", "runId"), "port_context.run_id")
    entity_value = _first_present(scopes, "entity")
    entity: str | None = None
    entity_blueprint: str | None = None
    entity_relations: Any = None
    if isinstance(entity_value, dict):
        identifier = entity_value.get("identifier")
        if identifier is not None and not isinstance(identifier, str):
            raise _wrong_type("port_context.entity.identifier", identifier, "a string")
        entity = identifier or None
        blueprint_value = entity_value.get("blueprint")
        entity_blueprint = blueprint_value if isinstance(blueprint_value, str) else None
        entity_relations = entity_value.get("relations")
    elif isinstance(entity_value, str):
        entity = entity_value.strip() or None
    elif entity_value is not None:
        raise _wrong_type("port_context.entity", entity_value, "an identifier or an entity object")

    blueprint = _first_string(scopes, ("blueprint",), "port_context.blueprint") or entity_blueprint
    relations_value = _first_present(scopes, "relations")
    if relations_value is None:
        relations_value = entity_relations
    return PortContext(
        run_id=run_id,
        entity=entity,
        blueprint=blueprint,
        relations=_parse_relations(relations_value),
    )


# --- helpers -----------------------------------------------------------------------------------


def _get(raw: Mapping[str, str], name: str) -> str:
    value = raw.get(name)
    if value is None or not value.strip():
        return DEFAULTS.get(name, "")
    # Secrets keep their exact value; everything else is trimmed of the spaces YAML leaves.
    return value if name in SECRET_INPUTS else value.strip()


def _require(pattern: re.Pattern[str], value: str, name: str, problem: str, hint: str) -> None:
    if not pattern.fullmatch(value):
        raise InputError(name, f"{_show(value)} {problem}", hint=hint)


def _show(value: str) -> str:
    """Quote a user value for a message, bounded and with control characters made visible."""
    shown = value if len(value) <= 60 else value[:57] + "..."
    return json.dumps(shown, ensure_ascii=True)


def _header_safe(value: str) -> bool:
    """Printable ASCII only: what an HTTP header carries without splitting or failing."""
    return value.isascii() and value.isprintable()


def _no_control_characters(value: str, name: str, hint: str) -> None:
    if not _header_safe(value) or value != value.strip():
        raise InputError(
            name, "contains spaces, line breaks, control or non-ASCII characters.", hint=hint
        )


def _parse_level(raw: str) -> int | None:
    if not raw:
        return None
    try:
        level = int(raw, 10)
    except ValueError:
        raise InputError(
            "escalation_level",
            f"{_show(raw)} is not a whole number.",
            hint="Give the level of the escalation policy to escalate to: 1, 2, 3...",
        ) from None
    if not 1 <= level <= 100:
        raise InputError(
            "escalation_level",
            f"{level} is out of range.",
            hint="Levels start at 1 (the first rule of the policy); use 1 to bring the incident "
            "back to the first level.",
        )
    return level


def _parse_urgency(raw: str) -> Literal["high", "low"] | None:
    if not raw:
        return None
    lowered = raw.lower()
    if lowered == "high":
        return "high"
    if lowered == "low":
        return "low"
    raise InputError("urgency", f"{_show(raw)} is not an urgency.", hint="Use high or low.")


def _parse_bool(values: Mapping[str, str], name: str) -> bool:
    raw = values[name]
    parsed = _BOOLEANS.get(raw.lower())
    if parsed is None:
        raise InputError(name, f"{_show(raw)} is not a boolean.", hint="Use true or false.")
    return parsed


def _parse_timeout(raw: str) -> float:
    try:
        timeout = float(raw)
    except ValueError:
        timeout = -1.0
    if not 5 <= timeout <= 3600:  # also rejects nan
        raise InputError(
            "timeout_seconds",
            f"{_show(raw)} is not a number of seconds between 5 and 3600.",
            hint="Use the default, 120, or the most time the step may take.",
        )
    return timeout


def _api_url(
    service: Literal["pagerduty", "port"],
    values: Mapping[str, str],
    regions: Mapping[str, str],
    insecure_http_hosts: frozenset[str],
) -> str:
    override_name = f"{service}_api_url"
    override = values[override_name]
    if not override:
        region_name = f"{service}_region"
        region = values[region_name].lower()
        if region not in regions:
            raise InputError(
                region_name,
                f"{_show(values[region_name])} is not a region.",
                hint=f"Use {' or '.join(regions)}.",
            )
        return regions[region]
    parts = urlsplit(override)
    host = parts.hostname or ""
    example = "http://127.0.0.1:8080/" + ("pagerduty" if service == "pagerduty" else "port")
    if parts.scheme not in ("https", "http") or not host:
        raise InputError(
            override_name,
            f"{_show(override)} is not an http(s) URL.",
            hint=f"Give the API's base URL, such as {regions[next(iter(regions))]} or {example}.",
        )
    if parts.scheme == "http" and not (_is_loopback(host) or host in insecure_http_hosts):
        raise InputError(
            override_name,
            "uses plain http to a host that is not loopback.",
            hint="Use https; plain http is allowed only to 127.0.0.1 or localhost (the sandbox).",
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InputError(
            override_name,
            "must not contain credentials, a query or a fragment.",
            hint="Give only the scheme, host, port and path; credentials go in their own inputs.",
        )
    path = parts.path.rstrip("/")
    if service == "port" and path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _load_json(raw: str, name: str, expected: str) -> Any:
    try:
        document = json.loads(raw)
    except RecursionError:
        raise InputError(
            name, f"is nested deeper than {MAX_JSON_DEPTH} levels.", hint=f"Pass {expected}."
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            name,
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).",
            hint=f"Pass {expected}.",
        ) from None
    if _depth(document) > MAX_JSON_DEPTH:
        raise InputError(
            name, f"is nested deeper than {MAX_JSON_DEPTH} levels.", hint=f"Pass {expected}."
        )
    return document


def _depth(document: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _wrong_type(name: str, value: Any, expected: str) -> InputError:
    return InputError(
        name,
        f"must be {expected}, not {_json_type(value)}.",
        hint="Check the workflowInputs of the Port action.",
    )


def _first_present(scopes: list[dict[str, Any]], key: str) -> Any:
    for scope in scopes:
        if scope.get(key) is not None:
            return scope[key]
    return None


def _first_string(scopes: list[dict[str, Any]], keys: tuple[str, ...], name: str) -> str | None:
    for scope in scopes:
        for key in keys:
            value = scope.get(key)
            if value is None:
                continue
            if not isinstance(value, str):
                raise _wrong_type(name, value, "a string")
            if value.strip():
                return value.strip()
    return None


def _parse_relations(value: Any) -> Relations:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        # Port renders "{{.entity.relations}}" inside a string as the object's JSON.
        value = _load_json(value, "port_context.relations", "an object of relation identifiers")
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise _wrong_type("port_context.relations", value, "an object")
    relations: Relations = {}
    for name, target in value.items():
        field = f"port_context.relations.{name}"
        if not _PORT_BLUEPRINT.fullmatch(name):
            raise InputError(
                "port_context.relations",
                f"{_show(name)} is not a relation identifier.",
                hint="Pass the entity's relations as Port gives them: {{.entity.relations}}.",
            )
        if target is None:
            relations[name] = None
        elif isinstance(target, str):
            _check_entity_id(target, field)
            relations[name] = target
        elif isinstance(target, list) and all(isinstance(item, str) for item in target):
            for item in target:
                _check_entity_id(item, field)
            relations[name] = list(target)
        else:
            raise _wrong_type(field, target, "an identifier, a list of identifiers or null")
    return relations


def _check_entity_id(value: str, name: str) -> None:
    _require(
        _PORT_ENTITY_ID,
        value,
        name,
        "is not a Port entity identifier.",
        "Identifiers are letters, digits and @_.+:\\/=- up to 1000 characters.",
    )


def _parse_property_mapping(raw: str) -> dict[str, str | None] | None:
    if not raw:
        return None
    example = 'an object such as {"team": "service.summary", "responder": null}'
    document = _load_json(raw, "port_property_mapping", example)
    if not isinstance(document, dict):
        raise InputError(
            "port_property_mapping",
            f"must be a JSON object, not {_json_type(document)}.",
            hint=f"Pass {example}.",
        )
    mapping: dict[str, str | None] = {}
    for prop, path in document.items():
        if not _PORT_BLUEPRINT.fullmatch(prop):
            raise InputError(
                "port_property_mapping",
                f"{_show(prop)} is not a Port property identifier.",
                hint=f"Pass {example}.",
            )
        if path is not None and not (isinstance(path, str) and _FIELD_PATH.fullmatch(path)):
            raise InputError(
                "port_property_mapping",
                f"the path for {_show(prop)} must be a dotted incident field path or null.",
                hint="Use paths such as title, service.summary or assignments.0.assignee.summary.",
            )
        mapping[prop] = path
    return mapping
