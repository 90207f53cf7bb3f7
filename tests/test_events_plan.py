"""The pure parts of the Events API operations: the event bodies, the plans, the details, the
links, the limits and the poll of an event's incident."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from escalator.clients.models import Incident
from escalator.errors import InputError
from escalator.operations import parse_inputs
from escalator.operations.change_event import ChangeRequest, timestamp
from escalator.operations.change_event import plan as change_plan
from escalator.operations.event_parts import (
    MAX_SUMMARY,
    check_size,
    custom_details,
    port_run_page,
    run_key,
    summary_of,
)
from escalator.operations.event_writes import EventState, SendAlert, poll
from escalator.operations.trigger import Trigger, TriggerRequest
from escalator.operations.trigger import plan as trigger_plan

KEY = "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b"


def incident(status: str) -> Incident:
    return Incident.model_validate(
        {"id": "Q1", "incident_number": 7, "title": "Disk", "status": status, "urgency": "high"}
    )


def request(action: Any = "trigger", held: Incident | None = None, lookup: bool = True) -> Any:
    payload: Any = {"summary": "Disk", "source": "db-1", "severity": "error"}
    return TriggerRequest(
        routing_key=SecretStr(KEY),
        event_action=action,
        dedup_key="port-r_1",
        payload=payload if action == "trigger" else None,
        links=(),
        lookup=object() if lookup else None,  # type: ignore[arg-type]  # never called by plan
        held=held,
    )


def test_a_trigger_body_has_the_key_the_action_the_dedup_key_and_the_payload() -> None:
    """The body sent is PagerDuty's: routing_key, event_action, dedup_key, payload."""
    [write] = trigger_plan(request()).writes
    body = write.body()
    assert body == {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "port-r_1",
        "payload": {"summary": "Disk", "source": "db-1", "severity": "error"},
    }
    assert KEY not in repr(write)


def test_a_resolve_sends_no_payload_and_reads_the_held_incident_after() -> None:
    """acknowledge and resolve carry no payload; the incident read before is read after."""
    held = incident("triggered")
    [write] = trigger_plan(request("resolve", held)).writes
    assert isinstance(write, SendAlert)
    assert "payload" not in write.body()
    assert write.held is held


@pytest.mark.parametrize(
    ("action", "status", "needed"),
    [
        ("trigger", None, True),
        ("trigger", "triggered", False),
        ("trigger", "acknowledged", False),
        ("acknowledge", "triggered", True),
        ("acknowledge", "acknowledged", False),
        ("resolve", "acknowledged", True),
        ("resolve", None, True),
    ],
)
def test_the_change_says_when_the_incident_already_holds_it(
    action: str, status: str | None, needed: bool
) -> None:
    """A trigger while the key's incident is open is grouped; an acknowledge of an acknowledged
    one holds already; the event is sent either way."""
    held = incident(status) if status else None
    planned = trigger_plan(request(action, held))
    assert planned.changes[0].needed is needed
    assert len(planned.writes) == 1


def test_without_a_rest_token_nothing_was_read_before() -> None:
    """With no REST lookup the plan has no state before."""
    assert trigger_plan(request(lookup=False)).before is None
    assert trigger_plan(request()).before == EventState("trigger", "port-r_1")


def test_a_change_event_body_and_its_time() -> None:
    """The change event's body, with its ISO 8601 UTC timestamp and links."""
    payload: Any = {"summary": "Deployed", "source": "PSVCPAY", "timestamp": timestamp(0)}
    links: Any = ({"href": "https://github.com/o/r/actions/runs/1", "text": "GitHub Actions run"},)
    [write] = change_plan(ChangeRequest(SecretStr(KEY), payload, links)).writes
    assert write.body()["payload"]["timestamp"] == "1970-01-01T00:00:00Z"
    assert write.body()["links"] == list(links)


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        (None, None),
        ("Since 09:00", {"details": "Since 09:00"}),
        ('{"version": "2.4.1", "n": 2}', {"version": "2.4.1", "n": 2}),
    ],
)
def test_details_are_an_object_or_text(details: str | None, expected: Any) -> None:
    """A JSON object is sent as is; any other text under details."""
    assert custom_details(details) == expected


