"""Faults that reshape a real answer on the wire (a dripped body, an endless body, a gzip body
nobody asked for, a 103 before the answer), faults on the operations' routes, and the
PagerDuty account's control endpoints and options."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
from typing import Any

import pytest
import requests
from conftest import Api

from escalator.sandbox import Sandbox
from escalator.sandbox.faults import FaultFormatError
from escalator.sandbox.seed import FROM_EMAIL, PAGERDUTY_TOKEN

ACKED = "Q0RIJJZL24RC6W"
NOTES = f"/incidents/{ACKED}/notes"
HEADERS = {
    "Authorization": f"Token token={PAGERDUTY_TOKEN}",
    "Accept": "application/vnd.pagerduty+json;version=2",
    "From": FROM_EMAIL,
}


def fault(path: str, **step: Any) -> list[dict[str, Any]]:
    """Return a one-step fault on ``path`` (under /pagerduty)."""
    return [{"path": f"/pagerduty{path}", "steps": [step]}]


def raw_get(sandbox: Sandbox, path: str, extra: str = "") -> socket.socket:
    """Send ``GET /pagerduty{path}`` over a bare socket and return the socket."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=5)
    request = (
        f"GET /pagerduty{path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Token token={PAGERDUTY_TOKEN}\r\n{extra}Connection: close\r\n\r\n"
    )
    connection.sendall(request.encode())
    return connection


def test_drip_sends_the_body_a_byte_at_a_time(sandbox: Sandbox) -> None:
    """drip sends the whole, correct answer, but in many small pieces."""
    sandbox.set_faults(fault(NOTES, fault="drip", interval=0.02))
    connection = raw_get(sandbox, NOTES)
    pieces = []
    while chunk := connection.recv(4096):
        pieces.append(chunk)
    connection.close()
    head, _, body = b"".join(pieces).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body) == {"notes": []}
    assert len(pieces) > 2
    assert sandbox.journal()[-1]["fault"] == "drip"


def test_endless_body_never_ends(sandbox: Sandbox) -> None:
    """endless streams a chunked body that keeps coming long past any real answer's size."""
    sandbox.set_faults(fault(NOTES, fault="endless", interval=0.0))
    response = requests.get(
        f"{sandbox.pagerduty_url}{NOTES}", headers=HEADERS, stream=True, timeout=5
    )
    received = 0
    for chunk in response.iter_content(8192):
        received += len(chunk)
        if received > 256 * 1024:
            break
    response.close()
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert received > 256 * 1024


def test_gzip_body_is_sent_even_when_identity_is_asked(sandbox: Sandbox) -> None:
    """gzip compresses the real answer and says so, whatever Accept-Encoding asked."""
    sandbox.set_faults(fault(f"/incidents/{ACKED}", fault="gzip"))
    host, port = sandbox.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    connection.request(
        "GET", f"/pagerduty/incidents/{ACKED}", headers=HEADERS | {"Accept-Encoding": "identity"}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.getheader("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(body))["incident"]["id"] == ACKED


def test_early_hints_come_before_the_answer(sandbox: Sandbox) -> None:
    """early_hints sends an interim 103 with its own headers, then the real answer."""
    sandbox.set_faults(fault(NOTES, fault="early_hints"))
    connection = raw_get(sandbox, NOTES)
    data = b""
    while chunk := connection.recv(4096):
        data += chunk
    connection.close()
    hints, _, rest = data.partition(b"\r\n\r\n")
    assert hints.startswith(b"HTTP/1.1 103")
    assert b"Link:" in hints
    head, _, body = rest.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body) == {"notes": []}


def test_reset_after_a_note_leaves_it_posted(api: Api, sandbox: Sandbox) -> None:
    """A note whose answer is lost was still added: reading the notes shows it once."""
    sandbox.set_faults(
        [
            {
                "method": "POST",
                "path": "/pagerduty/incidents/*/notes",
                "steps": [{"fault": "reset_after"}],
            }
        ]
    )
    with pytest.raises(requests.ConnectionError):
        api.pd("POST", NOTES, {"note": {"content": "Rolled back"}})
    assert [n["content"] for n in api.pd("GET", NOTES).body["notes"]] == ["Rolled back"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", f"/incidents/{ACKED}/snooze", {"duration": 60}),
        ("GET", "/priorities", None),
        ("GET", "/incidents", None),
        ("POST", "/incidents", {"incident": {}}),
        ("GET", "/users", None),
    ],
)
def test_status_faults_apply_to_the_new_routes(
    api: Api, sandbox: Sandbox, method: str, path: str, body: Any
) -> None:
    """A scripted 503 answers instead of the new routes, with PagerDuty's error body."""
    sandbox.set_faults(fault(path, status=503))
    answer = api.pd(method, path, body)
    assert answer.status == 503
    assert answer.body["error"]["code"] == 2000
    assert sandbox.journal()[-1]["applied"] is False
    api.problems.clear()


def test_priorities_and_limits_control_endpoints(api: Api, sandbox: Sandbox) -> None:
    """The control endpoints switch priorities and set the rate limits until a reset."""

    def control(name: str, body: object) -> requests.Response:
        return requests.post(f"{sandbox.url}/__sandbox/{name}", json=body, timeout=5)

    assert control("priorities", {"mode": "disabled"}).status_code == 200
    assert api.pd("GET", "/priorities").status == 402
    assert control("priorities", {"mode": "sometimes"}).status_code == 400
    assert control("limits", {"pagerduty_rate_limit": 1}).json()["pagerduty_rate_limit"] == 1
    assert [api.pd("GET", "/users").status for _ in range(2)] == [200, 429]
    assert control("limits", {"create_rate_limit": -1}).status_code == 400
    sandbox.reset()
    assert api.pd("GET", "/priorities").status == 200
    assert api.pd("GET", "/users").status == 200


def test_priorities_option_and_bad_mode() -> None:
    """Sandbox(priorities=...) starts the account that way; an unknown mode is refused."""
    with pytest.raises(ValueError, match="priorities"):
        Sandbox(priorities="maybe")
    with Sandbox(priorities="empty", pagerduty_create_rate_limit=0) as sandbox:
        client = Api(sandbox)
        assert client.pd("GET", "/priorities").body["priorities"] == []
        answer = client.pd(
            "POST",
            "/incidents",
            {
                "incident": {
                    "type": "incident",
                    "title": "x",
                    "service": {"id": "PSVCPAY", "type": "service_reference"},
                }
            },
        )
        assert answer.status == 429
        client.session.close()
        assert client.problems == []


@pytest.mark.parametrize("interval", [-1, "fast", True])
def test_bad_interval_is_refused(interval: object) -> None:
    """A drip or endless interval that is not a non-negative number is refused, named."""
    with pytest.raises(FaultFormatError, match="interval"):
        Sandbox(faults=fault(NOTES, fault="drip", interval=interval))
