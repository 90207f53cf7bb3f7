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

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from escalator.clients.models import Incident
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.errors import EscalatorError, PartlyApplied, ReportingError
from escalator.http import Deadline
from escalator.inputs import ActionInputs
from escalator.operations.base import Operation, Plan
from escalator.usecase.apply import apply_write
from escalator.usecase.incident_entity import FULL_READ, IncidentEntity
from escalator.usecase.outcome import Outcome
from escalator.usecase.port_run import PortRun
from escalator.usecase.wording import IncidentWords
from escalator.workflow import Console

T = TypeVar("T")


class Runner:
    """Runs ``operation`` with ``inputs`` through the clients it is given."""

    def __init__(
        self,
        inputs: ActionInputs,
        operation: Operation,
        *,
        pagerduty: PagerDutyClient,
        port: PortClient | None,
        console: Console,
        deadline: Deadline,
        job_link: Callable[[], str] | None = None,
        run_url: str = "",
        on_applied: Callable[[Outcome], None] = lambda _outcome: None,
    ) -> None:
        self.inputs = inputs
        self.operation = operation
        self.pagerduty = pagerduty
        self.port = port
        self.console = console
        self.deadline = deadline
        self.job_link = job_link
        self.run_url = run_url
        self.on_applied = on_applied
        self.outcome = Outcome(inputs=inputs, operation=operation)
        self.port_run = (
            PortRun(
                port,
                self.outcome,
                words=IncidentWords(self.outcome),
                console=console,
                deadline=deadline,
                submit=self.submit,
                run_url=run_url,
            )
            if port is not None
            else None
        )
        self.entity = IncidentEntity(
            pagerduty, self.outcome, console=console, submit=self.submit, warn=self._warn
        )
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="escalator")

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` beside the caller (the operations' lookups use it too)."""
        return self._pool.submit(fn, *args, **kwargs)

    def execute(self) -> Outcome:
        """Run the operation and report it; on failure tell Port why, then raise the error
        (:attr:`outcome` holds what was done either way)."""
        try:
            request, job_link = self.read()
            plan = self.plan(request)
            blueprint = self.apply(plan)
            self.outcome.run_link = self._job_link(job_link)
            self.report(blueprint)
            if self.port_run is not None:
                self.port_run.flush()
        except EscalatorError as error:
            if self.port_run is not None:
                self.port_run.fail(error)
            raise
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
        return self.outcome

    # --- the rounds ---------------------------------------------------------------------------

    def read(self) -> tuple[Any, Future[str] | None]:
        """Round 1: the Port token, the incident and the operation's lookups, together."""
        inputs, operation = self.inputs, self.operation
        token = self.submit(self.port.authenticate) if self.port else None
        job_link = self.submit(self.job_link) if self.job_link else None
        incident = (
            self.submit(
                self.pagerduty.get_incident,
                inputs.incident_id or "",
                include=FULL_READ,
            )
            if operation.reads_incident
            else None
        )
        try:
            request = operation.gather(inputs, self, incident)
        finally:
            if token is not None and self.port_run is not None:
                token.result()  # credentials rejected: stop before anything is written
                self.port_run.start_log()
        if incident is not None:
            before = incident.result()
            self.outcome.before = before
            self.console.info(_describe("Incident", before))
        return request, job_link

    def plan(self, request: Any) -> Plan:
        """The operation's pure plan, with the note (if any) added after its change."""
        before = self.outcome.before
        plan = self.operation.plan(before, request)
        if self.operation.adds_note:
            plan = plan.with_note(self.inputs.note, before)
        target = plan.once_notes_target()
        if target is not None:  # a re-run: add only the notes the incident does not hold
            plan = plan.with_notes_held([n.content for n in self.pagerduty.list_notes(target)])
        self.outcome.plan = plan
        return plan

    def apply(self, plan: Plan) -> Future[Any] | None:
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

    def report(self, blueprint: Future[Any] | None) -> None:
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
        self, plan: Plan, current: Incident | None, blueprint: Future[Any] | None
    ) -> Incident | None:
        """The plan's writes, in order, each exactly once; the incident as it then is."""
        outcome = self.outcome
        for write in plan.writes:
            try:
                landed, ours = apply_write(write, self.pagerduty, current, self.console)
            except EscalatorError as error:
                if not outcome.sent:
                    raise
                applied = [sent.request_line for sent in outcome.sent]
                raise PartlyApplied(error, applied=applied, failed=write.request_line) from error
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
        for write in plan.writes:
            body = json.dumps(write.body(), sort_keys=True)
            self.console.info(f"Dry run: would send {write.request_line} {body}")

    def _job_link(self, job_link: Future[str] | None) -> str:
        if job_link is None:
            return self.run_url
        try:
            return job_link.result() or self.run_url
        except EscalatorError as exc:
            self._warn(f"Could not find this job's URL: {exc.render(self.console.terms)}")
            return self.run_url

    def _reporting_error(self, cause: EscalatorError, not_done: str) -> EscalatorError:
        if self.outcome.done:
            plan = self.outcome.plan
            done = "found already open" if plan and plan.found else self.operation.done
            return ReportingError(cause, not_done=not_done, done=done)
        return cause

    def _warn(self, text: str) -> None:
        self.outcome.warnings.append(text)
        self.console.warning(text)


def _describe(head: str, incident: Incident) -> str:
    number = f"#{incident.incident_number} " if incident.incident_number else ""
    return (
        f'{head} {number}{incident.id} "{incident.title}": {incident.status}, '
        f"{incident.urgency} urgency, policy {incident.policy_name} ({incident.policy_id}), "
        f"assigned to {incident.responder or 'nobody'}."
    )
