"""The registry of operations: the one list the faces, the kit, the inputs and the use case read.

Each operation's module declares everything about it (its inputs model, its words, its command
line, its kit action, its plan); adding one is adding its module and one line below
(CONTRIBUTING.md, "Adding an operation", lists the rest: its kit JSON, its action.yml inputs, its
tests). A module is imported the first time its operation is asked for: a run loads only its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from escalator.inputs import CommonInputs
from escalator.inputs import parse_inputs as parse_with

if TYPE_CHECKING:  # the protocols only: a run imports the parts its own operation uses
    from escalator.operations.base import Described, Operation
    from escalator.operations.target import TargetOperation

T = TypeVar("T")

#: The operations on one incident (module and class), in the order the faces and the kit show
#: them (the first is the default ``operation``). An operation is named as its module, with
#: '-' for '_'.
_INCIDENT = (
    "escalate:Escalate",
    "acknowledge:Acknowledge",
    "resolve:Resolve",
    "reassign:Reassign",
    "note:Note",
    "snooze:Snooze",
    "priority:SetPriority",
    "create:Create",
)
#: The operations on a schedule, a service or an event (:mod:`escalator.operations.target`).
_TARGET = (
    "oncall:Oncall",
    "override:Override",
    "remove_override:RemoveOverride",
    "create_service:CreateServiceOperation",
    "trigger:Trigger",
    "change_event:ChangeEventOperation",
)


def _operation(place: str) -> Any:
    """The operation at ``place`` ('.module:Class' in this package, or 'package.module:Class'),
    its module imported if it was not yet."""
    module, _, name = place.partition(":")
    return getattr(importlib.import_module(module, package=__name__), name)()


class Registry(Mapping[str, T]):
    """Operations (or what ``view`` reads of each) by name: the names are known at once, an
    operation's module is imported when its value is asked for (iterating the values imports
    them all, as the command line's help and the kit do)."""

    def __init__(self, places: Iterable[str], view: Callable[[Any], T] = lambda o: o) -> None:
        #: where each operation is ('.module:Class'), by name: its module's, '_' written '-'
        self.places = {place.partition(":")[0].replace("_", "-"): f".{place}" for place in places}
        self._view = view

    def __getitem__(self, name: str) -> T:
        return self._view(_operation(self.places[name]))

    def __contains__(self, name: object) -> bool:
        return name in self.places

    def __iter__(self) -> Iterator[str]:
        return iter(self.places)

    def __len__(self) -> int:
        return len(self.places)


INCIDENT_OPERATIONS: Registry[Operation[Any, Any]] = Registry(_INCIDENT)
TARGET_OPERATIONS: Registry[TargetOperation[Any, Any, Any]] = Registry(_TARGET)
#: Every operation by name, as the faces, the kit and the inputs know them.
OPERATIONS: Registry[Described[Any]] = Registry((*_INCIDENT, *_TARGET))
#: The inputs each operation requires, and those it also accepts (read from its inputs model).
OPERATION_INPUTS: Registry[tuple[tuple[str, ...], tuple[str, ...]]] = Registry(
    (*_INCIDENT, *_TARGET),
    lambda operation: (operation.inputs_model.needs(), operation.inputs_model.accepts()),
)


def parse_inputs(
    raw: Mapping[str, str], *, insecure_http_hosts: frozenset[str] = frozenset()
) -> CommonInputs:
    """The raw inputs validated into the inputs model of the operation they name (see
    :func:`escalator.inputs.parse_inputs`)."""
    return parse_with(raw, operations=OPERATIONS, insecure_http_hosts=insecure_http_hosts)
