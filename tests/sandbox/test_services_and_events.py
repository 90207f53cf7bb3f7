"""The sandbox's services and integrations, and its Events API v2."""

from __future__ import annotations

import json

import requests

from escalator.sandbox import Sandbox
from escalator.sandbox.events import UNKNOWN_KEY
from escalator.sandbox.services import NAME_TAKEN, SEEDED_INTEGRATIONS
from tests.sandbox.conftest import Api

PAYMENTS_KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")


def _service(name: str, policy: str = "PPAYMNT") -> dict[str, object]:
    """Return a ``POST /services`` body."""
    reference = {"id": policy, "type": "escalation_policy_reference"}
    return {"service": {"type": "service", "name": name, "escalation_policy": reference}}


def _trigger(key: str, dedup_key: str | None = "port-r_1") -> dict[str, object]:
    """Return a trigger event."""
    payload = {"summary": "Disk full", "source": "port", "severity": "error"}
    event: dict[str, object] = {"routing_key": key, "event_action": "trigger", "payload": payload}
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def _incidents(api: Api, key: str) -> list[dict[str, object]]:
    """Return the incidents holding ``key``, of any age."""
    params = {"incident_key": key, "date_range": "all"}
    return api.pd("GET", "/incidents", params=params).body["incidents"]  # type: ignore[no-any-return]


def test_service_query_is_a_substring_and_name_is_exact(api: Api) -> None:
    """query matches part of a name ignoring case; name matches the whole name."""
    found = api.pd("GET", "/services", params={"query": "PAY"}).body["services"]
    assert [s["name"] for s in found] == ["payments-api"]
    exact = api.pd("GET", "/services", params={"name": "payments"}).body["services"]
    assert exact == []


def test_create_service_once_by_name(api: Api, sandbox: Sandbox) -> None:
    """A new name is created with PagerDuty's POST defaults; the same name in any case is 400
    "Name has already been taken" and nothing more is created."""
    created = api.pd("POST", "/services", _service("Payments"))
    assert created.status == 201
    service = created.body["service"]
    assert (service["status"], service["acknowledgement_timeout"]) == ("active", None)
    again = api.pd("POST", "/services", _service("PAYMENTS"))
    assert (again.status, again.body) == (
        400,
        {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [NAME_TAKEN]}},
    )
    names = [s["name"] for s in sandbox.state()["pagerduty"]["services"].values()]
    assert names.count("Payments") == 1
    found = api.pd("GET", "/services", params={"query": "Payments"}).body["services"]
    assert [s["name"] for s in found] == ["Payments", "payments-api"]


def test_create_service_refusals(api: Api, sandbox: Sandbox) -> None:
    """An unknown policy, a name too long and a blank name are 400 and create nothing."""
    before = len(sandbox.state()["pagerduty"]["services"])
    for body in (_service("Search", "PNOSUCH"), _service("x" * 256), _service(" ")):
        answer = api.pd("POST", "/services", body)
        assert answer.status == 400
        assert answer.body["error"]["code"] == 2001
    assert len(sandbox.state()["pagerduty"]["services"]) == before


def test_events_integration_has_a_key(api: Api, sandbox: Sandbox) -> None:
    """An Events API v2 integration gets a 32-character key, read back alone or with the
    service; each POST adds one; the sandbox state shows keys only as ***."""
    body = {"integration": {"type": "events_api_v2_inbound_integration", "name": "Events V2"}}
    created = api.pd("POST", "/services/PSVCCHK/integrations", body).body["integration"]
    key = created["integration_key"]
    assert len(key) == 32
    assert key.isalnum()
    read = api.pd("GET", f"/services/PSVCCHK/integrations/{created['id']}").body["integration"]
    assert read["integration_key"] == key
    api.pd("POST", "/services/PSVCCHK/integrations", body)
    service = api.pd("GET", "/services/PSVCCHK", params={"include[]": "integrations"}).body[
        "service"
    ]
    assert len(service["integrations"]) == 2
    assert key in {i["integration_key"] for i in service["integrations"]}
    assert key not in json.dumps(sandbox.state())
    wrong = api.pd("GET", f"/services/PSVCPAY/integrations/{created['id']}")
    assert wrong.status == 404


def test_trigger_opens_one_incident_per_open_key(api: Api, sandbox: Sandbox) -> None:
    """The first trigger opens an incident on the key's service; the second is grouped."""
    first = api.events("/enqueue", _trigger(PAYMENTS_KEY))
    second = api.events("/enqueue", _trigger(PAYMENTS_KEY))
    for answer in (first, second):
        assert (answer.status, answer.body) == (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": "port-r_1"},
        )
    incidents = _incidents(api, "port-r_1")
    assert [(i["service"]["id"], i["status"], i["title"]) for i in incidents] == [
        ("PSVCPAY", "triggered", "Disk full")
    ]
    outcomes = [e["outcome"] for e in sandbox.state()["pagerduty"]["events"]]
    assert outcomes == ["opened", "grouped"]


