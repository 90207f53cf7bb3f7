"""Faults, latency, the journal, keep-alive, reset, shapes and the control endpoints."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.request

import pytest
import requests
from conftest import Api

from escalator.sandbox import Sandbox
from escalator.sandbox.blueprints import blueprints_for
from escalator.sandbox.faults import FaultFormatError
from escalator.sandbox.seed import DEMO_INCIDENT_ID, PORT_CLIENT_SECRET
from tests.contract import load_extract

INCIDENT = f"/incidents/{DEMO_INCIDENT_ID}"
ESCALATE = {"incident": {"type": "incident_reference", "escalation_level": 2}}


def fault(
    *steps: dict[str, object],
    path: str = "/pagerduty/incidents/*",
    method: str | None = None,
    **extra: object,
) -> list[dict[str, object]]:
    """Return a one-fault list."""
    item: dict[str, object] = {"path": path, "steps": list(steps), **extra}
    if method:
        item["method"] = method
    return [item]


def test_status_step_uses_service_error_body(api: Api, sandbox: Sandbox) -> None:
    """A bare status step answers with that service's error body, then requests pass."""
    api.port_token()
    sandbox.set_faults(fault({"status": 429}) + fault({"status": 503}, path="/port/*"))
    limited = api.pd("GET", INCIDENT)
    assert (limited.status, limited.body["error"]["code"]) == (429, 2020)
    assert api.pd("GET", INCIDENT).status == 200
    unavailable = api.port("GET", "/v1/blueprints")
    assert unavailable.status == 503
    assert unavailable.body["ok"] is False


def test_status_step_with_headers_and_text_body(api: Api, sandbox: Sandbox) -> None:
    """A status step sends its own headers and a text body as given."""
    sandbox.set_faults(fault({"status": 502, "headers": {"Retry-After": "1"}, "body": "oops"}))
    answer = api.pd("GET", INCIDENT)
    assert (answer.status, answer.body, answer.headers["Retry-After"]) == (502, "oops", "1")
    api.problems.clear()


def test_repeat_last_and_method_filter(api: Api, sandbox: Sandbox) -> None:
    """repeat_last repeats the last step; a method filter leaves other methods alone."""
    sandbox.set_faults(fault({"status": 500}, method="PUT", repeat_last=True))
    assert api.pd("GET", INCIDENT).status == 200
    assert [api.pd("PUT", INCIDENT, ESCALATE).status for _ in range(3)] == [500] * 3
    assert sandbox.journal()[-1]["applied"] is False


def test_reset_drops_before_processing(api: Api, sandbox: Sandbox) -> None:
    """reset closes the connection with no answer and changes nothing."""
    sandbox.set_faults(fault({"fault": "reset"}))
    with pytest.raises(requests.ConnectionError):
        api.pd("PUT", INCIDENT, ESCALATE)
    assert sandbox.state()["pagerduty"]["escalation_levels"][DEMO_INCIDENT_ID] == 1
    entry = sandbox.journal()[-1]
    assert (entry["status"], entry["fault"], entry["applied"]) == (None, "reset", False)


def test_reset_after_processes_then_drops(api: Api, sandbox: Sandbox) -> None:
    """reset_after changes the state, then closes the connection with no answer."""
    sandbox.set_faults(fault({"fault": "reset_after"}))
    with pytest.raises(requests.ConnectionError):
        api.pd("PUT", INCIDENT, ESCALATE)
    assert sandbox.state()["pagerduty"]["escalation_levels"][DEMO_INCIDENT_ID] == 2
    assert sandbox.journal()[-1]["applied"] is True


@pytest.mark.parametrize(("kind", "applied"), [("hang", False), ("hang_after", True)])
def test_hangs_hold_the_answer(api: Api, sandbox: Sandbox, kind: str, applied: bool) -> None:
    """hang and hang_after send nothing; a short client timeout gives up."""
    sandbox.set_faults(fault({"fault": kind, "seconds": 0.5}))
    with pytest.raises(requests.Timeout):
        api.call(
            "pagerduty",
            "PUT",
            INCIDENT,
            ESCALATE,
            {"Authorization": "Token token=sbx-pd-token-7Hq2Lx9Vw4Rk", "From": "alice@example.com"},
            timeout=0.2,
        )
    time.sleep(0.4)
    levels = sandbox.state()["pagerduty"]["escalation_levels"]
    assert (levels[DEMO_INCIDENT_ID] == 2) is applied


def test_malformed_and_truncated(api: Api, sandbox: Sandbox) -> None:
    """malformed answers 200 with a body that is not JSON; truncated cuts the body short."""
    sandbox.set_faults(fault({"fault": "malformed"}, {"fault": "truncated"}))
    answer = api.pd("GET", INCIDENT)
    assert answer.status == 200
    assert isinstance(answer.body, str)
    api.problems.clear()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.pd("GET", INCIDENT)


def test_latency_is_added(api: Api, sandbox: Sandbox) -> None:
    """Global and per-route latency delay the answer."""
    sandbox.set_faults(fault({"pass": True}, latency=0.1), latency=0.05)
    api.pd("GET", INCIDENT)
    entry = sandbox.journal()[-1]
    assert entry["ended"] - entry["started"] >= 0.15
    assert entry["fault"] == "pass"


def test_stop_ends_a_hang_promptly() -> None:
    """stop() releases a hanging connection without waiting the full time."""
    sandbox = Sandbox(faults=fault({"fault": "hang", "seconds": 30}, path="/port/*")).start()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            urllib.request.urlopen(f"{sandbox.port_url}/v1/blueprints", timeout=10)
        except Exception as exc:  # noqa: BLE001 - any failure is the expected outcome
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    sandbox.stop()
    thread.join(5)
    assert time.monotonic() - started < 3
    assert not thread.is_alive()
    assert errors


