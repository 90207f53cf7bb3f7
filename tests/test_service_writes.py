"""The services client and create-service's writes against the sandbox: the name lookup is exact,
a taken name and a lost answer are looked up, an integration is never added twice, and the routing
key is never in a repr or an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from escalator import terms
from escalator.clients import services
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.services import Integration, find_service, get_integration, get_service
from escalator.clients.services_errors import read_service_error
from escalator.errors import PagerDutyError, Refusal
from escalator.http import Deadline, HttpResponse
from escalator.operations.service_writes import (
    OTHER_RUN_WAIT,
    AddEventsIntegration,
    CreateService,
    ServiceState,
)
from escalator.sandbox import Sandbox, seed
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from escalator.usecase.apply import apply_write
from escalator.workflow import Console
from tests.e2e import SkippingClock

PAYMENTS_KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")


@dataclass
class Clients:
    """What the writes send through, and the clock its waits pass on at once."""

    pagerduty: PagerDutyClient
    clock: SkippingClock


@pytest.fixture
def clients(sandbox: Sandbox) -> Clients:
    """A PagerDuty client of the sandbox, on a skipping clock."""
    clock = SkippingClock()
    client = PagerDutyClient.connect(
        sandbox.pagerduty_url, seed.PAGERDUTY_TOKEN, from_email=None, deadline=Deadline(30, clock)
    )
    return Clients(client, clock)


def pd_requests(sandbox: Sandbox) -> list[tuple[str, str]]:
    """(method, path) of every PagerDuty request the sandbox saw."""
    return [
        (entry["method"], entry["path"])
        for entry in sandbox.journal()
        if entry["path"].startswith("/pagerduty/")
    ]


def services_named(sandbox: Sandbox, name: str) -> list[dict[str, Any]]:
    """The sandbox's services of ``name``, ignoring case."""
    services = sandbox.state()["pagerduty"]["services"].values()
    return [s for s in services if s["name"].lower() == name.lower()]


def test_find_service_matches_the_whole_name_ignoring_case(
    sandbox: Sandbox, clients: Clients
) -> None:
    """'payments' (a substring of payments-api) finds nothing; 'PAYMENTS-API' finds it, key too."""
    assert find_service(clients.pagerduty, "payments") is None
    found = find_service(clients.pagerduty, "PAYMENTS-API")
    assert found is not None
    assert found.id == "PSVCPAY"
    integration = found.events_integration()
    assert integration is not None
    assert integration.integration_key is not None
    assert integration.integration_key.get_secret_value() == PAYMENTS_KEY
    assert PAYMENTS_KEY not in repr(found)


