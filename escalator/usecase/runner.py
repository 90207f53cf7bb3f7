"""Run one operation on one incident, end to end: read, plan, apply, report, close.

The critical path is three sequential round trips (more only where the operation needs them):

1. ``read``: the Port access token, the incident and the operation's lookups, together;
2. ``apply``: the PagerDuty write(s), with the Port blueprint read beside them;
3. ``report``: the entity upsert and the run update, together.

Run logs go through a background sender and never wait on that path. Nothing is written before
every input is valid, the incident has been read and the plan holds; the clients are built by the
face and handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, TypeVar

from escalator.clients.models import Incident, PortBlueprint
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.errors import EscalatorError, ReportingError
from escalator.http import Deadline
from escalator.inputs import CommonInputs
from escalator.operations.base import Operation, Plan
from escalator.usecase.apply import apply_in_plan
from escalator.usecase.incident_entity import FULL_READ, IncidentEntity
from escalator.usecase.outcome import Outcome
from escalator.usecase.rounds import Rounds
from escalator.usecase.wording import IncidentWords
from escalator.workflow import Console

R = TypeVar("R")


class Runner(Rounds[Outcome, R, Plan, PortBlueprint]):
    """Runs ``operation`` with ``inputs`` through the clients it is given."""

    def __init__(
        self,
        inputs: CommonInputs,
        operation: Operation[Any, R],
        *,
        pagerduty: PagerDutyClient,
        port: PortClient | None,
        console: Console,
        deadline: Deadline,
        job_link: Callable[[], str] | None = None,
        run_url: str = "",
        on_applied: Callable[[Outcome], None] = lambda _outcome: None,
    ) -> None:
        outcome = Outcome(inputs=inputs, operation=operation)
        super().__init__(
            outcome,
            words=IncidentWords(outcome),
            port=port,
            console=console,
            deadline=deadline,
            job_link=job_link,
            run_url=run_url,
        )
        self.inputs, self.operation, self.pagerduty = inputs, operation, pagerduty
        self.deadline, self.on_applied = deadline, on_applied
        self.entity = IncidentEntity(
            pagerduty, self.outcome, console=console, submit=self.submit, warn=self._warn
        )

    # --- the rounds ---------------------------------------------------------------------------

    def read(self) -> tuple[R, Future[str] | None]:
        """Round 1: the Port token, the incident and the operation's lookups, together."""
        (incident, request), job_link = self._read_beside(self._gather)
        if incident is not None:
            before = incident.result()
            self.outcome.before = before
            self.console.info(_describe("Incident", before))
        return request, job_link

    def _gather(self) -> tuple[Future[Incident] | None, R]:
        """The incident read (unless the operation reads none) beside the operation's lookups."""
        inputs, operation = self.inputs, self.operation
        incident = (
            self.submit(
                self.pagerduty.get_incident,
                operation.incident_to_read(inputs) or "",
                include=FULL_READ,
            )
            if operation.reads_incident
            else None
        )
        return incident, operation.gather(inputs, self, incident)

    def plan(self, request: R) -> Plan:
        """The operation's pure plan, with the note (if any) added after its change."""
        before = self.outcome.before
        plan = self.operation.plan(before, request)
        plan = plan.with_note(self.operation.note_after(self.inputs), before)
        target = plan.once_notes_target()
        if target is not None:  # a re-run: add only the notes the incident does not hold
            plan = plan.with_notes_held([n.content for n in self.pagerduty.list_notes(target)])
        self.outcome.plan = plan
        return plan

    def apply(self, plan: Plan) -> Future[PortBlueprint] | None:
        """Round 2: the writes, in order, with the Port blueprint read beside them."""
        port = self.port
        blueprint = (
            self.submit(port.get_blueprint, self.inputs.port_blueprint)
            if port is not None
            else None
        )
        outcome = self.outcome
        if self.inputs.dry_run:
            outcome.after = plan.found or outcome.before
            self._describe_dry_run(plan)
            self.on_applied(outcome)
            return blueprint
        current = plan.found or outcome.before
        if plan.found is not None:
            self.console.info(_describe("Already open with this incident key:", plan.found))
        elif plan.sends_nothing:
            self.console.info("Nothing to send to PagerDuty: the incident already is as asked.")
        current = self._send(plan, current, blueprint)
        outcome.after = current
        if current is not None and plan.writes:
            self.console.info(_describe("Now", current))
        self.on_applied(outcome)
        return blueprint

    def report(self, blueprint: Future[PortBlueprint] | None) -> None:
        """Round 3: the entity, then the Port run told (:class:`PortRun`)."""
        outcome, inputs, port_run = self.outcome, self.inputs, self.port_run
        if port_run is None or blueprint is None or outcome.incident is None:
            return
        try:
            outcome.blueprint = blueprint.result()
        except EscalatorError as exc:
            raise self._reporting_error(exc, "the Port entity was not updated") from exc
        entity = self.entity.build()
        outcome.entity = entity
        if inputs.dry_run:
            self.console.info(
                f"Dry run: would upsert {inputs.port_blueprint} entity {entity.identifier}."
            )
            return
        errors = port_run.report(entity, lambda built: self.entity.upsert_current(built, port_run))
        if errors:
            not_done = " and ".join(what for what, _ in errors)
            raise self._reporting_error(errors[0][1], not_done)

    # --- steps --------------------------------------------------------------------------------

    def _send(
        self, plan: Plan, current: Incident | None, blueprint: Future[PortBlueprint] | None
    ) -> Incident | None:
        """The plan's writes, in order, each exactly once; the incident as it then is."""
        outcome = self.outcome
        for write in plan.writes:
            landed, ours = apply_in_plan(write, self.pagerduty, current, self.console, outcome.sent)
            current = landed or current
            if ours:
                outcome.sent.append(write)
                if outcome.before is None:
                    # the run made the incident: read its assignees beside the next write
                    self.entity.read_assignees_beside(current, blueprint)
            elif outcome.before is None and current is not None:
                # refused because another run made the incident first: report that one
                outcome.plan = replace(plan, found=current)
                break
        return current

    def _describe_dry_run(self, plan: Plan) -> None:
        if plan.found is not None:
            self.console.info(
                _describe(
                    "Dry run: nothing would be created; already open with this key:", plan.found
                )
            )
        elif plan.sends_nothing:
            self.console.info("Dry run: the incident already is as asked; nothing to send.")
        self._show_dry_run(plan.writes)

    def _reported(self, cause: EscalatorError, not_done: str) -> EscalatorError:
        plan = self.outcome.plan
        done = "found already open" if plan and plan.found else self.operation.done
        return ReportingError(cause, not_done=not_done, done=done)


def _describe(head: str, incident: Incident) -> str:
    number = f"#{incident.incident_number} " if incident.incident_number else ""
    return (
        f'{head} {number}{incident.id} "{incident.title}": {incident.status}, '
        f"{incident.urgency} urgency, policy {incident.policy_name} ({incident.policy_id}), "
        f"assigned to {incident.responder or 'nobody'}."
    )
