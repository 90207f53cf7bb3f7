"""What every operation is made of: a typed plan of changes, and the writes that apply it.

An operation module gives four things: how it gathers what it needs (its lookups), a **pure**
``plan(incident, request) -> Plan``, the writes the plan holds (each knows its request and how to
tell, after an ambiguous failure, whether PagerDuty applied it), and how its result is said. The
use case (:mod:`escalator.usecase.runner`) runs any of them the same way.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import ClassVar, ParamSpec, Protocol, TypeVar

from escalator.clients.models import Incident
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import PagerDutyError
from escalator.inputs import CommonInputs
from escalator.operations.writes import AddNote

T = TypeVar("T")
R = TypeVar("R")
#: an operation's inputs model
In = TypeVar("In", bound=CommonInputs, contravariant=True)
P = ParamSpec("P")


class Field(enum.Enum):
    """What a change is about; :func:`shown` says how the incident shows each one."""

    POLICY = "Escalation policy"
    LEVEL = "Escalation level"
    URGENCY = "Urgency"
    STATUS = "Status"
    ASSIGNEES = "Assigned to"
    PRIORITY = "Priority"
    NOTE = "Note"
    SNOOZE = "Snoozed for"
    INCIDENT = "Incident"
    ONCALL = "On call"
    OVERRIDE = "Override"
    SERVICE = "Service"
    INTEGRATION = "Integration"
    EVENT = "Event"


def shown(field: Field, incident: Incident | None) -> str:
    """How ``incident`` shows ``field`` in a summary ('' for what PagerDuty does not expose)."""
    if incident is None:
        return ""
    if field is Field.POLICY:
        return f"{incident.policy_name} ({incident.policy_id})" if incident.policy_id else "none"
    if field is Field.URGENCY:
        return incident.urgency
    if field is Field.STATUS:
        return incident.status
    if field is Field.ASSIGNEES:
        return ", ".join(a.assignee.label for a in incident.assignments) or "nobody"
    if field is Field.PRIORITY:
        return incident.priority.label if incident.priority else "none"
    if field is Field.INCIDENT:
        return (
            f"#{incident.incident_number} {incident.id}"
            if incident.incident_number
            else incident.id
        )
    return ""


@dataclass(frozen=True)
class Change:
    """One thing asked of the incident: how it was, what was asked, and whether it must be sent."""

    field: Field
    before: str
    asked: str
    needed: bool

    def said(self) -> str:
        """'urgency high' when sent, 'urgency already high' when it already held."""
        name = self.field.value.lower()
        asked = f'"{self.asked}"' if self.field is Field.NOTE else self.asked
        if self.needed:
            return f"{name} {asked}"
        if self.field is Field.ASSIGNEES:  # 'already assigned to', not 'assigned to already'
            return f"already {name} {asked}"
        return f"{name} already {asked}"


class Write(Protocol):
    """One request that changes PagerDuty, typed, with the way to check it after a lost answer."""

    #: what the request is, for logs and the dry run: 'PUT /incidents/Q1'
    @property
    def request_line(self) -> str: ...

    def body(self) -> Mapping[str, object]:
        """The JSON body sent: built once, shown by the dry run, handed to the client as is."""
        ...

    def send(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        """Send it once; the incident as PagerDuty now holds it, or None when unchanged."""
        ...

    def rechecks(self, error: PagerDutyError) -> bool:
        """Whether a refusal (a 4xx) may mean the change is there already (read to tell)."""
        ...

    def landed(self, pagerduty: PagerDutyClient, current: Incident | None) -> Incident | None:
        """After an ambiguous failure: read, and return the incident if the write was applied
        (None: not applied, or not knowable: send it again)."""
        ...


@dataclass(frozen=True)
class Plan:
    """What an operation will do to one incident: the changes asked, the writes that make them."""

    changes: tuple[Change, ...]
    writes: tuple[Write, ...]
    #: the incident a create found already open (nothing is created then)
    found: Incident | None = None

    @property
    def sends_nothing(self) -> bool:
        return not self.writes

    def sent(self) -> dict[Field, Change]:
        """The changes that had to be sent, by field."""
        return {change.field: change for change in self.changes if change.needed}

    def with_note(self, note: str | None, incident: Incident | None) -> Plan:
        """This plan with ``note`` added after its change. When the plan sends nothing else or
        a create found its incident open (a re-run after a run that may have added it), the note
        is added only if missing (``once``)."""
        if not note:
            return self
        target = self.found or incident
        rerun = all(isinstance(w, AddNote) and w.once for w in self.writes)
        once = self.found is not None or (incident is not None and rerun)
        write = AddNote(note, target.id if target is not None else None, once=once)
        return replace(
            self,
            changes=(*self.changes, Change(Field.NOTE, "", note, True)),
            writes=(*self.writes, write),
        )

    def once_notes_target(self) -> str | None:
        """The incident whose notes must be read before this plan is applied, if any."""
        once = [w for w in self.writes if isinstance(w, AddNote) and w.once and w.incident_id]
        return once[0].incident_id if once else None

    def with_notes_held(self, held: list[str]) -> Plan:
        """This plan knowing the texts of the notes the incident holds: a ``once`` note already
        there is dropped (its change said to hold already); the others know their count."""
        writes: list[Write] = []
        dropped: set[str] = set()
        for write in self.writes:
            if isinstance(write, AddNote) and write.once and write.content in held:
                dropped.add(write.content)
                continue
            if isinstance(write, AddNote) and write.incident_id:
                write = replace(write, held_before=held.count(write.content))
            writes.append(write)
        changes = tuple(
            replace(c, needed=False) if c.field is Field.NOTE and c.asked in dropped else c
            for c in self.changes
        )
        return replace(self, changes=changes, writes=tuple(writes))


class Gather(Protocol):
    """What an operation may use to read before planning: the PagerDuty client and a pool."""

    pagerduty: PagerDutyClient

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]: ...


@dataclass(frozen=True)
class Positional:
    """An operation's main input, given on the command line as a positional argument."""

    input: str
    metavar: str
    help: str
    many: bool = False


