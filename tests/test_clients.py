"""The PagerDuty and Port clients on the wire: what they send, and what each error means."""

from __future__ import annotations

import contextlib
import json
import re
import socket
from dataclasses import dataclass
from typing import Any

import pytest
import responses
from pydantic import ValidationError
from responses import matchers

from escalator.clients import github
from escalator.clients.models import PortBlueprint, PortEntity
from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.errors import PagerDutyError, PortError, ServiceUnavailable, UnexpectedResponse
from escalator.http import Deadline, Policy
from escalator.http.policy import server_wait
from escalator.operations.writes import AddNote, CreateIncident, UpdateIncident
from escalator.operations.writes import Snooze as SnoozeWrite
from escalator.terms import ACTION
from tests.clocks import StepClock

PD = "https://api.pagerduty.com"
PORT = "https://api.port.io"
TOKEN = "pd-key-0123456789"
INCIDENT = {
    "id": "Q2LAR4ADCXC8IB",
    "type": "incident",
    "incident_number": 7,
    "title": "Disk full",
    "status": "triggered",
    "urgency": "high",
    "html_url": "https://acme.pagerduty.com/incidents/Q2LAR4ADCXC8IB",
    "escalation_policy": {"id": "PPOL1", "type": "escalation_policy_reference", "summary": "Ops"},
    "assignments": [{"assignee": {"id": "PU1", "type": "user_reference", "summary": "Ann"}}],
}


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


def pagerduty(clock: StepClock, from_email: str | None = "me@example.com") -> PagerDutyClient:
    return PagerDutyClient.connect(PD, TOKEN, from_email=from_email, deadline=Deadline(60, clock))


def port(clock: StepClock, tokens: list[str] | None = None) -> PortClient:
    minted = tokens if tokens is not None else []
    return PortClient.connect(
        PORT,
        client_id="cid-123",
        client_secret="csecret-456",
        deadline=Deadline(60, clock),
        on_token=minted.append,
    )


def test_read_sends_the_key_and_pins_v2(wire: responses.RequestsMock, clock: StepClock) -> None:
    """GET /incidents/{id} carries the key, the v2 Accept header and include[], and no From."""
    wire.get(
        f"{PD}/incidents/Q2LAR4ADCXC8IB",
        json={"incident": INCIDENT},
        match=[
            matchers.header_matcher(
                {
                    "Authorization": f"Token token={TOKEN}",
                    "Accept": "application/vnd.pagerduty+json;version=2",
                }
            ),
            matchers.query_param_matcher({"include[]": "assignees"}),
        ],
    )
    incident = pagerduty(clock).get_incident("Q2LAR4ADCXC8IB")
    assert incident.responder == "Ann"
    assert "From" not in wire.calls[0].request.headers