def test_acknowledge_and_resolve_act_then_are_dropped(api: Api, sandbox: Sandbox) -> None:
    """Acknowledge and resolve move the open incident; a resolve with none open is still 202
    and dropped; a trigger after that opens a new incident."""
    api.events("/enqueue", _trigger(PAYMENTS_KEY))
    for action in ("acknowledge", "resolve", "resolve"):
        event = {"routing_key": PAYMENTS_KEY, "event_action": action, "dedup_key": "port-r_1"}
        assert api.events("/enqueue", event).status == 202
    assert [i["status"] for i in _incidents(api, "port-r_1")] == ["resolved"]
    api.events("/enqueue", _trigger(PAYMENTS_KEY))
    assert sorted(i["status"] for i in _incidents(api, "port-r_1")) == ["resolved", "triggered"]
    outcomes = [e["outcome"] for e in sandbox.state()["pagerduty"]["events"]]
    assert outcomes == ["opened", "acknowledged", "resolved", "dropped", "opened"]


def test_key_of_a_new_integration_works(api: Api) -> None:
    """A key from POST /services/{id}/integrations opens incidents on that new service."""
    service = api.pd("POST", "/services", _service("Search")).body["service"]
    body = {"integration": {"type": "events_api_v2_inbound_integration", "name": "Events V2"}}
    path = f"/services/{service['id']}/integrations"
    key = api.pd("POST", path, body).body["integration"]["integration_key"]
    answer = api.events("/enqueue", _trigger(key, dedup_key=None))
    assert answer.status == 202
    incidents = _incidents(api, answer.body["dedup_key"])
    assert [i["service"]["id"] for i in incidents] == [service["id"]]


def test_invalid_events_name_the_field(api: Api, sandbox: Sandbox) -> None:
    """Invalid events are 400 in the Events API's shape, naming the field; nothing opens."""
    short = api.events("/enqueue", _trigger("abc"))
    assert short.body["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)"
    ]
    unknown = api.events("/enqueue", _trigger("0" * 32))
    assert (unknown.status, unknown.body["errors"]) == (400, [UNKNOWN_KEY])
    blank = _trigger(PAYMENTS_KEY)
    blank["payload"] = {"source": "port", "severity": "fatal"}
    refused = api.events("/enqueue", blank)
    assert refused.status == 400
    assert refused.body["status"] == "invalid event"
    assert [e.split("'")[1] for e in refused.body["errors"]] == [
        "payload.summary",
        "payload.severity",
    ]
    resolve = {"routing_key": PAYMENTS_KEY, "event_action": "resolve"}
    assert api.events("/enqueue", resolve).body["errors"] == ["'dedup_key' is missing or blank"]
    garbled = requests.post(f"{sandbox.events_url}/v2/enqueue", data="{", timeout=5)
    assert (garbled.status_code, garbled.json()["status"]) == (400, "Unrecognized object")
    assert sandbox.state()["pagerduty"]["events"] == []


def test_change_event_is_kept_without_its_key(api: Api, sandbox: Sandbox) -> None:
    """A change event is 202 and kept on its service; the key is in neither state nor journal."""
    links = [{"href": "https://github.com/example-org/app/actions/runs/1", "text": "GitHub run"}]
    event = {
        "routing_key": PAYMENTS_KEY,
        "payload": {"summary": "Deploy v1.2.3", "source": "github", "custom_details": {"a": 1}},
        "links": links,
    }
    answer = api.events("/change/enqueue", event)
    assert (answer.status, answer.body) == (
        202,
        {"status": "success", "message": "Event processed"},
    )
    kept = sandbox.state()["pagerduty"]["change_events"]
    assert [(c["service"], c["summary"], c["links"]) for c in kept] == [
        ("PSVCPAY", "Deploy v1.2.3", links)
    ]
    journal = json.dumps(sandbox.journal())
    assert PAYMENTS_KEY not in journal + json.dumps(sandbox.state())
    assert [e["body"]["routing_key"] for e in sandbox.journal()] == ["***"]


def test_events_rate_limit_and_faults(api: Api, sandbox: Sandbox) -> None:
    """The per-key limit answers 429 in the Events API's shape; a scripted fault answers first."""
    sandbox.set_rate_limits(None, None, 1)
    assert api.events("/enqueue", _trigger(PAYMENTS_KEY)).status == 202
    throttled = api.events("/enqueue", _trigger(PAYMENTS_KEY))
    assert (throttled.status, throttled.body["status"]) == (429, "throttle event")
    sandbox.reset()
    fault = {"method": "POST", "path": "/events/v2/enqueue", "steps": [{"status": 503}]}
    sandbox.set_faults([fault])
    failed = api.events("/enqueue", _trigger(PAYMENTS_KEY))
    assert failed.status == 503
    assert set(failed.body) == {"status", "message", "errors"}
    assert api.events("/enqueue", _trigger(PAYMENTS_KEY)).status == 202
    assert [e["fault"] for e in sandbox.journal()][-2:] == ["status", None]