@pytest.mark.parametrize("details", ["{version: 1}", "{", '{"a": 1} trailing'])
def test_details_that_open_like_an_object_must_be_one(details: str) -> None:
    """Text opening with { that is not a JSON object is an input error naming details."""
    with pytest.raises(InputError) as caught:
        custom_details(details)
    assert caught.value.input == "details"


def test_limits_name_title_and_details() -> None:
    """A summary over 1024 characters names title; an event over 512 KB names details."""
    raw = {"operation": "trigger", "routing_key": KEY, "title": "x" * (MAX_SUMMARY + 1)}
    with pytest.raises(InputError) as caught:
        summary_of(parse_inputs(raw))
    assert caught.value.input == "title"
    with pytest.raises(InputError) as too_big:
        check_size({"payload": {"custom_details": {"d": "x" * 600_000}}})
    assert too_big.value.input == "details"


@pytest.mark.parametrize(
    ("api", "run_id", "page"),
    [
        ("https://api.port.io", "r_1", "https://app.port.io/organization/run?runId=r_1"),
        ("https://api.us.port.io", "r_1", "https://app.us.port.io/organization/run?runId=r_1"),
        ("https://api.getport.io", "r_2", "https://app.getport.io/organization/run?runId=r_2"),
        ("http://127.0.0.1:9/port", "r_1", ""),
        ("https://api.port.io", None, ""),
    ],
)
def test_the_port_run_page_only_on_ports_own_hosts(api: str, run_id: str | None, page: str) -> None:
    """The Port run's page for Port's EU and US apps; none for the sandbox or without a run."""
    assert port_run_page(api, run_id) == page


def test_a_run_key_is_new_each_run() -> None:
    """A key made for a run without a Port run differs from the next run's."""
    assert run_key() != run_key()
    assert run_key().startswith("escalator-")


def test_poll_waits_more_each_time_and_stops_before_the_deadline() -> None:
    """The poll reads until found, waiting 0.5, 1, 2... while the deadline leaves time."""
    found = [None, None, incident("triggered")]
    waits: list[float] = []
    assert poll(lambda: found.pop(0), remaining=lambda: 60, sleep=waits.append) is not None
    assert waits == [0.5, 1.0]
    waits.clear()
    assert poll(lambda: None, remaining=lambda: 2.6, sleep=waits.append) is None
    assert waits == [0.5]


def test_the_trigger_is_an_operation_on_a_service_without_rest_token() -> None:
    """trigger runs on a service entity and needs neither pagerduty_token nor from."""
    assert Trigger.runs_on_service
    assert not Trigger.needs_rest_token
    inputs = parse_inputs({"operation": "trigger", "routing_key": KEY, "title": "T"})
    assert inputs.pagerduty_token is None
    assert inputs.from_email is None
    assert inputs.pagerduty_events_url == "https://events.pagerduty.com"
    eu = parse_inputs(
        {"operation": "trigger", "routing_key": KEY, "title": "T", "pagerduty_region": "eu"}
    )
    assert eu.pagerduty_events_url == "https://events.eu.pagerduty.com"


def test_a_resolve_no_open_incident_holds_reads_nothing_after() -> None:
    """PagerDuty drops an acknowledge or resolve of a key no open incident holds: the plan reads
    nothing after it; a trigger always reads its incident after."""
    [dropped] = trigger_plan(request("resolve", None)).writes
    assert isinstance(dropped, SendAlert)
    assert dropped.lookup is None
    [opened] = trigger_plan(request("trigger", None)).writes
    assert isinstance(opened, SendAlert)
    assert opened.lookup is not None
