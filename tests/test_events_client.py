"""The Events API v2 client against the sandbox: answers, refusals naming inputs, and what is
repeated after 429, 5xx, 400 and a lost answer (read from the sandbox journal)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from escalator import terms
from escalator.clients.bodies import AlertEvent, ChangeEvent
from escalator.clients.events import EventsClient
from escalator.errors import OutcomeUnknown, PagerDutyError, ServiceUnavailable
from escalator.http import Deadline, Policy
from escalator.sandbox import Sandbox
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from tests.e2e import SkippingClock

KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")
UNKNOWN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def events(sandbox: Sandbox) -> Iterator[EventsClient]:
    sandbox.reset()
    sandbox.clear_faults()
    sandbox.clear_journal()
    client = EventsClient.connect(sandbox.events_url, deadline=Deadline(30, SkippingClock()))
    yield client
    client.close()


def trigger(key: str = KEY, dedup_key: str = "port-r_test1") -> AlertEvent:
    return {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Disk full", "source": "PSVCPAY", "severity": "error"},
    }


def change(key: str = KEY) -> ChangeEvent:
    return {
        "routing_key": key,
        "payload": {
            "summary": "Deployed 2.4.1",
            "source": "PSVCPAY",
            "timestamp": "2026-12-06T20:00:00Z",
        },
    }


def sent(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [e for e in sandbox.journal() if e["path"] == f"/events{path}"]


def opened(sandbox: Sandbox, key: str) -> list[dict[str, Any]]:
    incidents = sandbox.state()["pagerduty"]["incidents"].values()
    return [i for i in incidents if i["incident_key"] == key]


def test_trigger_answers_its_dedup_key_and_opens_one_incident(
    sandbox: Sandbox, events: EventsClient
) -> None:
    """A trigger's 202 gives PagerDuty's dedup key; the same key again opens nothing more."""
    assert events.send_alert(trigger()).dedup_key == "port-r_test1"
    assert events.send_alert(trigger()).dedup_key == "port-r_test1"
    assert len(opened(sandbox, "port-r_test1")) == 1
    assert [e["status"] for e in sent(sandbox, "/v2/enqueue")] == [202, 202]


def test_unknown_routing_key_names_the_input_and_never_the_key(
    sandbox: Sandbox, events: EventsClient
) -> None:
    """PagerDuty's 400 for an unknown key names routing_key, is not retried, and hides the key."""
    with pytest.raises(PagerDutyError) as caught:
        events.send_alert(trigger(UNKNOWN))
    error = caught.value
    assert error.status == 400
    text = error.render(terms.ACTION)
    assert "routing_key" in text.message
    assert "routing_key" in text.hint
    assert UNKNOWN not in str(error)
    assert len(sent(sandbox, "/v2/enqueue")) == 1


def test_refusal_names_the_cli_terms(events: EventsClient) -> None:
    """On the command line, the refused field is named as the environment variable."""
    with pytest.raises(PagerDutyError) as caught:
        events.send_alert(trigger(UNKNOWN))
    assert "PAGERDUTY_ROUTING_KEY" in caught.value.render(terms.CLI).message


def test_429_and_5xx_are_retried_and_the_event_sent_once(
    sandbox: Sandbox, events: EventsClient
) -> None:
    """A 429 then a 500 are retried within the deadline; one incident is opened."""
    steps = [{"status": 429, "headers": {"Retry-After": "1"}}, {"status": 500}]
    sandbox.set_faults([{"method": "POST", "path": "/events/v2/enqueue", "steps": steps}])
    assert events.send_alert(trigger()).status == "success"
    assert [e["status"] for e in sent(sandbox, "/v2/enqueue")] == [429, 500, 202]
    assert len(opened(sandbox, "port-r_test1")) == 1


def test_lost_answer_is_sent_again_with_the_same_dedup_key(
    sandbox: Sandbox, events: EventsClient
) -> None:
    """A connection reset after PagerDuty processed the trigger: sent again, grouped, one
    incident."""
    steps = [{"fault": "reset_after"}]
    sandbox.set_faults([{"method": "POST", "path": "/events/v2/enqueue", "steps": steps}])
    events.send_alert(trigger())
    keys = [e["body"]["dedup_key"] for e in sent(sandbox, "/v2/enqueue")]
    assert keys == ["port-r_test1", "port-r_test1"]
    assert len(opened(sandbox, "port-r_test1")) == 1


def test_change_event_is_accepted_and_a_lost_answer_not_repeated(
    sandbox: Sandbox, events: EventsClient
) -> None:
    """A change event's 202 is accepted; after a lost answer it is not sent again."""
    assert events.send_change(change()).status == "success"
    assert len(sandbox.state()["pagerduty"]["change_events"]) == 1
    steps = [{"fault": "reset_after"}]
    sandbox.set_faults([{"method": "POST", "path": "/events/v2/change/enqueue", "steps": steps}])
    with pytest.raises(OutcomeUnknown):
        events.send_change(change())
    assert len(sent(sandbox, "/v2/change/enqueue")) == 2
    assert len(sandbox.state()["pagerduty"]["change_events"]) == 2


def test_change_event_to_a_ruleset_key_names_routing_key(events: EventsClient) -> None:
    """A ruleset key (R...) cannot take change events: the error says so and names the input."""
    with pytest.raises(PagerDutyError) as caught:
        events.send_change(change("R" + KEY[1:]))
    text = caught.value.render(terms.ACTION)
    assert "routing_key" in text.message
    assert "ruleset" in text.hint


def test_events_api_not_at_the_url_names_pagerduty_events_url(sandbox: Sandbox) -> None:
    """A 404 (the REST URL given as the Events URL) points at pagerduty_events_url."""
    client = EventsClient.connect(sandbox.pagerduty_url, deadline=Deadline(10, SkippingClock()))
    with pytest.raises((PagerDutyError, ServiceUnavailable)) as caught:
        client.send_alert(trigger())
    client.close()
    assert "pagerduty_events_url" in str(caught.value)


def test_event_policies() -> None:
    """Alert events repeat blindly (their key dedups); change events never after sending."""
    assert Policy.EVENT.rules.idempotent
    assert not Policy.CHANGE_EVENT.rules.idempotent
    assert {429, 500, 503} <= Policy.CHANGE_EVENT.rules.statuses