def test_write_sends_from_and_an_incident_reference(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """PUT /incidents/{id} carries From, JSON, and the change inside an incident_reference."""
    wire.put(
        f"{PD}/incidents/Q2LAR4ADCXC8IB",
        json={"incident": {**INCIDENT, "urgency": "low"}},
        match=[
            matchers.header_matcher({"From": "me@example.com", "Content-Type": "application/json"}),
            matchers.json_params_matcher(
                {"incident": {"type": "incident_reference", "urgency": "low"}}
            ),
        ],
    )
    assert (
        pagerduty(clock)
        .update_incident(
            "Q2LAR4ADCXC8IB", {"incident": {"type": "incident_reference", "urgency": "low"}}
        )
        .urgency
        == "low"
    )


def test_ids_are_quoted_into_the_path(wire: responses.RequestsMock, clock: StepClock) -> None:
    """An id is percent-encoded, so it can never add a path segment or a query."""
    wire.get(f"{PD}/incidents/A%2F..%3Fx%3D1", json={"incident": {**INCIDENT, "id": "A/..?x=1"}})
    pagerduty(clock).get_incident("A/..?x=1", include=())
    assert wire.calls[0].request.path_url == "/incidents/A%2F..%3Fx%3D1"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"error": {"message": "Unauthorized", "code": 2006}}, "EU service region"),
        (402, {"error": {"message": "Payment Required", "code": 2012}}, "plan"),
        (403, {"error": {"message": "Forbidden", "code": 2010}}, "read-only key"),
        (404, {"error": {"message": "Not Found", "code": 2100}}, "IDs are case-sensitive"),
        (
            400,
            {
                "error": {
                    "message": "Invalid Input Provided",
                    "code": 2001,
                    "errors": [
                        'You must specify a user\'s email address in the "From" header to '
                        "perform this action"
                    ],
                }
            },
            "to the email of a PagerDuty user",
        ),
        (400, {"error": {"message": "Requester User Not Found", "code": 1008}}, "existing"),
        (
            400,
            {"error": {"message": "Incident cannot be escalated", "code": 1006}},
            "Low-urgency incidents cannot be escalated",
        ),
        (400, {"error": {"message": "Escalation Policy Not Found", "code": 1014}}, "policy's page"),
        (400, {"error": {"message": "x", "errors": {"urgency": ["bad"]}}}, "urgency"),
    ],
)
def test_pagerduty_errors_say_what_to_fix(
    wire: responses.RequestsMock,
    clock: StepClock,
    status: int,
    body: dict[str, Any],
    expected: str,
) -> None:
    """Each PagerDuty error becomes a PagerDutyError whose hint names the input to change."""
    wire.put(f"{PD}/incidents/PX1", status=status, json=body)
    with pytest.raises(PagerDutyError) as caught:
        pagerduty(clock).update_incident(
            "PX1", {"incident": {"type": "incident_reference", "urgency": "low"}}
        )
    assert caught.value.status == status
    assert expected in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_rate_limit_is_retried_after_the_servers_wait(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """A 429 on a read is retried after the server's wait and its jitter (up to that wait again),
    and the answer after it is used."""
    wire.get(f"{PD}/incidents/Q2LAR4ADCXC8IB", status=429, headers={"ratelimit-reset": "2"})
    wire.get(f"{PD}/incidents/Q2LAR4ADCXC8IB", json={"incident": INCIDENT})
    assert pagerduty(clock).get_incident("Q2LAR4ADCXC8IB", include=()).id == "Q2LAR4ADCXC8IB"
    assert len(clock.slept) == 1
    assert 2.0 <= clock.slept[0] <= 4.0
    assert len(wire.calls) == 2


def test_a_5xx_on_a_write_is_not_retried_blindly(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """A 502 on a PUT is surfaced after one attempt: the caller reads before sending again."""
    wire.put(f"{PD}/incidents/PX1", status=502, body="bad gateway")
    with pytest.raises(PagerDutyError) as caught:
        pagerduty(clock).update_incident(
            "PX1", {"incident": {"type": "incident_reference", "urgency": "low"}}
        )
    assert caught.value.status == 502
    assert len(wire.calls) == 1


def test_a_5xx_on_a_read_is_retried(wire: responses.RequestsMock, clock: StepClock) -> None:
    """A 503 on a GET is retried; the read succeeds on the next attempt."""
    wire.get(f"{PD}/incidents/PX1", status=503)
    wire.get(f"{PD}/incidents/PX1", json={"incident": {**INCIDENT, "id": "PX1"}})
    pagerduty(clock).get_incident("PX1", include=())
    assert len(wire.calls) == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:07 GMT"}, 7.0),
        ({"ratelimit-reset": "4"}, 4.0),
        ({"x-ratelimit-reset": "5"}, 5.0),
        ({"x-ratelimit-reset": "1445412486"}, 6.0),
        ({"x-ratelimit-reset": "soon"}, None),
        ({"Retry-After": "later"}, None),
        ({}, None),
        ({"Retry-After": "3600"}, 60.0),
        ({"ratelimit-reset": "-5"}, 0.0),
    ],
)
def test_wait_headers(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After (seconds or a date), ratelimit-reset, x-ratelimit-reset (seconds or epoch)
    are honoured, capped at 60 s."""
    now = 1445412480.0  # 2015-10-21 07:28:00 GMT
    assert server_wait(429, headers, now) == expected
    # the rate-limit headers ride on every answer: after a 5xx only Retry-After means "wait"
    after_5xx = expected if "Retry-After" in headers else None
    assert server_wait(503, headers, now) == after_5xx


def test_backoff_grows_with_jitter_from_the_first_retry() -> None:
    """Without a wait header the first retry already backs off, and later ones wait longer."""
    rules = Policy.READ.rules
    assert all(0.5 <= rules.backoff(1) <= 0.75 for _ in range(50))
    assert all(1.0 <= rules.backoff(2) <= 1.25 for _ in range(50))
    assert rules.backoff(30) == rules.backoff_max
    assert len({rules.backoff(1) for _ in range(20)}) > 1  # jittered


def test_waits_between_attempts_follow_the_backoff(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """Two 503s on a read are retried after growing, jittered waits; the third answer is used."""
    wire.get(f"{PD}/incidents/PX1", status=503)
    wire.get(f"{PD}/incidents/PX1", status=503)
    wire.get(f"{PD}/incidents/PX1", json={"incident": {**INCIDENT, "id": "PX1"}})
    pagerduty(clock).get_incident("PX1", include=())
    assert len(clock.slept) == 2
    assert 0.5 <= clock.slept[0] <= 0.75
    assert 1.0 <= clock.slept[1] <= 1.25


def test_no_retry_when_the_deadline_cannot_hold_it(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """A retry whose wait would pass the run's deadline is not attempted: the 429 is the answer."""
    wire.get(f"{PD}/incidents/PX1", status=429, headers={"ratelimit-reset": "30"}, json={})
    client = PagerDutyClient.connect(PD, TOKEN, from_email=None, deadline=Deadline(12, clock))
    with pytest.raises(PagerDutyError, match="rate limiting"):
        client.get_incident("PX1", include=())
    assert len(wire.calls) == 1
    assert clock.slept == []


def test_an_expired_deadline_stops_before_sending(clock: StepClock) -> None:
    """Once the deadline has passed no request is sent at all."""
    client = pagerduty(clock)
    clock.now += 61
    with pytest.raises(ServiceUnavailable, match="deadline"):
        client.get_incident("PX1")


def test_port_mints_one_token_and_uses_it_everywhere(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """One access token serves every Port call of a run, and is handed over to be masked."""
    wire.post(
        f"{PORT}/v1/auth/access_token",
        json={"ok": True, "accessToken": "port-at-1", "expiresIn": 10800, "tokenType": "Bearer"},
        match=[
            matchers.json_params_matcher({"clientId": "cid-123", "clientSecret": "csecret-456"})
        ],
    )
    bearer = matchers.header_matcher({"Authorization": "Bearer port-at-1"})
    wire.post(
        f"{PORT}/v1/actions/runs/r_1/logs",
        status=201,
        json={"ok": True},
        match=[bearer, matchers.json_params_matcher({"message": "hello"})],
    )
    wire.patch(
        f"{PORT}/v1/actions/runs/r_1",
        json={"ok": True, "run": {}},
        match=[bearer, matchers.json_params_matcher({"statusLabel": "Done", "link": "https://x"})],
    )
    wire.post(
        f"{PORT}/v1/blueprints/pagerdutyIncident/entities",
        status=201,
        json={"ok": True, "entity": {}},
        match=[
            bearer,
            matchers.query_param_matcher(
                {
                    "upsert": "true",
                    "merge": "true",
                    "run_id": "r_1",
                    "create_missing_related_entities": "true",
                }
            ),
            matchers.json_params_matcher(
                {
                    "identifier": "Q1",
                    "title": "T",
                    "properties": {"status": "triggered"},
                    "relations": {"pagerdutyService": ["PS1"]},
                }
            ),
        ],
    )
    tokens: list[str] = []
    client = port(clock, tokens)
    client.add_run_log("r_1", "hello")
    client.update_run("r_1", status_label="Done", link="https://x")
    entity = PortEntity(
        identifier="Q1",
        title="T",
        properties={"status": "triggered"},
        relations={"pagerdutyService": ["PS1"]},
    )
    client.upsert_entity("pagerdutyIncident", entity, run_id="r_1")
    assert tokens == ["port-at-1"]
    assert client.tokens_minted == 1


def test_port_401_mid_run_refreshes_the_token_once(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """A 401 after the token was minted mints a new one and repeats the call once."""
    for token in ("at-1", "at-2"):
        wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": token})
    wire.get(
        f"{PORT}/v1/blueprints/bp",
        status=401,
        json={"ok": False, "error": "unauthorized", "message": "expired"},
        match=[matchers.header_matcher({"Authorization": "Bearer at-1"})],
    )
    wire.get(
        f"{PORT}/v1/blueprints/bp",
        json={"ok": True, "blueprint": {"identifier": "bp", "schema": {"properties": {}}}},
        match=[matchers.header_matcher({"Authorization": "Bearer at-2"})],
    )
    client = port(clock)
    assert client.get_blueprint("bp").identifier == "bp"
    assert client.tokens_minted == 2


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "expected"),
    [
        (
            "token",
            "/v1/auth/access_token",
            401,
            {"ok": False, "error": "unauthorized"},
            "Port's US region",
        ),
        (
            "blueprint",
            "/v1/blueprints/pdX",
            404,
            {"ok": False, "error": "not_found"},
            "'pdX' does not exist",
        ),
        (
            "log",
            "/v1/actions/runs/r_1/logs",
            422,
            {"ok": False, "error": "run_exhausted"},
            "let Port end the run",
        ),
        (
            "upsert",
            "/v1/blueprints/bp/entities",
            422,
            {
                "ok": False,
                "error": "blueprint_schema_mismatch",
                "message": 'The property "priority" does not match',
            },
            '{"priority": null}',
        ),
        (
            "upsert",
            "/v1/blueprints/bp/entities",
            413,
            {"ok": False, "error": "too_large"},
            "port_property_mapping",
        ),
    ],
)
def test_port_errors_say_what_to_fix(
    wire: responses.RequestsMock,
    clock: StepClock,
    method: str,
    path: str,
    status: int,
    body: dict[str, Any],
    expected: str,
) -> None:
    """Each Port error becomes a PortError whose hint says what to change."""
    if method != "token":
        wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": "at"})
    verb = {"token": "POST", "blueprint": "GET", "log": "POST", "upsert": "POST"}[method]
    wire.add(verb, f"{PORT}{path}", status=status, json=body)
    client = port(clock)
    calls = {
        "token": client.authenticate,
        "blueprint": lambda: client.get_blueprint("pdX"),
        "log": lambda: client.add_run_log("r_1", "x"),
        "upsert": lambda: client.upsert_entity("bp", PortEntity(identifier="Q1", title="T")),
    }
    with pytest.raises(PortError) as caught:
        calls[method]()
    assert expected in str(caught.value)
    assert "csecret-456" not in str(caught.value) + repr(client)
    assert json.dumps(body["error"]) not in caught.value.render(ACTION).hint


@pytest.mark.parametrize(
    "document",
    [
        {"identifier": "bp", "schema": [1]},
        {"identifier": "bp", "relations": {"pagerdutyService": "x"}},
        {"identifier": 5},
        {"identifier": "bp", "schema": {"properties": {"status": "string"}}},
        {"identifier": "bp", "schema": {"required": "status"}},
        {"schema": {}},
        [1],
        "blueprint",
    ],
)
def test_a_blueprint_of_another_shape_is_the_projects_error(document: Any) -> None:
    """Any blueprint answer that is not as documented becomes UnexpectedResponse with a hint."""
    with pytest.raises(UnexpectedResponse) as caught:
        PortBlueprint.from_api(document)
    assert caught.value.render(ACTION).hint
    assert isinstance(caught.value.__cause__, ValidationError)


def test_a_blueprint_with_empty_parts_is_read() -> None:
    """Null or missing schema parts and relations read as empty, as Port may send them."""
    blueprint = PortBlueprint.from_api(
        {"identifier": "bp", "schema": {"properties": None, "required": None}, "relations": None}
    )
    assert (blueprint.properties, blueprint.required, blueprint.relations) == ({}, [], {})


def test_the_client_refuses_a_blueprint_of_another_shape(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """get_blueprint raises the project's error for a schema that is a list."""
    wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": "at"})
    wire.get(f"{PORT}/v1/blueprints/bp", json={"ok": True, "blueprint": {"schema": [1]}})
    with pytest.raises(UnexpectedResponse, match="not as documented"):
        port(clock).get_blueprint("bp")


@pytest.mark.parametrize("token", ["tök€n-abcdef", "abc\ndef", "abc\r\nX-Evil: 1", "a b"])
def test_a_token_that_cannot_be_a_header_is_refused_when_minted(
    wire: responses.RequestsMock, clock: StepClock, token: str
) -> None:
    """A minted token that is not visible ASCII is refused, never sent, masked or quoted."""
    wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": token})
    tokens: list[str] = []
    client = port(clock, tokens)
    with pytest.raises(UnexpectedResponse, match="cannot be sent back in a header") as caught:
        client.add_run_log("r_1", "hello")
    assert token not in str(caught.value)
    assert tokens == []
    assert len(wire.calls) == 1


@pytest.mark.parametrize("body", [[1], "str", 7, None, {"unexpected": True}])
def test_a_2xx_run_log_or_update_counts_as_applied_whatever_its_json(
    wire: responses.RequestsMock, clock: StepClock, body: Any
) -> None:
    """A 2xx status says Port applied a run log or update, whatever JSON came with it."""
    wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": "at"})
    wire.post(f"{PORT}/v1/actions/runs/r_1/logs", status=201, json=body)
    wire.patch(f"{PORT}/v1/actions/runs/r_1", json=body)
    client = port(clock)
    client.add_run_log("r_1", "hello")
    client.update_run("r_1", status_label="Done")
    assert len(wire.calls) == 3


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"ok": False}, "ok: false"),
        ({"ok": False, "message": "quota"}, "quota"),
        ([1], "not a JSON object"),
        ("str", "not a JSON object"),
    ],
)
def test_an_upsert_answer_that_says_it_failed_is_a_failure(
    wire: responses.RequestsMock, clock: StepClock, body: Any, expected: str
) -> None:
    """A 2xx upsert answer with ok: false, or not an object, is the project's error."""
    wire.post(f"{PORT}/v1/auth/access_token", json={"ok": True, "accessToken": "at"})
    wire.post(f"{PORT}/v1/blueprints/bp/entities", json=body)
    with pytest.raises(UnexpectedResponse, match=expected):
        port(clock).upsert_entity("bp", PortEntity(identifier="Q1", title="T"))


