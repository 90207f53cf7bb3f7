"""What an operation on a target other than an incident is made of: a schedule, a service, an event.

Such an operation declares the state ``S`` it reads and writes (an on-call list, a service...) and
its typed request ``R``; it gathers ``R`` (reads beside the Port token), makes a **pure**
``plan(request) -> TargetPlan[S]``, and says what the run gives: its step outputs, its summary rows
and the Port entity it upserts (or none). Its writes carry their own lost-answer check, and the use
case (:mod:`escalator.usecase.target_runner`) applies them exactly as it applies an incident's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import ClassVar, Generic, ParamSpec, Protocol, TypeVar

from escalator.clients.events import EventsClient
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import PagerDutyError
from escalator.inputs import CommonInputs
from escalator.operations.base import Change, Described

In = TypeVar("In", bound=CommonInputs, contravariant=True)
S = TypeVar("S")
R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Clients:
    """The clients an operation may read and write through, handed in by the face."""

    #: PagerDuty's REST API (its token may be empty for an operation that needs none)
    pagerduty: PagerDutyClient
    #: PagerDuty's Events API v2 (None: the run's inputs name no Events API URL)
    events: EventsClient | None = None

    def close(self) -> None:
        """Close every client's connections."""
        self.pagerduty.close()
        if self.events is not None:
            self.events.close()


class TargetWrite(Protocol[S]):
    """One request that changes PagerDuty, typed, with the way to check it after a lost answer."""

    #: what the request is, for logs and the dry run: 'POST /schedules/S1/overrides'
    @property
    def request_line(self) -> str: ...

    def body(self) -> Mapping[str, object]:
        """The JSON body sent: built once, shown by the dry run, handed to the client as is."""
        ...

    def send(self, clients: Clients, current: S | None) -> S | None:
        """Send it once; the target as PagerDuty now holds it (None: ``current`` still holds;
        ``current`` itself: nothing needed sending, the write does not count as sent)."""
        ...

    def rechecks(self, error: PagerDutyError) -> bool:
        """Whether a refusal (a 4xx) may mean the change is there already (read to tell)."""
        ...

    def landed(self, clients: Clients, current: S | None) -> S | None:
        """After an ambiguous failure: read, and return the target if the write was applied
        (None: not applied, or not knowable: send it again)."""
        ...


@dataclass(frozen=True)
class TargetPlan(Generic[S]):
    """What an operation will do: the target as read, the changes asked, the writes to send."""

    before: S | None
    changes: tuple[Change, ...]
    writes: tuple[TargetWrite[S], ...]

    @property
    def sends_nothing(self) -> bool:
        return not self.writes


@dataclass(frozen=True)
class EntityDraft:
    """The Port entity an operation reports: everything it knows; the blueprint read from Port
    decides which properties and relations are sent (:func:`escalator.report.entity.shape`)."""

    blueprint: str
    identifier: str
    title: str
    properties: Mapping[str, object] = field(default_factory=dict)
    relations: Mapping[str, str | list[str] | None] = field(default_factory=dict)
    #: upserted only when Port has the blueprint (one Port's integration makes): without it the
    #: run says so and succeeds
    optional: bool = False


class TargetReads(Protocol):
    """What an operation may use to read before planning: its clients and a pool."""

    clients: Clients
    #: the GitHub workflow run around this run ('' outside GitHub)
    run_url: str

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]: ...


class TargetOperation(Described[In], Protocol[In, S, R]):
    """An operation whose target is not an incident, as the use case runs it, with its inputs
    model ``I``, the state ``S`` it reads and writes, and its typed request ``R``."""

    #: what it acts on, in the summary's heading and the logs: 'schedule', 'service', 'event'
    target: ClassVar[str]
    #: the names of its outputs that hold a secret (a routing key): masked in every log, text
    #: and summary as soon as it is read, and written to the step output as is
    secret_outputs: ClassVar[tuple[str, ...]]

    def gather(self, inputs: In, reads: TargetReads) -> R:
        """Read the target and what the plan needs (beside the Port token) and return the typed
        request. Input errors found here are raised here, before anything is written."""
        ...

    def plan(self, request: R) -> TargetPlan[S]:
        """Pure: the target as read and the writes that make what was asked."""
        ...

    def said(self, state: S) -> str:
        """The target in one line, for logs: 'schedule S1: Ana on call until 12:00'."""
        ...

    def done_label(self, plan: TargetPlan[S], after: S | None) -> str:
        """The Port run's status label once it changed something: 'Override added'."""
        ...

    def outputs(self, state: S | None) -> dict[str, str]:
        """The step outputs it declares (beside the common ``operation`` and ``changed``)."""
        ...

    def summary_rows(self, state: S | None) -> list[tuple[str, str]]:
        """The job summary's rows (label, value) under the heading; values are redacted there."""
        ...

    def port_blueprint(self, inputs: In) -> str | None:
        """The blueprint of the entity it upserts, read beside the writes (None: no entity)."""
        ...

    def entity(self, inputs: In, state: S) -> EntityDraft | None:
        """The Port entity it upserts for ``state`` (None: it upserts nothing)."""
        ...
