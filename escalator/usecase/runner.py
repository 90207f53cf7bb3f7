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

from escalator.clients.models import Incident, PortEntity
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.errors import EscalatorError, PortError, ReportingError
from escalator.http import Deadline
from escalator.inputs import ActionInputs
from escalator.operations.base import Operation, Plan
from escalator.report.entity import build_entity, merge_expansions, needs_assignee_emails
from escalator.usecase import wording
from escalator.usecase.apply import PartlyApplied, apply_write
from escalator.usecase.outcome import Outcome
from escalator.usecase.run_log import RunLogger
from escalator.workflow import Console

T = TypeVar("T")
LOG_FLUSH_SECONDS = 5.0
#: Port's error code for a run that has already ended
RUN_ENDED = "run_exhausted"


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
        self.run_log: RunLogger | None = None
        self._port_ready = False
        self._run_ended: PortError | None = None
        #: a created incident read again for its assignees' emails, beside the writes after it
        self._expanded: Future[Incident] | None = None
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
            self._flush_logs()
        except EscalatorError as error:
            self._fail(error)
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
                include=("assignees", "first_trigger_log_entries"),
            )
            if operation.reads_incident
            else None
        )
        try:
            request = operation.gather(inputs, self, incident)
        finally:
            if token is not None:
                token.result()  # credentials rejected: stop before anything is written
                self._start_run_log()
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
        for write in plan.writes:
            try:
                landed, ours = apply_write(write, self.pagerduty, current, self.console)
            except EscalatorError as error:
                if not outcome.sent:
                    raise
                raise PartlyApplied(error, applied=outcome.sent, failed=write) from error
            current = landed or current
            if ours:
                outcome.sent.append(write)
                if outcome.before is None and self._expanded is None:
                    # the run made the incident: read its assignees beside the next write
                    self._expanded = self._read_assignees_beside(current, blueprint)
            elif outcome.before is None and current is not None:
                # refused because another run made the incident first: report that one
                outcome.plan = replace(plan, found=current)
                break
        outcome.after = current
        if current is not None and plan.writes:
            self.console.info(_describe("Now", current))
        self.on_applied(outcome)
        return blueprint

    def report(self, blueprint: Future[Any] | None) -> None:
        """Round 3: the entity upsert and the run update, together; the result log beside."""
        outcome, inputs, port = self.outcome, self.inputs, self.port
        if port is None or blueprint is None or outcome.incident is None:
            return
        try:
            outcome.blueprint = blueprint.result()
        except EscalatorError as exc:
            raise self._reporting_error(exc, "the Port entity was not updated") from exc
        entity = self._entity()
        outcome.entity = entity
        if inputs.dry_run:
            self.console.info(
                f"Dry run: would upsert {inputs.port_blueprint} entity {entity.identifier}."
            )
            return
        upsert = self.submit(self._upsert, entity)
        run_update = None
        if inputs.port_run_id and not inputs.finish_port_run:
            run_update = self.submit(self._update_run, None)
        if self.run_log is not None:
            self.run_log.send(wording.result(outcome))
        errors: list[tuple[str, EscalatorError]] = []
        try:
            upsert.result()
            outcome.entity_upserted = True
        except EscalatorError as exc:
            errors.append(("the Port entity was not updated", exc))
        if run_update is not None:
            try:
                run_update.result()
            except EscalatorError as exc:
                errors.append(("the Port run was not updated", exc))
        if inputs.port_run_id and inputs.finish_port_run and not errors:
            self._flush_logs()
            try:
                self._update_run("SUCCESS")
            except EscalatorError as exc:
                errors.append(("the Port run was not finished", exc))
        errors = self._forgive_an_ended_run(errors)
        if errors:
            not_done = " and ".join(what for what, _ in errors)
            raise self._reporting_error(errors[0][1], not_done)

    def _upsert(self, entity: PortEntity) -> None:
        """Upsert the entity tied to the run; should the run have ended (a re-run of the job),
        upsert it without the tie, so the catalog still holds what PagerDuty holds."""
        port, inputs = self.port, self.inputs
        assert port is not None
        try:
            port.upsert_entity(inputs.port_blueprint, entity, run_id=inputs.port_run_id)
        except PortError as exc:
            if exc.code != RUN_ENDED or not inputs.port_run_id:
                raise
            port.upsert_entity(inputs.port_blueprint, entity, run_id=None)
            self._run_ended = exc

    def _forgive_an_ended_run(
        self, errors: list[tuple[str, EscalatorError]]
    ) -> list[tuple[str, EscalatorError]]:
        """A run Port has ended (a re-run of the job, once Port reported the first one) is only
        a warning when nothing had to change; after a change it stays an error that says why."""
        ended = [e for e in errors if isinstance(e[1], PortError) and e[1].code == RUN_ENDED]
        if self._run_ended is not None and not ended:
            ended = [("the entity was not tied to the Port run", self._run_ended)]
        if not ended or self.outcome.changed:
            return errors + (ended if not errors else [])
        self._warn(
            f"Port run {self.inputs.port_run_id} has already ended (a re-run of the job?): its "
            "logs and status were left as they were; the entity was updated without the tie."
        )
        return [e for e in errors if e not in ended]

    # --- steps --------------------------------------------------------------------------------

    def _start_run_log(self) -> None:
        self._port_ready = True
        port, run_id = self.port, self.inputs.port_run_id
        if port is None or not run_id or self.inputs.dry_run or self.run_log is not None:
            return
        self.run_log = RunLogger(port, run_id, self.console.redact)
        self.run_log.send(wording.start_log(self.inputs, self.operation))

    def _entity(self) -> PortEntity:
        outcome, inputs = self.outcome, self.inputs
        incident = outcome.incident
        assert incident is not None
        if outcome.before is not None and outcome.after is not None:
            incident = merge_expansions(outcome.after, outcome.before)
        if needs_assignee_emails(outcome.blueprint, incident) and not inputs.dry_run:
            expanded = (
                self._expanded.result()
                if self._expanded is not None
                else self.pagerduty.get_incident(incident.id)
            )
            incident = merge_expansions(incident, expanded)
        # A create runs on a service entity: its relations are the service's, not the incident's.
        relations = inputs.port_relations if self.operation.reads_incident else {}
        entity, warnings = build_entity(
            incident,
            outcome.blueprint,
            context_relations=relations,
            property_mapping=inputs.port_property_mapping,
        )
        for warning in warnings:
            self._warn(warning)
        return _redacted(entity, self.console.redact)

    def _read_assignees_beside(
        self, created: Incident | None, blueprint: Future[Any] | None
    ) -> Future[Incident] | None:
        """A create's answer names its assignees without emails: when the blueprint wants them,
        read the incident now, beside the writes that follow (the note), not after them."""
        if created is None or blueprint is None:
            return None
        try:
            wanted = needs_assignee_emails(blueprint.result(), created)
        except EscalatorError:
            return None  # report() says why the blueprint could not be read
        return self.submit(self.pagerduty.get_incident, created.id) if wanted else None

    def _update_run(self, status: str | None) -> None:
        assert self.port is not None
        assert self.inputs.port_run_id
        self.port.update_run(
            self.inputs.port_run_id,
            status=status,
            status_label=self.console.redact(wording.status_label(self.outcome)),
            link=self.outcome.run_link or self.run_url or None,
        )

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

    def _fail(self, error: EscalatorError) -> None:
        """Tell the Port run about ``error`` (when Port is reachable), then flush the logs."""
        port, inputs = self.port, self.inputs
        if port is not None and inputs.port_run_id and not inputs.dry_run:
            message = (
                error.message
                if isinstance(error, ReportingError)
                else f"{self.operation.noun} failed: {error.message}"
            )
            if error.hint:
                message += f" Fix: {error.hint}"
            if self._port_ready or not isinstance(error, PortError):
                try:
                    port.authenticate()
                    self._start_run_log()
                    assert self.run_log is not None
                    self.run_log.send(message)
                    if inputs.finish_port_run:
                        self._flush_logs()
                        self._update_run("FAILURE")
                except EscalatorError as exc:
                    self.console.warning(f"Could not report the failure to Port: {exc}")
        self._flush_logs()

    def _job_link(self, job_link: Future[str] | None) -> str:
        if job_link is None:
            return self.run_url
        try:
            return job_link.result() or self.run_url
        except EscalatorError as exc:
            self._warn(f"Could not find this job's URL: {exc}")
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

    def _flush_logs(self) -> None:
        if self.run_log is None:
            return
        done = self.run_log.flush(min(LOG_FLUSH_SECONDS, self.deadline.remaining() + 1))
        if not done:
            self._warn("Some Port run logs were not sent before the deadline.")
        for failure in self.run_log.failures:
            self._warn(f"A Port run log was not sent: {failure}")
        self.run_log.failures.clear()


def _describe(head: str, incident: Incident) -> str:
    number = f"#{incident.incident_number} " if incident.incident_number else ""
    return (
        f'{head} {number}{incident.id} "{incident.title}": {incident.status}, '
        f"{incident.urgency} urgency, policy {incident.policy_name} ({incident.policy_id}), "
        f"assigned to {incident.responder or 'nobody'}."
    )


def _redacted(entity: PortEntity, redact: Callable[[str], str]) -> PortEntity:
    """The entity with any secret a service echoed into its text taken out."""
    dumped = json.dumps(entity.model_dump(mode="json"))
    cleaned = redact(dumped)
    if cleaned == dumped:
        return entity
    return PortEntity.model_validate(json.loads(cleaned))
