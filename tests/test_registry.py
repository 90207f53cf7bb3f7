"""The registry as the one source: an operation's module declares it, the inputs, words, command
line and kit follow, and an operation that needs no REST token takes none."""

from __future__ import annotations

from typing import ClassVar

import pytest

from escalator.errors import InputError
from escalator.faces.cli import build_parser
from escalator.faces.cli.options import OPTION_FORM
from escalator.inputs import CommonInputs
from escalator.inputs import parse_inputs as parse_with
from escalator.kit import definitions
from escalator.operations import OPERATIONS, parse_inputs
from escalator.usecase.wording import start_log

TOKEN = "pd-token-for-tests-1234"


class PageInputs(CommonInputs):
    """Its inputs: a title, and details."""

    title: str
    details: str | None = None


class Page:
    """An operation that acts on no incident and calls no REST API (as an Events API one)."""

    name: ClassVar[str] = "page"
    inputs_model: ClassVar[type[CommonInputs]] = PageInputs
    runs_on_service: ClassVar[bool] = True
    needs_rest_token: ClassVar[bool] = False

    def check_inputs(self, inputs: PageInputs) -> None:
        if inputs.details == "refused":
            raise InputError("details", "is refused by page.", hint="Give other details.")


RULES = {"escalate": OPERATIONS["escalate"], "page": Page()}


def test_an_operation_without_rest_api_parses_without_a_token() -> None:
    """A registered operation that needs no REST token validates with none given."""
    parsed = parse_with({"operation": "page", "title": "Disk full"}, operations=RULES)
    assert parsed.operation == "page"
    assert parsed.pagerduty_token is None
    assert parsed.title == "Disk full"


def test_an_operation_own_checks_and_rules_apply() -> None:
    """The operation's own check runs, and an input of another operation is refused by name."""
    with pytest.raises(InputError) as caught:
        parse_with({"operation": "page", "title": "T", "details": "refused"}, operations=RULES)
    assert caught.value.message_template == "{details}: is refused by page."
    with pytest.raises(InputError) as caught:
        parse_with({"operation": "page", "title": "T", "urgency": "high"}, operations=RULES)
    assert caught.value.message_template == "{urgency}: does not apply to {operation=page}."


def test_the_first_registered_operation_is_the_default() -> None:
    """With no operation given, the registry's first is run."""
    parsed = parse_with(
        {"incident_id": "Q1", "urgency": "high", "pagerduty_token": TOKEN}, operations=RULES
    )
    assert parsed.operation == "escalate"


REST_OPERATIONS = sorted(name for name, op in OPERATIONS.items() if op.needs_rest_token)


@pytest.mark.parametrize("name", REST_OPERATIONS)
def test_an_operation_that_calls_the_rest_api_still_needs_the_token(name: str) -> None:
    """Each operation on the REST API requires pagerduty_token, with the message it always had."""
    with pytest.raises(InputError) as caught:
        parse_inputs({"operation": name, "incident_id": "Q1", "urgency": "high"})
    assert caught.value.input == "pagerduty_token"
    assert caught.value.message_template == "{pagerduty_token}: is required."


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_faces_and_kit_take_each_operation_from_its_module(name: str) -> None:
    """The subcommand's description and example, and the kit's action file, are the module's."""
    operation = OPERATIONS[name]
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    subcommand = commands.choices[name]  # type: ignore[index]
    assert subcommand.description == operation.description
    assert operation.example in (subcommand.epilog or "")
    assert definitions.action_file(name) == operation.kit_action
    assert definitions.action_template(name)["identifier"]


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - set(REST_OPERATIONS)))
def test_an_events_operation_runs_without_the_rest_token_but_not_without_its_key(name: str) -> None:
    """trigger and change-event parse with no pagerduty_token, and require routing_key."""
    raw = {"operation": name, "title": "T"}
    key = {"routing_key": "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b"}
    assert parse_inputs(raw | key).pagerduty_token is None
    with pytest.raises(InputError) as caught:
        parse_inputs(raw)
    assert caught.value.input == "routing_key"


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_the_first_run_log_says_the_subject_and_the_ask(name: str) -> None:
    """The first Port run log is the operation's doing, its subject, and what was asked."""
    operation = OPERATIONS[name]
    raw = {
        "operation": name,
        "pagerduty_token": TOKEN,
        "incident_id": "Q1",
        "urgency": "high",
        "assignees": "bob@example.com",
        "note": "n",
        "snooze_duration": "30m",
        "priority": "P1",
        "title": "T",
        "service_id": "PSVC1",
        "schedule_id": "PSC7PAY",
        "oncall_user": "bob@example.com",
        "end": "4h",
        "routing_key": "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b",
    }
    model = operation.inputs_model
    if "schedule_id" in model.accepts():  # one target only: the schedule
        del raw["service_id"]
    if "service_name" in model.needs():  # create-service: a policy with the name, alone
        raw |= {"service_name": "Payments", "escalation_policy_id": "PPAYMNT"}
    needed = {*model.inputs(), "operation", "pagerduty_token", "routing_key"}
    inputs = parse_inputs({key: value for key, value in raw.items() if key in needed})
    assert type(inputs) is model  # the model the operation named is the one validated
    log = start_log(inputs, operation)
    assert log.startswith(f"{operation.doing} {operation.subject(inputs)}")
    assert operation.asked(inputs) in log


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_operation_is_named_as_its_module(name: str) -> None:
    """The registry names each operation as its module ('-' for '_'), and that is the name the
    operation itself declares."""
    operation = OPERATIONS[name]
    assert operation.name == name
    assert type(operation).__module__.rpartition(".")[2].replace("_", "-") == name


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_an_operation_needs_the_fields_of_its_model_that_have_no_default(name: str) -> None:
    """What an operation needs and accepts is read from its inputs model: a field without a
    default is needed, and neither list holds a common input."""
    model = OPERATIONS[name].inputs_model
    fields = model.model_fields
    for needed in model.needs():
        assert fields[model.inputs()[needed]].is_required()
    for accepted in model.accepts():
        assert not fields[model.inputs()[accepted]].is_required()
    assert not set(model.inputs()) & set(CommonInputs.model_fields)


