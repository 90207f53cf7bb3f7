"""What the on-call operations (``oncall``, ``override``, ``remove-override``) share: where their
schedule comes from in ``port_context``, who "the user" is, and the PagerDuty user lookup.

A Port action on a ``pagerdutySchedule`` entity names the schedule itself; on a
``pagerdutyOncall`` entity, its ``pagerdutySchedule`` relation does (Port's PagerDuty integration
maps it from one ID, into a list when the relation is ``many``: both are read).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar

from escalator.clients.models import User
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.schedules import get_user
from escalator.errors import InputError
from escalator.inputs import CommonInputs
from escalator.inputs.fields import Instant, PagerDutyId
from escalator.inputs.fields import User as UserInput
from escalator.inputs.port_context import PortContext
from escalator.operations.base import Positional
from escalator.operations.lookups import resolve_users

SCHEDULE_BLUEPRINT = "pagerdutySchedule"
ONCALL_BLUEPRINT = "pagerdutyOncall"
SERVICE_BLUEPRINT = "pagerdutyService"
POLICY_BLUEPRINT = "pagerdutyEscalationPolicy"


class ScheduleInputs(CommonInputs):
    """The inputs of an operation that may name a schedule."""

    schedule_id: PagerDutyId | None = None


class OnScheduleInputs(ScheduleInputs):
    """The inputs of an operation on one schedule's on-call: the schedule, the user (else the
    ``from`` user) and when."""

    schedule_id: PagerDutyId
    oncall_user: UserInput | None = None
    start: Instant | None = None


In = TypeVar("In", bound=ScheduleInputs)


def schedule_in(context: PortContext) -> tuple[str, str] | None:
    """The schedule ``port_context`` names, with the key it came from (None: none)."""
    if context.blueprint == SCHEDULE_BLUEPRINT and context.entity:
        return context.entity, "port_context.entity"
    related = context.relations.get(SCHEDULE_BLUEPRINT)
    if isinstance(related, list):
        related = related[0] if len(related) == 1 else None
    if context.blueprint == ONCALL_BLUEPRINT and isinstance(related, str) and related:
        return related, f"port_context.relations.{SCHEDULE_BLUEPRINT}"
    return None


def user_asked(inputs: OnScheduleInputs) -> str:
    """``oncall_user``, or else the ``from`` user; raises InputError when neither is given."""
    asked = inputs.oncall_user or inputs.from_email
    if not asked:
        raise InputError(
            "oncall_user",
            f"is required by {{operation={inputs.operation}}} when {{from}} is empty.",
            hint="Give {oncall_user} (an email or a user ID), or {from}: that user is meant.",
        )
    return asked


def find_user(pagerduty: PagerDutyClient, inputs: OnScheduleInputs) -> User:
    """The user :func:`user_asked` names, by email (exact match) or ID, with their email: one
    read."""
    asked = user_asked(inputs)
    name = "oncall_user" if inputs.oncall_user else "from"
    found = resolve_users(pagerduty, (asked,), input_name=name)[0]
    return found if found.email else get_user(pagerduty, found.id)


class ScheduleOperation(Generic[In]):
    """The defaults of an operation on a schedule: its inputs come from a schedule entity (or an
    on-call entity's relation), it calls the REST API, it has no positional input."""

    target: ClassVar[str] = "schedule"
    inputs_model: ClassVar[type[CommonInputs]]
    secret_outputs: ClassVar[tuple[str, ...]] = ()
    runs_on_service: ClassVar[bool] = False
    needs_rest_token: ClassVar[bool] = True
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ()

    def context_inputs(self, context: PortContext) -> Mapping[str, tuple[str, str]]:
        found = schedule_in(context)
        return {"schedule_id": found} if found else {}

    def check_inputs(self, inputs: In) -> None:
        return None

    def subject(self, inputs: In) -> str:
        return f"PagerDuty schedule {inputs.schedule_id}"

    def port_blueprint(self, inputs: In) -> str | None:
        return None