def test_find_service_reads_every_page(
    sandbox: Sandbox, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name past the first page of query matches (sorted by name) is still found."""
    monkeypatch.setattr(services, "PAGE", 2)
    for number in range(2):
        CreateService(f"a-shop-{number:03d}", "PPAYMNT").send(clients, None)
    CreateService("shop", "PPAYMNT").send(clients, None)
    sandbox.clear_journal()
    found = find_service(clients.pagerduty, "Shop")
    assert found is not None
    assert found.name == "shop"
    assert [m for m, _ in pd_requests(sandbox)] == ["GET", "GET"]


def test_create_then_integration_gives_the_key(sandbox: Sandbox, clients: Clients) -> None:
    """A new service, then its integration: two writes, and the key the sandbox stored."""
    state = CreateService("Payments", "PPAYMNT").send(clients, None)
    state = AddEventsIntegration().send(clients, state)
    assert state.integration is not None
    assert state.integration.integration_key is not None
    stored = get_integration(clients.pagerduty, state.service.id, state.integration.id)
    assert state.integration.integration_key == stored.integration_key
    assert len(state.integration.integration_key.get_secret_value()) == 32
    assert pd_requests(sandbox)[:2] == [
        ("POST", "/pagerduty/services"),
        ("POST", f"/pagerduty/services/{state.service.id}/integrations"),
    ]


def test_a_taken_name_is_found_not_created(sandbox: Sandbox, clients: Clients) -> None:
    """Another run's service of the same name (another case): the 400 is read as found; with no
    integration yet, it is read again once after a wait for that run to add its own."""
    existing = CreateService("Payments", "PPAYMNT").send(clients, None)
    sandbox.clear_journal()
    state, ours = apply_write(
        CreateService("PAYMENTS", "PPAYMNT"),
        clients,
        None,
        Console(None, github=False, terms=terms.ACTION),
    )
    assert state is not None
    assert state.service.id == existing.service.id
    assert ours is False
    assert len(services_named(sandbox, "payments")) == 1
    assert [m for m, _ in pd_requests(sandbox)] == ["POST", "GET", "GET"]
    assert clients.clock.waits == [OTHER_RUN_WAIT]


def test_another_runs_integration_is_taken_after_a_taken_name(
    sandbox: Sandbox, clients: Clients
) -> None:
    """The other run's integration is there once the name is found: it is used, nothing sent."""
    existing = AddEventsIntegration().send(
        clients, CreateService("Payments", "PPAYMNT").send(clients, None)
    )
    sandbox.clear_journal()
    state, _ = apply_write(
        CreateService("Payments", "PPAYMNT"),
        clients,
        None,
        Console(None, github=False, terms=terms.ACTION),
    )
    assert state is not None
    assert state.integration is not None
    assert existing.integration is not None
    assert state.integration.id == existing.integration.id
    assert AddEventsIntegration().send(clients, state) is state
    assert [m for m, _ in pd_requests(sandbox)] == ["POST", "GET"]
    assert clients.clock.waits == []


def test_a_lost_create_is_looked_up_not_sent_again(sandbox: Sandbox, clients: Clients) -> None:
    """The create's answer is lost after PagerDuty made it: the lookup finds it, one service."""
    sandbox.set_faults(
        [{"method": "POST", "path": "/pagerduty/services", "steps": [{"fault": "reset_after"}]}]
    )
    state, ours = apply_write(
        CreateService("Payments", "PPAYMNT"),
        clients,
        None,
        Console(None, github=False, terms=terms.ACTION),
    )
    assert state is not None
    assert ours is True
    assert len(services_named(sandbox, "Payments")) == 1


def test_a_lost_integration_is_read_back_not_added_twice(
    sandbox: Sandbox, clients: Clients
) -> None:
    """The integration's answer is lost after it was added: the service is read, one integration."""
    created = CreateService("Payments", "PPAYMNT").send(clients, None)
    path = f"/pagerduty/services/{created.service.id}/integrations"
    sandbox.set_faults([{"method": "POST", "path": path, "steps": [{"fault": "reset_after"}]}])
    state, _ = apply_write(
        AddEventsIntegration(), clients, created, Console(None, github=False, terms=terms.ACTION)
    )
    assert state is not None
    assert state.integration is not None
    service = get_service(clients.pagerduty, created.service.id)
    assert len(service.integrations) == 1
    assert service.integrations[0].id == state.integration.id


def test_a_service_with_an_integration_gets_no_second(sandbox: Sandbox, clients: Clients) -> None:
    """A found service already holding an Events integration: nothing is sent."""
    found = find_service(clients.pagerduty, "payments-api")
    assert found is not None
    sandbox.clear_journal()
    held = ServiceState(found, found.events_integration())
    assert AddEventsIntegration(found.id).send(clients, held) is held
    assert pd_requests(sandbox) == []


def test_an_integration_without_its_key_is_read_on_its_own(
    sandbox: Sandbox, clients: Clients
) -> None:
    """An answer without integration_key: the integration is read, and its key taken from there."""
    created = CreateService("Payments", "PPAYMNT").send(clients, None)
    made = AddEventsIntegration().send(clients, created).integration
    assert made is not None
    assert made.integration_key is not None
    path = f"/pagerduty/services/{created.service.id}/integrations"
    body = {"integration": {"id": made.id, "type": "events_api_v2_inbound_integration"}}
    sandbox.set_faults([{"method": "POST", "path": path, "steps": [{"status": 201, "body": body}]}])
    sandbox.clear_journal()
    state = AddEventsIntegration().send(clients, created)
    assert state.integration is not None
    assert state.integration.integration_key is not None
    assert state.integration.integration_key == made.integration_key
    assert pd_requests(sandbox) == [("POST", path), ("GET", f"{path}/{made.id}")]


@pytest.mark.parametrize(
    ("name", "policy", "input_name"),
    [("Payments", "PNOSUCH", "escalation_policy_id"), ("x" * 256, "PPAYMNT", "service_name")],
)
def test_refusals_name_the_input(
    sandbox: Sandbox, clients: Clients, name: str, policy: str, input_name: str
) -> None:
    """An unknown policy or a name too long: the error names the input to change."""
    with pytest.raises(PagerDutyError) as caught:
        CreateService(name, policy).send(clients, None)
    assert f"{{{input_name}}}" in caught.value.message_template + caught.value.hint_template
    assert not services_named(sandbox, name)


def test_an_integration_key_never_shows_in_a_repr() -> None:
    """The routing key is a secret from the moment it is read."""
    integration = Integration.model_validate(
        {"id": "P1", "type": "events_api_v2_inbound_integration", "integration_key": "k" * 32}
    )
    assert "k" * 32 not in repr(integration) + str(integration)
    assert integration.events_v2


def pagerduty_answer(status: int, code: int, *errors: str) -> HttpResponse:
    """A PagerDuty error answer."""
    body = {"error": {"message": "Invalid Input Provided", "code": code, "errors": list(errors)}}
    return HttpResponse(status=status, headers={}, body=body)


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (pagerduty_answer(400, 2001, "Name has already been taken"), "{service_name}"),
        (pagerduty_answer(400, 2001, "Escalation policy not found"), "{escalation_policy_id}"),
        (pagerduty_answer(400, 2001, "Name is too long"), "{service_name}"),
        (pagerduty_answer(400, 2019, "Product Limit Reached"), "limit of services"),
        (pagerduty_answer(402, 2014), "plan"),
        (pagerduty_answer(403, 2010), "{pagerduty_token}"),
    ],
)
def test_a_refused_create_says_what_to_change(answer: HttpResponse, named: str) -> None:
    """Each refusal of POST /services is read into the input or the fix it is about."""
    reading = read_service_error(answer, "/services")
    assert named in reading.rule.message + reading.rule.hint


def test_a_taken_name_on_another_policy_is_refused(sandbox: Sandbox, clients: Clients) -> None:
    """Another run made the name on another policy meanwhile: refused, naming the name, and
    nothing sent again."""
    CreateService("Payments", "PPLATFM").send(clients, None)
    sandbox.clear_journal()
    console = Console(None, github=False, terms=terms.ACTION)
    with pytest.raises(Refusal) as caught:
        apply_write(CreateService("Payments", "PPAYMNT"), clients, None, console)
    assert caught.value.input == "service_name"
    assert "PPLATFM" in caught.value.message_template
    assert [m for m, _ in pd_requests(sandbox)] == ["POST", "GET"]