def test_journal_records_and_redacts(api: Api, sandbox: Sandbox) -> None:
    """The journal has every field, redacts keys and secrets, and shows keep-alive reuse."""
    api.pd("GET", INCIDENT, params={"include[]": "assignees"})
    api.port_token()
    api.port("GET", "/v1/blueprints")
    pd_entry, token_entry, port_entry = sandbox.journal()
    assert set(pd_entry) == {
        "seq",
        "started",
        "ended",
        "connection",
        "method",
        "path",
        "query",
        "headers",
        "body",
        "status",
        "fault",
        "applied",
    }
    assert pd_entry["headers"]["Authorization"] == "Token token=***"
    assert pd_entry["query"] == {"include[]": ["assignees"]}
    assert token_entry["body"]["clientSecret"] == "***"
    assert port_entry["headers"]["Authorization"] == "Bearer ***"
    assert PORT_CLIENT_SECRET not in json.dumps(sandbox.journal())
    assert pd_entry["connection"] == port_entry["connection"]
    assert pd_entry["ended"] <= token_entry["started"]


def test_control_endpoints_over_http(api: Api, sandbox: Sandbox) -> None:
    """The /__sandbox/ endpoints read and change journal, state, faults, shape and seed."""

    def control(method: str, name: str, body: object = None) -> dict[str, object]:
        response = requests.request(method, f"{sandbox.url}/__sandbox/{name}", json=body, timeout=5)
        assert response.status_code == 200, response.text
        return dict(response.json())

    api.pd("PUT", INCIDENT, ESCALATE)
    assert len(control("GET", "journal")["journal"]) == 1  # type: ignore[arg-type]
    control("DELETE", "journal")
    assert sandbox.journal() == []
    assert control("GET", "state")["pagerduty"]["escalation_levels"][DEMO_INCIDENT_ID] == 2  # type: ignore[index]
    control("POST", "faults", {"faults": fault({"status": 500}), "latency": 0})
    assert control("GET", "faults")["faults"][0]["path"] == "/pagerduty/incidents/*"  # type: ignore[index]
    control("DELETE", "faults")
    control("POST", "blueprint-shape", {"shape": "integration"})
    control("POST", "reset")
    assert sandbox.blueprint_shape == "integration"
    assert sandbox.state()["pagerduty"]["escalation_levels"][DEMO_INCIDENT_ID] == 1
    bad = requests.post(f"{sandbox.url}/__sandbox/faults", json=[{"path": "x"}], timeout=5)
    assert bad.status_code == 400


def test_bad_fault_format_is_refused() -> None:
    """A step that is neither status, pass nor a known fault is refused with a reason."""
    with pytest.raises(FaultFormatError, match="steps"):
        Sandbox(faults=fault({"fault": "explode"}))


def test_keep_alive_reuses_one_connection(sandbox: Sandbox) -> None:
    """Several requests travel over one HTTP/1.1 connection."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    for _ in range(3):
        connection.request(
            "GET",
            "/pagerduty/services/PSVCPAY",
            headers={"Authorization": "Token token=sbx-pd-token-7Hq2Lx9Vw4Rk"},
        )
        assert connection.getresponse().read()
    connection.close()
    assert len({entry["connection"] for entry in sandbox.journal()}) == 1


@pytest.mark.parametrize("shape", ["guide", "integration"])
def test_shapes_map_entities(api: Api, sandbox: Sandbox, shape: str) -> None:
    """Each shape has its blueprint and entities mapped the way that shape expects."""
    sandbox.set_blueprint_shape(shape)
    entity = api.port("GET", f"/v1/blueprints/pagerdutyIncident/entities/{DEMO_INCIDENT_ID}")
    properties = entity.body["entity"]["properties"]
    relation = entity.body["entity"]["relations"]["pagerdutyService"]
    if shape == "guide":
        assert properties["responder"] == "Bob Tanaka"
        assert relation == ["PSVCPAY"]
    else:
        assert properties["assignees"] == ["bob@example.com"]
        assert relation == "PSVCPAY"
        assert properties["priority"] == "P1"


def test_non_loopback_host_is_refused() -> None:
    """A non-loopback host needs allow_remote."""
    with pytest.raises(ValueError, match="allow_remote"):
        Sandbox(host="0.0.0.0")  # noqa: S104


@pytest.mark.parametrize(
    ("shape", "filename"),
    [
        ("guide", "port-pagerduty-blueprints.json"),
        ("integration", "port-pagerduty-integration-blueprints.json"),
    ],
)
def test_blueprints_match_published_files(shape: str, filename: str) -> None:
    """The sandbox's blueprints equal the published guide and integration blueprints."""
    published = load_extract(filename)
    assert {b["identifier"]: b for b in blueprints_for(shape)} == {
        b["identifier"]: b for b in published
    }


def test_seed_ids_look_like_pagerduty(sandbox: Sandbox) -> None:
    """Seeded ids are uppercase letters and digits, both 7-character and 14-character ones."""
    incidents = sandbox.state()["pagerduty"]["incidents"]
    assert all(i.isalnum() and i.isupper() for i in incidents)
    assert {len(i) for i in incidents} == {7, 14}
    states = {(i["status"], i["urgency"]) for i in incidents.values()}
    assert {("triggered", "high"), ("acknowledged", "high"), ("triggered", "low")} <= states
    assert any(status == "resolved" for status, _ in states)


def test_free_port_is_picked(sandbox: Sandbox) -> None:
    """port=0 binds a free loopback port and the URLs name it."""
    with socket.create_connection(("127.0.0.1", int(sandbox.url.rsplit(":", 1)[1])), timeout=2):
        pass
    assert sandbox.pagerduty_url == sandbox.url + "/pagerduty"
