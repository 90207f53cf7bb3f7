"""The Port side of one run: its logs, its status, the entity upsert tied to it, and the rule for a
run Port has already ended.

Nothing here decides what the operation does: the runner hands in the outcome so far, and this
tells Port about it (or about the failure).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol

from escalator.clients.models import PortEntity
from escalator.clients.port import PortClient
from escalator.errors import EscalatorError, PortError, ReportingError
from escalator.http import Deadline
from escalator.inputs import CommonInputs
from escalator.operations.base import Described
from escalator.usecase.run_log import RunLogger
from escalator.workflow import Console

LOG_FLUSH_SECONDS = 5.0
#: Port's error code for a run that has already ended
RUN_ENDED = "run_exhausted"
#: what was not done, and why
Failures = list[tuple[str, EscalatorError]]
#: upserts the entity; returns the check to run after it (beside the run's final update), if any
Upsert = Callable[[PortEntity], Callable[[], None] | None]


class Told(Protocol):
    """What Port is told about: a run's outcome so far, whatever the operation acts on."""

    warnings: list[str]
    entity_upserted: bool
    run_link: str

    @property
    def inputs(self) -> CommonInputs: ...

    @property
    def operation(self) -> Described[Any]: ...

    @property
    def changed(self) -> bool: ...


class RunWords(Protocol):
    """How the run is said to Port: its first log, its result log, its status label."""

    def start_log(self) -> str: ...

    def result(self) -> str: ...

    def status_label(self) -> str: ...


