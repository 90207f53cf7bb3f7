"""Run one operation on a target other than an incident, end to end: read, plan, apply, report.

The same three rounds as for an incident (:mod:`escalator.usecase.runner`): the Port token beside
the operation's reads; its writes, each exactly once
(:func:`~escalator.usecase.apply.apply_in_plan`) with the Port blueprint read beside them; the
entity it drafts (if any) and the run update together. Nothing is written before every read is
done and the plan holds.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from escalator.clients.models import PortBlueprint
from escalator.clients.port import PortClient
from escalator.errors import EscalatorError, PortError, ReportingError
from escalator.http import Deadline
from escalator.inputs import CommonInputs
from escalator.operations.target import Clients, TargetOperation, TargetPlan
from escalator.report.target_entity import shape
from escalator.usecase.apply import apply_in_plan
from escalator.usecase.port_run import redacted
from escalator.usecase.rounds import Rounds
from escalator.usecase.target_outcome import TargetOutcome
from escalator.workflow import Console

S = TypeVar("S")
R = TypeVar("R")


class TargetRunner(Rounds[TargetOutcome[S], R, TargetPlan[S], PortBlueprint]):
    """Runs ``operation`` with ``inputs`` through the clients it is given."""

    def __init__(
        self,
        inputs: CommonInputs,
        operation: TargetOperation[Any, S, R],
        *,
        clients: Clients,
        port: PortClient | None,
        console: Console,
        deadline: Deadline,
        job_link: Callable[[], str] | None = None,
        run_url: str = "",
        on_applied: Callable[[TargetOutcome[S]], None] = lambda _outcome: None,
    ) -> None:
        outcome: TargetOutcome[S] = TargetOutcome(inputs=inputs, operation=operation)
        super().__init__(
            outcome,
            words=outcome,
            port=port,
            console=console,
            deadline=deadline,
            job_link=job_link,
            run_url=run_url,
        )
        self.inputs, self.operation, self.clients = inputs, operation, clients
        self.on_applied = on_applied

    def read(self) -> tuple[R, Future[str] | None]:
        """Round 1: the Port token and the operation's reads, together."""
        return self._read_beside(lambda: self.operation.gather(self.inputs, self))

    def plan(self, request: R) -> TargetPlan[S]:
        """The operation's pure plan; the target as read said in the log."""
        plan = self.operation.plan(request)
        self.outcome.before, self.outcome.plan = plan.before, plan
        self._mask(plan.before)
        if plan.before is not None:
            target = self.operation.target.capitalize()
            self.console.info(f"{target} {self.operation.said(plan.before)}.")
        return plan

    def apply(self, plan: TargetPlan[S]) -> Future[PortBlueprint] | None:
        """Round 2: the writes, in order, each exactly once, with the blueprint read beside."""
        name = self.operation.port_blueprint(self.inputs)
        port, outcome = self.port, self.outcome
        blueprint = self.submit(port.get_blueprint, name) if port and name else None
        if self.inputs.dry_run:
            if plan.sends_nothing:
                self.console.info(f"Dry run: the {self.operation.target} already is as asked.")
            self._show_dry_run(plan.writes)
        else:
            if plan.sends_nothing:
                self.console.info(f"Nothing to send: the {self.operation.target} already is so.")
            outcome.after = self._send(plan)
        outcome.applied = True
        self.on_applied(outcome)
        return blueprint

    def report(self, blueprint: Future[PortBlueprint] | None) -> None:
        """Round 3: the entity the operation drafts (if any), then the Port run told."""
        outcome, port_run = self.outcome, self.port_run
        state = outcome.state
        if port_run is None:
            return
        draft = self.operation.entity(self.inputs, state) if state is not None else None
        entity = None
        if draft is not None and blueprint is not None:
            try:
                read = blueprint.result()
            except PortError as exc:
                if not (draft.optional and exc.status == 404):
                    raise self._reporting_error(exc, "the Port entity was not updated") from exc
                self.console.notice(
                    f"Port has no {draft.blueprint} blueprint: no entity was upserted.",
                    title="Port entity skipped",
                )
                draft = None
            except EscalatorError as exc:
                raise self._reporting_error(exc, "the Port entity was not updated") from exc
        if draft is not None and blueprint is not None:
            entity, warnings = shape(draft, read)
            entity = outcome.entity = redacted(entity, self.console.redact)
            outcome.entity_blueprint = draft.blueprint
            for warning in warnings:
                self._warn(warning)
        if self.inputs.dry_run:
            if entity is not None:
                self.console.info(
                    f"Dry run: would upsert {outcome.entity_blueprint} entity {entity.identifier}."
                )
            return
        where = outcome.entity_blueprint
        errors = port_run.report(entity, lambda built: port_run.upsert(built, where))
        if errors:
            not_done = " and ".join(what for what, _ in errors)
            raise self._reporting_error(errors[0][1], not_done)

    def _send(self, plan: TargetPlan[S]) -> S | None:
        """The plan's writes, in order, each exactly once; the target as it then is."""
        outcome, current = self.outcome, plan.before
        for write in plan.writes:
            landed, ours = apply_in_plan(write, self.clients, current, self.console, outcome.sent)
            if ours and not (landed is current and current is not None):
                outcome.sent.append(write)  # (``current`` itself back: nothing was sent)
            current = landed if landed is not None else current
        self._mask(current)
        if current is not None and plan.writes:
            self.console.info(f"Now: {self.operation.said(current)}.")
        return current

    def _mask(self, state: S | None) -> None:
        """Mask the secrets among the outputs of ``state`` before anything says it."""
        if state is None or not self.operation.secret_outputs:
            return
        outputs = self.operation.outputs(state)
        for name in self.operation.secret_outputs:
            self.console.add_secret(outputs.get(name))

    def _reported(self, cause: EscalatorError, not_done: str) -> EscalatorError:
        return ReportingError(
            cause, not_done=not_done, done=self.operation.done, what=self.operation.target
        )