@pytest.mark.parametrize(
    ("asked", "answered", "same"),
    [
        ("Q2LAR4ADCXC8IB", {}, True),
        ("Q2LAR4ADCXC8IX", {}, False),
        ("q2lar4adcxc8ib", {}, False),
        ("7", {}, True),
        ("8", {}, False),
        ("7", {"incident_number": None}, False),
    ],
)
def test_the_incident_answered_must_be_the_one_asked_for(
    wire: responses.RequestsMock,
    clock: StepClock,
    asked: str,
    answered: dict[str, Any],
    same: bool,
) -> None:
    """A GET or PUT answer about another incident (by ID, or by number) is refused."""
    incident = {**INCIDENT, **answered}
    wire.get(f"{PD}/incidents/{asked}", json={"incident": incident})
    wire.put(f"{PD}/incidents/{asked}", json={"incident": incident})
    client = pagerduty(clock)
    for call in (
        lambda: client.get_incident(asked, include=()),
        lambda: client.update_incident(
            asked, {"incident": {"type": "incident_reference", "urgency": "low"}}
        ),
    ):
        if same:
            assert call().id == "Q2LAR4ADCXC8IB"
        else:
            with pytest.raises(UnexpectedResponse, match="not the one asked for"):
                call()


@pytest.mark.parametrize(
    "changed",
    [{"status": "closed"}, {"urgency": "medium"}, {"status": 1}, {"id": None}],
)
def test_an_incident_outside_the_closed_sets_is_the_projects_error(
    wire: responses.RequestsMock, clock: StepClock, changed: dict[str, Any]
) -> None:
    """A status or urgency PagerDuty does not document is refused at the boundary."""
    wire.get(f"{PD}/incidents/Q2LAR4ADCXC8IB", json={"incident": {**INCIDENT, **changed}})
    with pytest.raises(UnexpectedResponse, match="not as documented"):
        pagerduty(clock).get_incident("Q2LAR4ADCXC8IB", include=())