class PortRun:
    """Reports ``outcome`` to Port through ``port``: logs, status, the entity tied to the run."""

    def __init__(
        self,
        port: PortClient,
        outcome: Told,
        *,
        words: RunWords,
        console: Console,
        deadline: Deadline,
        submit: Callable[[Callable[[], Any]], Future[Any]],
        run_url: str = "",
    ) -> None:
        self.port = port
        self.outcome = outcome
        self.words = words
        self.inputs = outcome.inputs
        self.console = console
        self.deadline = deadline
        self.submit = submit
        self.run_url = run_url
        self.run_log: RunLogger | None = None
        #: the access token was minted: a failure may be told to Port
        self.ready = False
        self._run_ended: PortError | None = None

    def start_log(self) -> None:
        """Start the run's logs with what was asked (not for a dry run, nor without a run)."""
        self.ready = True
        run_id = self.inputs.port_run_id
        if not run_id or self.inputs.dry_run or self.run_log is not None:
            return
        self.run_log = RunLogger(self.port, run_id, self.console.redact)
        self.run_log.send(self.words.start_log())

    def report(self, entity: PortEntity | None, upsert_current: Upsert) -> Failures:
        """Round 3: the entity upsert (by ``upsert_current``, which calls :meth:`upsert`; none
        without an entity) and the run update, together; the result log beside. Round 4: the
        check ``upsert_current`` returns (Port holds what PagerDuty holds), beside the run's
        final status when it is set. Returns what was not done (an ended run that only matters
        as a warning is left out)."""
        inputs, outcome = self.inputs, self.outcome
        upsert = self.submit(lambda: upsert_current(entity)) if entity is not None else None
        run_update = None
        if inputs.port_run_id and not inputs.finish_port_run:
            run_update = self.submit(lambda: self.update(None))
        if self.run_log is not None:
            self.run_log.send(self.words.result())
        errors: Failures = []
        check: Callable[[], None] | None = None
        try:
            if upsert is not None:
                check = upsert.result()
                outcome.entity_upserted = True
        except EscalatorError as exc:
            errors.append(("the Port entity was not updated", exc))
        checking = self.submit(check) if check is not None else None
        if run_update is not None:
            try:
                run_update.result()
            except EscalatorError as exc:
                errors.append(("the Port run was not updated", exc))
        if inputs.port_run_id and inputs.finish_port_run and not errors:
            self.flush()
            try:
                self.update("SUCCESS")
            except EscalatorError as exc:
                errors.append(("the Port run was not finished", exc))
        if checking is not None:
            checking.result()  # warns, never raises
        return self._forgive_an_ended_run(errors)

    def fail(self, error: EscalatorError) -> None:
        """Tell the Port run about ``error`` (when Port is reachable), then flush the logs."""
        inputs = self.inputs
        if inputs.port_run_id and not inputs.dry_run:
            said = error.render(self.console.terms)
            message = (
                said.message
                if isinstance(error, ReportingError)
                else f"{self.outcome.operation.noun} failed: {said.message}"
            )
            if said.hint:
                message += f" Fix: {said.hint}"
            if self.ready or not isinstance(error, PortError):
                self._tell_failure(message)
        self.flush()

    def _tell_failure(self, message: str) -> None:
        try:
            self.port.authenticate()
            self.start_log()
            assert self.run_log is not None  # started: there is a run and it is not a dry run
            self.run_log.send(message)
            if self.inputs.finish_port_run:
                self.flush()
                self.update("FAILURE")
        except EscalatorError as exc:
            self.console.warning(
                f"Could not report the failure to Port: {exc.render(self.console.terms)}"
            )

    def update(self, status: str | None) -> None:
        """Set the run's status label and link (and its status, when given)."""
        run_id = self.inputs.port_run_id
        assert run_id  # only called for a run
        self.port.update_run(
            run_id,
            status=status,
            status_label=self.console.redact(self.words.status_label()),
            link=self.outcome.run_link or self.run_url or None,
        )

    def flush(self) -> None:
        """Wait for the logs queued so far (within the deadline); warn about those not sent."""
        if self.run_log is None:
            return
        done = self.run_log.flush(min(LOG_FLUSH_SECONDS, self.deadline.remaining() + 1))
        if not done:
            self.warn("Some Port run logs were not sent before the deadline.")
        for failure in self.run_log.failures:
            self.warn(f"A Port run log was not sent: {failure.render(self.console.terms)}")
        self.run_log.failures.clear()

    def warn(self, text: str) -> None:
        self.outcome.warnings.append(text)
        self.console.warning(text)

    def upsert(self, entity: PortEntity, blueprint: str | None = None) -> None:
        """Upsert the entity (of ``blueprint``, by default the ``port_blueprint`` input) tied to
        the run; should the run have ended (a re-run of the job), upsert it without the tie, so
        the catalog still holds what PagerDuty holds."""
        inputs = self.inputs
        blueprint = blueprint or inputs.port_blueprint
        try:
            self.port.upsert_entity(blueprint, entity, run_id=inputs.port_run_id)
        except PortError as exc:
            if exc.code != RUN_ENDED or not inputs.port_run_id:
                raise
            self.port.upsert_entity(blueprint, entity, run_id=None)
            self._run_ended = exc

    def _forgive_an_ended_run(self, errors: Failures) -> Failures:
        """A run Port has ended (a re-run of the job, once Port reported the first one) is only
        a warning when nothing had to change; after a change it stays an error that says why."""
        ended = [e for e in errors if isinstance(e[1], PortError) and e[1].code == RUN_ENDED]
        if self._run_ended is not None and not ended:
            ended = [("the entity was not tied to the Port run", self._run_ended)]
        if not ended or self.outcome.changed:
            return errors + (ended if not errors else [])
        self.warn(
            f"Port run {self.inputs.port_run_id} has already ended (a re-run of the job?): its "
            "logs and status were left as they were; the entity was updated without the tie."
        )
        return [e for e in errors if e not in ended]


def redacted(entity: PortEntity, redact: Callable[[str], str]) -> PortEntity:
    """The entity with any secret a service echoed into its text taken out."""
    dumped = json.dumps(entity.model_dump(mode="json"))
    cleaned = redact(dumped)
    if cleaned == dumped:
        return entity
    return PortEntity.model_validate(json.loads(cleaned))
