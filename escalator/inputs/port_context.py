"""``port_context``: the JSON a Port action sends, read in every shape Port's guides template.

Accepted: ``run_id`` or ``runId``, at the top level or under ``context``; ``entity`` as an
identifier or as the entity object (its ``identifier``, ``blueprint`` and ``relations``);
``blueprint``; ``relations`` as an object or as that object's JSON in a string. Keys that Port
templates but the action does not read (``trigger``, ``action``, ``user``, ``inputs``...) are
allowed; any other key is a mistake, named with the closest known key.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from escalator.errors import InputError
from escalator.inputs.fields import PortIdentifier, Relations, RunId, load_json, show
from escalator.inputs.translate import input_error

#: GitHub caps a workflow_dispatch input at 65,535 characters; what Port sends is far smaller.
MAX_PORT_CONTEXT_BYTES = 64 * 1024
RUN_ID_KEYS = ("run_id", "runId")
READ_KEYS = (*RUN_ID_KEYS, "entity", "blueprint", "relations", "context")
#: Keys Port's templates put in port_context that the action does not need.
UNREAD_KEYS = (
    "trigger",
    "action",
    "user",
    "inputs",
    "properties",
    "payload",
    "resourceType",
    "status",
    "run",
)


def _relations(value: Any) -> Any:
    """Port renders ``"{{.entity.relations}}"`` inside a string as the object's JSON."""
    document = load_json(value) if isinstance(value, str) and value.strip() else value
    return {} if document in (None, "") else document


class PortContext(BaseModel):
    """What the action reads of ``port_context``."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    run_id: RunId | None = None
    entity: str | None = None
    blueprint: PortIdentifier | None = None
    relations: Annotated[Relations, BeforeValidator(_relations)] = {}

    @model_validator(mode="before")
    @classmethod
    def _read(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        document = load_json(value)
        if not isinstance(document, dict):
            raise ValueError(f"must be a JSON object, not {show(document)}")  # noqa: TRY004  # pydantic reports ValueError, not TypeError
        scopes = [document]
        if isinstance(document.get("context"), dict):
            scopes.append(document["context"])
        for scope in scopes:
            _check_keys(scope)
        entity = _first(scopes, "entity")
        as_object = entity if isinstance(entity, dict) else {}
        return {
            "run_id": _run_id(scopes),
            "entity": _first([as_object], "identifier") if as_object else entity,
            "blueprint": _first(scopes, "blueprint") or _first([as_object], "blueprint"),
            "relations": _first(scopes, "relations") or as_object.get("relations"),
        }


def _first(scopes: list[dict[str, Any]], key: str) -> Any:
    """The first value of ``key`` that is not null or blank; strings are trimmed."""
    for scope in scopes:
        value = scope.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            return value
    return None


def _run_id(scopes: list[dict[str, Any]]) -> Any:
    return next((value for key in RUN_ID_KEYS if (value := _first(scopes, key))), None)


def _check_keys(scope: dict[str, Any]) -> None:
    for key in scope:
        if key in READ_KEYS or key in UNREAD_KEYS:
            continue
        import difflib  # only for a key it does not know: not at start-up

        close = difflib.get_close_matches(str(key), READ_KEYS + UNREAD_KEYS, n=1, cutoff=0.6)
        if not close:
            close = [known for known in READ_KEYS if known.lower() == str(key).lower()]
        fix = f"did you mean {show(close[0])}?" if close else f"it reads {', '.join(READ_KEYS)}"
        raise ValueError(f"has the key {show(key)}, which the action does not read; {fix}")


def parse_port_context(raw: str) -> PortContext:
    """Read ``port_context``; an empty one is an empty :class:`PortContext`."""
    if not raw.strip():
        return PortContext()
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_PORT_CONTEXT_BYTES:
        raise InputError(
            "port_context",
            f"is larger than {MAX_PORT_CONTEXT_BYTES // 1024} KiB.",
            hint="Send only blueprint, entity, run_id and relations from the Port action.",
        )
    try:
        return PortContext.model_validate(raw)
    except ValidationError as exc:
        raise input_error(exc, within="port_context") from exc


def run_id_in(raw: str) -> str | None:
    """The run id of ``port_context`` even when the rest of it is invalid (None if unreadable)."""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_PORT_CONTEXT_BYTES:
        return None
    try:
        document = load_json(raw) if raw.strip() else None
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    nested = document.get("context")
    run_id = _run_id([document, nested if isinstance(nested, dict) else {}])
    return run_id if isinstance(run_id, str) else None
