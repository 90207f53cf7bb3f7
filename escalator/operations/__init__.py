"""The incident operations, one module each; the use case finds them here by name.

Adding an operation is adding its module and one line below; the run loop does not change.
"""

from __future__ import annotations

from collections.abc import Mapping

from escalator.operations.acknowledge import Acknowledge
from escalator.operations.base import Operation
from escalator.operations.create import Create
from escalator.operations.escalate import Escalate
from escalator.operations.note import Note
from escalator.operations.priority import SetPriority
from escalator.operations.reassign import Reassign
from escalator.operations.resolve import Resolve
from escalator.operations.snooze import Snooze

OPERATIONS: Mapping[str, Operation] = {
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
