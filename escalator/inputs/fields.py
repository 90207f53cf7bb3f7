"""The value types of the inputs: pydantic annotated types with their constraints and validators.

A validator raises ``ValueError`` with a message that quotes the value (:func:`show`); the
translation into :class:`~escalator.errors.InputError` adds the input's name and hint.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, StringConstraints
from pydantic import ValidationInfo as Info

from escalator.clients.bodies import EventAction
from escalator.inputs.times import check_end, check_instant

PAGERDUTY_REGIONS: Mapping[str, str] = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
PAGERDUTY_EVENTS_REGIONS: Mapping[str, str] = {
    "us": "https://events.pagerduty.com",
    "eu": "https://events.eu.pagerduty.com",
}
PORT_REGIONS: Mapping[str, str] = {
    "eu": "https://api.port.io",
    "us": "https://api.us.port.io",
}
MAX_JSON_DEPTH = 32
MAX_SNOOZE_SECONDS = 7 * 24 * 3600

_EMAIL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+"
_PAGERDUTY_ID = r"[A-Z0-9]{1,64}"
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", re.IGNORECASE)
_DURATION_UNITS = (86400, 3600, 60, 1)


def show(value: object) -> str:
    """A user value quoted for a message: bounded, control characters made visible."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text if len(text) <= 60 else text[:57] + "...", ensure_ascii=True)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _known_operation(value: str, info: Info) -> str:
    """One of the operations the validation context names (the registry passes them in)."""
    if value not in (info.context or {}).get("operations", ()):
        raise ValueError(f"{show(value)} is not an operation")
    return value


def _header_safe(secret: SecretStr) -> SecretStr:
    """Printable ASCII without surrounding spaces: what an HTTP header carries intact."""
    value = secret.get_secret_value()
    if not (value.isascii() and value.isprintable() and value == value.strip()):
        raise ValueError("contains spaces, line breaks, control or non-ASCII characters")
    return secret


def _routing_key(secret: SecretStr) -> SecretStr:
    """An Events API v2 integration key: 32 letters and digits (the value is never quoted)."""
    value = secret.get_secret_value()
    if not (len(value) == 32 and value.isascii() and value.isalnum()):
        raise ValueError(
            "is not an Events API v2 integration key (32 letters and digits; the value is not "
            "shown)"
        )
    return secret


def _one_line(value: str) -> str:
    if not value.isprintable():
        raise ValueError(f"{show(value)} contains line breaks or control characters")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"is not valid JSON ({name} is not a JSON value)")


def load_json(value: Any) -> Any:
    """Parse a JSON input, refusing documents nested deeper than :data:`MAX_JSON_DEPTH`."""
    if not isinstance(value, str):
        return value
    try:
        document = json.loads(value, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return document


def _duration(value: Any) -> Any:
    """``1800``, ``30m``, ``4h``, ``1h30m``, ``1d`` as whole seconds, from 1 second to 7 days."""
    if not isinstance(value, str):
        return value
    match = _DURATION.fullmatch(value)
    if value.isdigit():
        seconds = int(value)
    elif value and match:
        seconds = sum(
            int(n or 0) * unit for n, unit in zip(match.groups(), _DURATION_UNITS, strict=True)
        )
    else:
        raise ValueError(f"{show(value)} is not a number of seconds or a duration")
    if not 1 <= seconds <= MAX_SNOOZE_SECONDS:
        raise ValueError(f"{show(value)} is not between 1 second and 7 days")
    return seconds


def _assignee_list(value: Any) -> Any:
    """Emails or user IDs separated by commas, spaces or newlines; repeats dropped."""
    if not isinstance(value, str):
        return value
    return tuple(dict.fromkeys(item for item in re.split(r"[\s,;]+", value) if item))


def _assignee(value: str) -> str:
    pattern = _EMAIL if "@" in value else _PAGERDUTY_ID
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{show(value)} is neither an email nor a PagerDuty user ID")
    return value


def _relation_target(value: Any) -> Any:
    items = value if isinstance(value, list) else [] if value is None else [value]
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"{show(value)} is not an identifier, a list of identifiers or null")
    for item in items:
        if not re.fullmatch(r"[A-Za-z0-9@_.+:\\/=-]{1,1000}", item):
            raise ValueError(f"{show(item)} is not a Port entity identifier")
    return value


def _api_url(value: str, info: Info) -> str:
    """An http(s) base URL; plain http only to loopback or to the hosts the context allows."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"{show(value)} is not an http(s) URL")
    allowed = (info.context or {}).get("insecure_http_hosts", frozenset())
    if parts.scheme == "http" and not (_is_loopback(host) or host in allowed):
        raise ValueError("uses plain http to a host that is not loopback")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("must not contain credentials, a query or a fragment")
    path = parts.path.rstrip("/")
    if info.field_name == "port_api_url":
        path = path.removesuffix("/v1")
    return f"{parts.scheme}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


PagerDutyId = Annotated[str, StringConstraints(pattern=f"^{_PAGERDUTY_ID}$")]
PortIdentifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9@_=-]{1,100}$")]
RunId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
Email = Annotated[str, StringConstraints(pattern=f"^{_EMAIL}$", max_length=254)]
Secret = Annotated[SecretStr, AfterValidator(_header_safe)]
Line = Annotated[str, AfterValidator(_one_line)]
IncidentKey = Annotated[str, StringConstraints(max_length=255), AfterValidator(_one_line)]
ServiceName = Annotated[str, StringConstraints(max_length=255), AfterValidator(_one_line)]
Urgency = Annotated[Literal["high", "low"], BeforeValidator(_lower)]
RoutingKey = Annotated[SecretStr, AfterValidator(_routing_key)]
EventActionInput = Annotated[EventAction, BeforeValidator(_lower)]
Severity = Annotated[Literal["critical", "error", "warning", "info"], BeforeValidator(_lower)]
EventSource = Annotated[str, StringConstraints(max_length=255), AfterValidator(_one_line)]
OperationName = Annotated[str, BeforeValidator(_lower), AfterValidator(_known_operation)]
Region = Annotated[Literal["us", "eu"], BeforeValidator(_lower)]
Level = Annotated[int, Field(ge=1, le=100)]
Seconds = Annotated[float, Field(ge=5, le=3600, allow_inf_nan=False)]
SnoozeSeconds = Annotated[int, BeforeValidator(_duration)]
Assignees = Annotated[
    tuple[Annotated[str, AfterValidator(_assignee)], ...], BeforeValidator(_assignee_list)
]
ApiUrl = Annotated[str, AfterValidator(_api_url)]
RelationTarget = Annotated[str | list[str] | None, BeforeValidator(_relation_target)]
Relations = dict[PortIdentifier, RelationTarget]
FieldPath = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")]
PropertyMapping = Annotated[dict[PortIdentifier, FieldPath | None], BeforeValidator(load_json)]
User = Annotated[str, AfterValidator(_assignee)]
Instant = Annotated[str, AfterValidator(check_instant)]
Until = Annotated[str, AfterValidator(check_end)]
