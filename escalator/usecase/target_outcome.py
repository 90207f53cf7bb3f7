"""What a run on a target other than an incident did, filled in as it goes, and how it is said to
Port (its first log, its result log, its status label)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from escalator.clients.models import PortEntity
from escalator.inputs import CommonInputs
from escalator.operations.target import TargetOperation, TargetPlan, TargetWrite

S = TypeVar("S")

LABEL_LIMIT = 100


@dataclass
class TargetOutcome(Generic[S]):
    """The run so far: the target before and after, the plan, what was sent, what Port got."""

    inputs: CommonInputs
    operation: TargetOperation[Any, S, Any]
    before: S | None = None
    after: S | None = None
    plan: TargetPlan[S] | None = None
    sent: list[TargetWrite[S]] = field(default_factory=list)
    #: PagerDuty holds the result (or, in a dry run, the plan was shown)
    applied: bool = False
    entity: PortEntity | None = None
    entity_blueprint: str = ""
    entity_upserted: bool = False
    run_link: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True once PagerDuty holds the result (changed now, or already so)."""
        return self.applied and not self.inputs.dry_run

    @property
    def changed(self) -> bool:
        return bool(self.sent)

    @property
    def state(self) -> S | None:
        """The target as it is now: after the change, or as read."""
        return self.after if self.after is not None else self.before

    def start_log(self) -> str:
        """The first Port run log: 'Adding an override to PagerDuty schedule S1: Ana.'"""
        operation = self.operation
        what = operation.asked(self.inputs)
        return f"{operation.doing} {operation.subject(self.inputs)}" + (
            f": {what}." if what else "."
        )

    def result(self) -> str:
        """One line saying what was sent and what already held: the result log and last line."""
        plan, operation = self.plan, self.operation
        if plan is None:
            return ""
        target = operation.target.capitalize()
        said = "; ".join(change.said() for change in plan.changes)
        if self.inputs.dry_run:
            head = f"Dry run, {operation.target}: would send {len(plan.writes)} request(s)"
        elif not self.changed:
            head = f"{target} already was as asked; nothing was sent to PagerDuty"
        else:
            head = f"{target} {operation.done}"
        text = head + (f": {said}." if said else ".")
        state = self.state
        return text + (f" Now: {operation.said(state)}." if state is not None else "")

    def status_label(self) -> str:
        """The Port run's status label (at most 100 characters)."""
        if self.inputs.dry_run:
            return "Dry run: nothing changed"
        if not self.applied or self.plan is None:
            return f"{self.operation.noun} failed"
        if not self.changed:
            return "Already as requested"
        return self.operation.done_label(self.plan, self.after)[:LABEL_LIMIT]
