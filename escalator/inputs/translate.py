"""The one place where pydantic's validation errors become an :class:`InputError`.

The error reported is the first in ``action.yml`` order, named by its input (or by the key inside
an input's JSON, ``port_context.run_id``), with that input's hint. Secret values are never shown,
nor a value that holds one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from escalator.errors import InputError
from escalator.hints import hint_for
from escalator.inputs.fields import show
from escalator.terms import INPUT_NAMES, SECRET_ENV

#: Model fields named otherwise in action.yml.
FIELD_INPUTS: Mapping[str, str] = {
    "from_email": "from",
    "snooze_seconds": "snooze_duration",
    "port_run_id": "port_context.run_id",
    "port_relations": "port_context.relations",
}


def input_error(
    exc: ValidationError | Sequence[ErrorDetails],
    *,
    within: str = "",
    sources: Mapping[str, str] | None = None,
    secrets: Collection[str] = (),
) -> InputError:
    """The :class:`InputError` for the first error of ``exc`` (or of the errors given).

    ``within`` names the input whose JSON was validated (``port_context``); ``sources`` maps a
    field to the key it was taken from when it was not given itself (``port_context.entity``);
    a value that holds one of ``secrets`` (an input wired to the wrong secret) is not quoted.
    """
    errors = exc.errors() if isinstance(exc, ValidationError) else exc
    named = [(_input_name(error, within, sources or {}), error) for error in errors]
    name, error = min(named, key=lambda pair: _order(pair[0]))
    problem = _problem(name, error, secret=_holds_secret(error["input"], secrets))
    return InputError(name, problem, hint=hint_for(name).fix)


def _holds_secret(value: object, secrets: Collection[str]) -> bool:
    """Whether ``value`` holds a secret, or a part of one, in any case: a validator may have
    lowered it, and a quote may cut it, so a redaction by the exact text would miss it."""
    text = str(value).lower()
    return any(
        secret.strip().lower() in text or (len(text) >= 8 and text in secret.lower())
        for secret in secrets
        if len(secret.strip()) >= 8
    )


def _input_name(error: ErrorDetails, within: str, sources: Mapping[str, str]) -> str:
    loc: list[str] = []
    for part in error["loc"]:
        if isinstance(part, int):
            continue
        if not re.fullmatch(r"[A-Za-z0-9_]+", part):
            break  # a key the user wrote, or a pydantic tag: the name stops at the last sound key
        loc.append(part)
    if within:
        return ".".join([within, *loc])
    if not loc:
        return "operation"
    field = loc[0]
    return ".".join([sources.get(field) or FIELD_INPUTS.get(field, field), *loc[1:]])


def _order(name: str) -> int:
    root = name.partition(".")[0]
    return INPUT_NAMES.index(root) if root in INPUT_NAMES else len(INPUT_NAMES)


def _problem(name: str, error: ErrorDetails, *, secret: bool) -> str:
    if error["type"] == "missing":
        return "is required."
    shown = "the value" if secret or name in SECRET_ENV else show(error["input"])
    if "[key]" in error["loc"]:
        return f"has the key {shown}, which is not an identifier."
    if error["type"] == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
        text = text.replace(show(error["input"]), shown)
        return text if text.endswith(("?", ".")) else f"{text}."
    return f"{shown} is not {hint_for(name).what}."
