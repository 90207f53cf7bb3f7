"""What every runner shares, whatever the operation acts on: the pool beside the caller, the three
rounds run in order, the Port run told of a failure, the job's link, the warnings, and when a
failure after the change is a reporting error.

:class:`~escalator.usecase.runner.Runner` (an incident) and
:class:`~escalator.usecase.target_runner.TargetRunner` (a schedule, a service, an event) give the
rounds themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, ParamSpec, Protocol, TypeVar

from escalator.clients.port import PortClient
from escalator.errors import EscalatorError
from escalator.http import Deadline
from escalator.usecase.port_run import PortRun, RunWords, Told
from escalator.workflow import Console

T = TypeVar("T")
P = ParamSpec("P")
Q = TypeVar("Q")
B = TypeVar("B")


class Record(Told, Protocol):
    """An outcome as the rounds fill it in: what Port is told, and whether PagerDuty holds it."""

    @property
    def done(self) -> bool: ...


class Sent(Protocol):
    """A write as the dry run shows it."""

    @property
    def request_line(self) -> str: ...

    def body(self) -> Mapping[str, object]: ...


Out = TypeVar("Out", bound=Record)
PL = TypeVar("PL")


class Rounds(Generic[Out, Q, PL, B]):
    """Runs the rounds a subclass gives (``read``, ``plan``, ``apply``, ``report``) for
    ``outcome``, telling Port through ``port`` (None: no Port run)."""

    def __init__(
        self,
        outcome: Out,
        *,
        words: RunWords,
        port: PortClient | None,
        console: Console,
        deadline: Deadline,
        job_link: Callable[[], str] | None,
        run_url: str,
    ) -> None:
        self.outcome = outcome
        self.port, self.console, self.job_link, self.run_url = port, console, job_link, run_url
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="escalator")
        self.port_run = (
            PortRun(
                port,
                outcome,
                words=words,
                console=console,
                deadline=deadline,
                submit=self.submit,
                run_url=run_url,
            )
            if port is not None
            else None
        )

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` beside the caller (the operations' reads use it too)."""
        return self._pool.submit(fn, *args, **kwargs)

    def execute(self) -> Out:
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

    def read(self) -> tuple[Q, Future[str] | None]:
        """Round 1: the reads, the Port token beside them (see :meth:`_read_beside`)."""
        raise NotImplementedError

    def plan(self, request: Q) -> PL:
        """The operation's pure plan for ``request``."""
        raise NotImplementedError

    def apply(self, plan: PL) -> Future[B] | None:
        """Round 2: the writes, with the Port blueprint read beside them."""
        raise NotImplementedError

    def report(self, blueprint: Future[B] | None) -> None:
        """Round 3: the entity and the Port run told."""
        raise NotImplementedError

    def _read_beside(self, gather: Callable[[], T]) -> tuple[T, Future[str] | None]:
        """``gather`` with the Port token and the job's link read beside it; the Port run's
        logs started once the token holds (credentials rejected: stop before any write)."""
        token = self.submit(self.port.authenticate) if self.port else None
        job_link = self.submit(self.job_link) if self.job_link else None
        try:
            gathered = gather()
        finally:
            if token is not None and self.port_run is not None:
                token.result()  # credentials rejected: stop before anything is written
                self.port_run.start_log()
        return gathered, job_link

    def _show_dry_run(self, writes: Iterable[Sent]) -> None:
        """Log each write as it would be sent, body and all."""
        for write in writes:
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
        """``cause`` as a reporting error once PagerDuty holds the result (:meth:`_reported`)."""
        return self._reported(cause, not_done) if self.outcome.done else cause

    def _reported(self, cause: EscalatorError, not_done: str) -> EscalatorError:
        """The reporting error for ``cause`` after the change: what was done, what was not."""
        raise NotImplementedError

    def _warn(self, text: str) -> None:
        self.outcome.warnings.append(text)
        self.console.warning(text)
