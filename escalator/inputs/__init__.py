"""The action's inputs: read once, validated once by pydantic, into the operation's frozen model.

Every failure is an :class:`~escalator.errors.InputError` that names the input and says how to fix
it, before any request is sent. The names are those of ``action.yml``.

- :mod:`~escalator.inputs.fields`: the value types, their constraints and validators;
- :mod:`~escalator.inputs.port_context`: the JSON a Port action sends;
- :mod:`~escalator.inputs.model`: :class:`PortReporting`, :class:`CommonInputs` (every
  operation's own inputs model, in its module, adds its fields to them) and how an operation's
  :class:`InputRule` is checked;
- :mod:`~escalator.inputs.translate`: pydantic's errors into :class:`InputError`;
- :mod:`~escalator.inputs.parse`: from the raw strings to the models.
"""

from __future__ import annotations

from escalator.inputs.fields import PAGERDUTY_REGIONS, PORT_REGIONS
from escalator.inputs.model import (
    DEFAULT_BLUEPRINT,
    DEFAULT_SERVICE_BLUEPRINT,
    CommonInputs,
    IncidentInputs,
    InputRule,
    PortReporting,
)
from escalator.inputs.parse import DEFAULTS, parse_inputs, parse_port_reporting, port_api_url
from escalator.inputs.port_context import PortContext, parse_port_context
from escalator.terms import INPUT_NAMES, SECRET_ENV

#: Inputs whose values are credentials: masked before anything is printed.
SECRET_INPUTS: tuple[str, ...] = tuple(SECRET_ENV)

__all__ = [
    "DEFAULTS",
    "DEFAULT_BLUEPRINT",
    "DEFAULT_SERVICE_BLUEPRINT",
    "INPUT_NAMES",
    "PAGERDUTY_REGIONS",
    "PORT_REGIONS",
    "SECRET_INPUTS",
    "CommonInputs",
    "IncidentInputs",
    "InputRule",
    "PortContext",
    "PortReporting",
    "parse_inputs",
    "parse_port_context",
    "parse_port_reporting",
    "port_api_url",
]
