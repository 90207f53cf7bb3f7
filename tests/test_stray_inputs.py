"""Inputs of another operation: a wrong value is named as wrong, in input order, before the
token and before the input is said not to apply, as when one model held every input."""

from __future__ import annotations

import json

import pytest

from escalator.errors import InputError
from escalator.operations import parse_inputs

TOKEN = "pd-token-for-tests-1234"


def error_for(raw: dict[str, str]) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_inputs(raw)
    return caught.value


def test_a_wrong_value_of_another_operations_input_is_named_as_wrong() -> None:
    """escalate given assignees that are not users: the value is refused, not its operation."""
    raw = {"incident_id": "Q1", "urgency": "high", "pagerduty_token": TOKEN, "assignees": "x!"}
    error = error_for(raw)
    assert error.input == "assignees"
    assert error.message_template == (
        '{assignees}: "x!" is neither an email nor a PagerDuty user ID.'
    )


def test_a_wrong_value_of_another_operations_input_comes_before_the_missing_token() -> None:
    """acknowledge without a token and with an urgency that is none: the urgency is named."""
    error = error_for({"operation": "acknowledge", "incident_id": "Q1", "urgency": "mid"})
    assert error.input == "urgency"
    assert error.message_template == '{urgency}: "mid" is not an urgency.'


def test_errors_of_every_operations_inputs_are_said_in_input_order() -> None:
    """A wrong policy (another operation's) is named before a wrong region, as action.yml
    orders them."""
    raw = {
        "operation": "acknowledge",
        "incident_id": "Q1",
        "pagerduty_token": TOKEN,
        "pagerduty_region": "mars",
        "escalation_policy_id": "p!",
    }
    error = error_for(raw)
    assert error.input == "escalation_policy_id"
    assert error.message_template == (
        '{escalation_policy_id}: "p!" is not a PagerDuty escalation policy ID.'
    )


def test_a_wrong_entity_in_port_context_is_named_before_an_unknown_operation() -> None:
    """The incident port_context names is checked before the operation is: an entity that is
    no PagerDuty ID is named even with an unknown operation (as when one model held all)."""
    raw = {
        "operation": "bogus",
        "pagerduty_token": TOKEN,
        "service_name": "Payments",
        "escalation_policy_id": "PPLATFM",
        "port_context": json.dumps({"entity": "bad entity!", "blueprint": "pagerdutyService"}),
    }
    error = error_for(raw)
    assert error.input == "port_context.entity"
    assert error.message_template == ('{port_context.entity}: "bad entity!" is not a PagerDuty ID.')


def test_another_operations_input_that_holds_nothing_once_read_is_ignored() -> None:
    """Assignees of separators alone name nobody: escalate runs as if they were empty."""
    raw = {"incident_id": "Q1", "urgency": "high", "pagerduty_token": TOKEN, "assignees": " ,;"}
    assert parse_inputs(raw).operation == "escalate"


def test_a_secret_in_another_operations_input_is_not_quoted() -> None:
    """The token pasted into oncall_user (not escalate's) is refused without showing it."""
    raw = {"incident_id": "Q1", "urgency": "high", "pagerduty_token": TOKEN, "oncall_user": TOKEN}
    error = error_for(raw)
    assert error.input == "oncall_user"
    assert TOKEN not in f"{error.message_template} {error.hint_template}"
    assert "the value" in error.message_template
