"""What a run did, filled in as it goes; the outputs, the summary and the Port texts read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from escalator.clients.models import Incident, PortBlueprint, PortEntity
from escalator.inputs import CommonInputs
from escalator.operations.base import Operation, Plan, Write


@dataclass
class Outcome:
    """The run so far: the incident before and after, the plan, what was sent, what Port got."""

    inputs: CommonInputs
    operation: Operation[Any, Any]
    before: Incident | None = None
    after: Incident | None = None
    plan: Plan | None = None
    sent: list[Write] = field(default_factory=list)
    blueprint: PortBlueprint | None = None
    entity: PortEntity | None = None
    entity_upserted: bool = False
    run_link: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True once PagerDuty holds the result (changed now, or already so)."""
        return self.after is not None and not self.inputs.dry_run

    @property
    def changed(self) -> bool:
        return bool(self.sent)

    @property
    def incident(self) -> Incident | None:
        """The incident as it is now: after the change, or as read."""
        return self.after or self.before
