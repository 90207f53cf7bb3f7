"""What an operation on one existing incident declares unless it says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from escalator.clients.models import Incident
from escalator.inputs import CommonInputs, IncidentInputs
from escalator.operations.base import Plan, Positional

R = TypeVar("R")
In = TypeVar("In", bound=IncidentInputs)


class IncidentOperation(Generic[In, R]):
    """The defaults of an operation that reads one incident, then plans on it
    (``plan_on``): its inputs are ``incident_id`` and a note (:class:`IncidentInputs`) unless it
    names a model of its own, and its Port action runs on the incident entity."""

    name: ClassVar[str]
    done: ClassVar[str]
    inputs_model: ClassVar[type[CommonInputs]] = IncidentInputs
    reads_incident: ClassVar[bool] = True
    runs_on_service: ClassVar[bool] = False
    needs_rest_token: ClassVar[bool] = True
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ()

    def check_inputs(self, inputs: In) -> None:
        return None

    def subject(self, inputs: In) -> str:
        return f"PagerDuty incident {inputs.incident_id}"

    def asked(self, inputs: In) -> str:
        return ""

    def incident_to_read(self, inputs: In) -> str | None:
        return inputs.incident_id

    def note_after(self, inputs: In) -> str | None:
        return inputs.note

    def done_label(self, plan: Plan, after: Incident) -> str:
        return self.done.capitalize()

    def summary_line(
        self, inputs: In, incident: Incident | None, redact: Callable[[str], str]
    ) -> str:
        return ""

    def plan(self, incident: Incident | None, request: R) -> Plan:
        """The plan on the incident read before (the use case reads it: ``reads_incident``)."""
        if incident is None:
            raise TypeError(f"{self.name} plans on an incident read before")
        return self.plan_on(incident, request)

    def plan_on(self, incident: Incident, request: R) -> Plan:
        """Pure: the plan for ``incident`` given ``request``."""
        raise NotImplementedError