def test_policies_are_named_values() -> None:
    """Every retry policy is a named value with rules; only reads, upserts and alert events (a
    dedup key groups a repeat) repeat blindly."""
    assert {p for p in Policy if p.rules.idempotent} == {
        Policy.TOKEN,
        Policy.READ,
        Policy.UPSERT,
        Policy.EVENT,
    }
    assert all(p.rules.statuses >= {408, 429} for p in Policy)
    assert 503 not in Policy.WRITE.rules.statuses


@dataclass(frozen=True)
class Run:
    """The workflow run the GitHub lookup is about."""

    api_url: str = "https://api.github.com"
    repository: str = "acme/ops"
    run_id: str = "99"
    job: str = "escalate"
    runner_name: str = "runner-7"
    run_url: str = "https://github.com/acme/ops/actions/runs/99"


def test_github_pages_are_bounded_whatever_the_link_header(wire: responses.RequestsMock) -> None:
    """An API that always names a next page is asked for a bounded number of pages."""
    jobs_url = "https://api.github.com/repos/acme/ops/actions/runs/99/jobs"
    wire.get(
        re.compile(r"https://api\.github\.com(:443)?/repos/acme/ops/actions/runs/99$"),
        json={"id": 99, "jobs_url": jobs_url},
    )
    other = {"name": "build", "status": "in_progress", "runner_name": "r-1", "html_url": "x"}
    wire.get(
        re.compile(r"https://api\.github\.com(:443)?/repos/acme/ops/actions/runs/99/jobs"),
        json={"total_count": 10**6, "jobs": [other] * github.PER_PAGE},
        headers={"Link": f'<{jobs_url}?page=2>; rel="next"'},
    )
    assert github.find_job_url(Run(), "ghs_x", Deadline(60)) == Run.run_url
    pages = [call for call in wire.calls if "/jobs" in call.request.url]
    assert len(pages) == github.MAX_PAGES


