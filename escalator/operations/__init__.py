"""The registry of operations: the one list the faces, the kit, the inputs and the use case read.

Each operation's module declares everything about it (its inputs, its words, its command line,
its kit action, its plan); adding one is adding its module and one line below (CONTRIBUTING.md,
"Adding an operation", lists the rest: its kit JSON, its action.yml inputs, its tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from escalator.inputs import parse_inputs as parse_with
from escalator.inputs.model import ActionInputs
from escalator.operations.acknowledge import Acknowledge
from escalator.operations.base import Described, Operation
from escalator.operations.change_event import ChangeEventOperation
from escalator.operations.create import Create
from escalator.operations.create_service import CreateServiceOperation
from escalator.operations.escalate import Escalate
from escalator.operations.note import Note
from escalator.operations.oncall import Oncall
from escalator.operations.override import Override
from escalator.operations.priority import SetPriority
from escalator.operations.reassign import Reassign
from escalator.operations.remove_override import RemoveOverride
from escalator.operations.resolve import Resolve
from escalator.operations.snooze import Snooze
from escalator.operations.target import TargetOperation
from escalator.operations.trigger import Trigger

#: The operations on one incident, in the order the faces and the kit show them (the first is the
#: default ``operation``).
INCIDENT_OPERATIONS: Mapping[str, Operation[Any]] = {
    operation.name: operation
    for operation in (
        Escalate(),
        Acknowledge(),
        Resolve(),
        Reassign(),
        Note(),
        Snooze(),
        SetPriority(),
        Create(),
    )
}
#: The operations on a schedule, a service or an event (:mod:`escalator.operations.target`).
_TARGETS: tuple[TargetOperation[Any, Any], ...] = (
    Oncall(),
    Override(),
    RemoveOverride(),
    CreateServiceOperation(),
    Trigger(),
    ChangeEventOperation(),
)
TARGET_OPERATIONS: Mapping[str, TargetOperation[Any, Any]] = {
    operation.name: operation for operation in _TARGETS
}
#: Every operation by name, as the faces, the kit and the inputs know them.
OPERATIONS: Mapping[str, Described] = {**INCIDENT_OPERATIONS, **TARGET_OPERATIONS}
#: The inputs each operation requires, and those it also accepts.
OPERATION_INPUTS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    name: (operation.needs, operation.accepts) for name, operation in OPERATIONS.items()
}


def parse_inputs(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> ActionInputs:
    """The raw inputs validated against the registry's operations (see
    :func:`escalator.inputs.parse_inputs`)."""
    return parse_with(raw, operations=OPERATIONS, insecure_http_hosts=insecure_http_hosts)
