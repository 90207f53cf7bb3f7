"""The one place where pydantic's validation errors become an :class:`InputError`.

The error reported is the first in ``action.yml`` order, named by its input (or by the key inside
an input's JSON, ``port_context.run_id``), with that input's hint. Secret values are never shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from escalator.errors import InputError
from escalator.inputs.fields import show
from escalator.inputs.hints import hint_for
from escalator.terms import INPUT_NAMES, SECRET_ENV

#: Model fields named otherwise in action.yml.
FIELD_INPUTS: Mapping[str, str] = {
    "from_email": "from",
    "snooze_seconds": "snooze_duration",
    "port_run_id": "port_context.run_id",
    "port_relations": "port_context.relations",
}


def input_error(
    exc: ValidationError, *, within: str = "", sources: Mapping[str, str] | None = None
) -> InputError:
    """The :class:`InputError` for the first error of ``exc``.

    ``within`` names the input whose JSON was validated (``port_context``); ``sources`` maps a
    field to the key it was taken from when it was not given itself (``port_context.entity``).
    """
    named = [(_input_name(error, within, sources or {}), error) for error in exc.errors()]
    name, error = min(named, key=lambda pair: _order(pair[0]))
    return InputError(name, _problem(name, error), hint=hint_for(name).fix)


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


def _problem(name: str, error: ErrorDetails) -> str:
    if error["type"] == "missing":
        return "is required."
    if "[key]" in error["loc"]:
        return f"has the key {show(error['input'])}, which is not an identifier."
    if error["type"] == "value_error":
        text = str(error.get("ctx", {}).get("error", error["msg"]))
        return text if text.endswith(("?", ".")) else f"{text}."
    shown = "the value" if name in SECRET_ENV else show(error["input"])
    return f"{shown} is not {hint_for(name).what}."