def test_a_github_that_does_not_answer_is_left_at_the_deadline() -> None:
    """A GitHub API that accepts the connection and never answers ends with the deadline."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # never accepts, never answers
        run = Run(api_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        with pytest.raises(ServiceUnavailable, match="deadline"):
            github.find_job_url(run, "ghs_x", Deadline(0.3))


@pytest.mark.parametrize("name", ["retry-after", "RETRY-AFTER", "Retry-After"])
def test_wait_headers_are_found_whatever_their_case(
    wire: responses.RequestsMock, clock: StepClock, name: str
) -> None:
    """Header names are case-insensitive (HTTP/2 sends them in lower case)."""
    wire.get(f"{PD}/incidents/PX1", status=429, headers={name: "3"})
    wire.get(f"{PD}/incidents/PX1", json={"incident": {**INCIDENT, "id": "PX1"}})
    pagerduty(clock).get_incident("PX1", include=())
    assert len(clock.slept) == 1
    assert 3.0 <= clock.slept[0] <= 5.0  # the server's wait, and at most 2 s of jitter


def test_a_missing_escalation_policy_says_so(
    wire: responses.RequestsMock, clock: StepClock
) -> None:
    """A 404 on the policy read names the policy, not the incident, and says where its ID is."""
    wire.get(f"{PD}/escalation_policies/PNOPE", status=404, json={"error": {"code": 2100}})
    with pytest.raises(PagerDutyError, match="escalation policy was not found") as caught:
        pagerduty(clock).get_escalation_policy("PNOPE")
    assert "policy's page" in caught.value.render(ACTION).hint


WRITES = [
    UpdateIncident("Q2LAR4ADCXC8IB", urgency="low", escalation_policy_id="PPLATFM"),
    UpdateIncident("Q2LAR4ADCXC8IB", assignee_ids=("PU1", "PU2"), priority_id="PPRIO1"),
    AddNote("Rolled back", "Q2LAR4ADCXC8IB"),
    SnoozeWrite("Q2LAR4ADCXC8IB", 1800),
    CreateIncident("Disk full", "PSVC1", "k-1", urgency="high", details="d", priority_id="P1"),
]


@pytest.mark.parametrize("write", WRITES, ids=lambda write: type(write).__name__)
def test_each_write_sends_exactly_the_body_the_dry_run_shows(
    wire: responses.RequestsMock, clock: StepClock, write: Any
) -> None:
    """What goes over the wire is the write's body(), the one the dry run and summary show."""
    method, path = write.request_line.split(" ", 1)
    answer = {"incident": INCIDENT} if "notes" not in path else {"note": {"content": "x"}}
    wire.add(method, f"{PD}{path}", json=answer, status=201 if method == "POST" else 200)
    with contextlib.suppress(UnexpectedResponse):  # an answer about another incident is fine
        write.send(pagerduty(clock), None)
    sent = json.loads(wire.calls[0].request.body)
    assert sent == json.loads(json.dumps(write.body()))