def test_a_subcommand_lists_what_it_needs_then_its_own_inputs_then_the_shared_note() -> None:
    """The order of an operation's inputs (its subcommand's options): needed first, then those
    its own model declares, then those of the model it builds on (the incident's note last)."""
    escalate = OPERATIONS["escalate"].inputs_model
    assert list(escalate.inputs()) == [
        "incident_id",
        "escalation_policy_id",
        "escalation_level",
        "urgency",
        "note",
    ]
    assert OPERATIONS["reassign"].inputs_model.needs() == ("incident_id", "assignees")
    assert next(iter(OPERATIONS["oncall"].inputs_model.inputs())) == "schedule_id"
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    parser = commands.choices["escalate"]  # type: ignore[index]
    group = next(g for g in parser._action_groups if g.title == "escalate options")
    assert [action.dest for action in group._group_actions] == list(escalate.inputs())


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_operation_class_keeps_its_docstring(name: str) -> None:
    """Each operation's class opens with its docstring, not with an assignment that voids it."""
    doc = type(OPERATIONS[name]).__doc__
    assert doc is not None
    assert "operation" in doc


#: Each subcommand's own options, in the order they were listed before each operation had its
#: own inputs model (needed first, then what it also takes).
OPTION_ORDER: dict[str, tuple[str, ...]] = {
    "escalate": ("incident_id", "escalation_policy_id", "escalation_level", "urgency", "note"),
    "acknowledge": ("incident_id", "note"),
    "resolve": ("incident_id", "resolution", "note"),
    "reassign": ("incident_id", "assignees", "note"),
    "note": ("incident_id", "note"),
    "snooze": ("incident_id", "snooze_duration", "note"),
    "priority": ("incident_id", "priority", "note"),
    "create": (
        "title",
        "service_id",
        "details",
        "incident_key",
        "urgency",
        "escalation_policy_id",
        "priority",
        "assignees",
        "note",
    ),
    "oncall": ("schedule_id", "escalation_policy_id", "service_id"),
    "override": ("schedule_id", "end", "oncall_user", "start"),
    "remove-override": ("schedule_id", "oncall_user", "start", "override_id"),
    "create-service": ("service_name", "escalation_policy_id", "description"),
    "trigger": (
        "event_action",
        "dedup_key",
        "title",
        "severity",
        "source",
        "details",
        "service_id",
    ),
    "change-event": ("title", "source", "details", "service_id"),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_a_subcommand_keeps_the_order_of_its_options(name: str) -> None:
    """Each subcommand lists its own options as it did before (trigger's --title after
    --dedup-key, remove-override's --override last), in its help and usage alike."""
    assert tuple(OPERATIONS[name].inputs_model.inputs()) == OPTION_ORDER[name]
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    parser = commands.choices[name]  # type: ignore[index]
    group = next(g for g in parser._action_groups if g.title == f"{name} options")
    listed = [action.dest for action in group._group_actions][: len(OPTION_ORDER[name])]
    positional = OPERATIONS[name].positional
    form = {positional.input: OPTION_FORM} if positional is not None else {}
    assert listed == [form.get(input_name, input_name) for input_name in OPTION_ORDER[name]]
