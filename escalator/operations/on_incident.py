"""What an operation on one existing incident declares unless it says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from escalator.clients.models import Incident
from escalator.inputs import ActionInputs
from escalator.operations.base import Plan, Positional

R = TypeVar("R")


class IncidentOperation(Generic[R]):
    """The defaults of an operation that reads one incident, then plans on it
    (``plan_on``): it takes ``incident_id`` and a note, and its Port action runs on the
    incident entity."""

    name: ClassVar[str]
    done: ClassVar[str]
    reads_incident: ClassVar[bool] = True
    needs: ClassVar[tuple[str, ...]] = ("incident_id",)
    accepts: ClassVar[tuple[str, ...]] = ("note",)
    runs_on_service: ClassVar[bool] = False
    needs_rest_token: ClassVar[bool] = True
    adds_note: ClassVar[bool] = True
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ()

    def check_inputs(self, inputs: ActionInputs) -> None:
        return None

    def subject(self, inputs: ActionInputs) -> str:
        return f"PagerDuty incident {inputs.incident_id}"

    def asked(self, inputs: ActionInputs) -> str:
        return ""

    def done_label(self, plan: Plan, after: Incident) -> str:
        return self.done.capitalize()

    def summary_line(
        self, inputs: ActionInputs, incident: Incident | None, redact: Callable[[str], str]
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