class Described(Protocol[In]):
    """What the faces, the kit and the inputs know of any operation, whatever it acts on:
    its name, its words, its inputs model ``In``, its command line and its kit action."""

    name: ClassVar[str]
    #: what it is called in 'Escalation failed'
    noun: ClassVar[str]
    #: present participle for logs: 'Escalating'
    doing: ClassVar[str]
    #: past participle for results: 'escalated'
    done: ClassVar[str]
    #: its inputs: the common ones and its own (see :class:`escalator.inputs.InputRule`)
    inputs_model: ClassVar[type[CommonInputs]]
    runs_on_service: ClassVar[bool]
    needs_rest_token: ClassVar[bool]
    #: the command line: its help, its example, its main input, options beyond its inputs
    description: ClassVar[str]
    example: ClassVar[str]
    positional: ClassVar[Positional | None]
    cli_extra: ClassVar[tuple[str, ...]]
    #: the Port kit's file holding its self-service action
    kit_action: ClassVar[str]

    def check_inputs(self, inputs: In) -> None:
        """Raise :class:`~escalator.errors.InputError` for inputs it cannot take together."""
        ...

    def subject(self, inputs: In) -> str:
        """What it acts on, for the first run log: 'PagerDuty incident Q1'."""
        ...

    def asked(self, inputs: In) -> str:
        """What was asked, from the inputs, before anything is read: 'urgency high'."""
        ...


class Operation(Described[In], Protocol[In, R]):
    """An operation on one incident, as the use case runs it, with its inputs model ``In`` and
    its typed request ``R`` (see :class:`escalator.operations.target.TargetOperation` for the
    others)."""

    #: False only for create: there is no incident to read before
    reads_incident: ClassVar[bool]

    def incident_to_read(self, inputs: In) -> str | None:
        """The incident read before planning (None: none is, as for a create)."""
        ...

    def note_after(self, inputs: In) -> str | None:
        """The note added after its change (None for none, and for note itself)."""
        ...

    def done_label(self, plan: Plan, after: Incident) -> str:
        """The Port run's status label once it changed something: 'Escalated to Platform'."""
        ...

    def summary_line(
        self, inputs: In, incident: Incident | None, redact: Callable[[str], str]
    ) -> str:
        """A Markdown line the job summary shows under the incident ('' for none); every value
        in it goes through ``redact``."""
        ...

    def gather(self, inputs: In, reads: Gather, incident: Future[Incident] | None) -> R:
        """Read what the plan needs besides the incident (users, priorities, the policy...) and
        return the operation's typed request. Input errors found here are raised here."""
        ...

    def plan(self, incident: Incident | None, request: R) -> Plan:
        """Pure: the plan for ``incident`` (None for a create) given ``request``."""
        ...
