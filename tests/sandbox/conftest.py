"""Fixtures for the sandbox tests: one running sandbox, reset before each test, and a client
that checks every answer against the published API specifications."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from escalator.sandbox import Sandbox
from escalator.sandbox.seed import (
    FROM_EMAIL,
    PAGERDUTY_TOKEN,
    PORT_CLIENT_ID,
    PORT_CLIENT_SECRET,
)
from tests.contract import request_problems, response_problems

# Where PagerDuty's specification and its documented behaviour disagree, requests follow the
# behaviour: the Incident Creation API takes only a string body (docs/REST-API/15-...).
KNOWN_REQUEST_DEVIATIONS = ("request body incident/body/details: ",)
# ``include[]=users`` makes an on-call's user a full user (type ``user``), and
# ``include[]=integrations`` a service's integrations full ones, as PagerDuty answers and its
# specification says in prose; its schemas type them as references only.
KNOWN_ANSWER_DEVIATIONS = re.compile(
    r"200 answer (oncalls/\d+/user|(services/\d+/|service/)integrations/\d+)/type: "
    r"'(user|events_api_v2_inbound_integration)' is not one of"
)


@dataclass
class Answer:
    """What came back: status, headers and the decoded body."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Api:
    """A small client of the sandbox that records answers that break the specifications."""

    sandbox: Sandbox
    session: requests.Session = field(default_factory=requests.Session)
    problems: list[str] = field(default_factory=list)
    _port_token: str | None = None

    def call(
        self,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        params: Any = None,
        timeout: float = 5.0,
    ) -> Answer:
        """Send one request to ``service`` and check the answer against its spec."""
        base = {
            "pagerduty": self.sandbox.pagerduty_url,
            "events": self.sandbox.events_url + "/v2",
            "port": self.sandbox.port_url,
        }[service]
        response = self.session.request(
            method, base + path, json=body, headers=headers, params=params, timeout=timeout
        )
        try:
            decoded = response.json()
        except ValueError:
            decoded = response.text
        self.problems += [
            f"{method} {path}: {p}"
            for p in response_problems(service, method, path, response.status_code, decoded)
            if not KNOWN_ANSWER_DEVIATIONS.match(p)
        ]
        if service in ("pagerduty", "events") and 200 <= response.status_code < 300:
            self.problems += self._request_problems(service, method, path, response.request, body)
        return Answer(response.status_code, dict(response.headers), decoded)

    @staticmethod
    def _request_problems(
        service: str, method: str, path: str, sent: requests.PreparedRequest, body: Any
    ) -> list[str]:
        """Return how an accepted PagerDuty request breaks the specification."""
        query = parse_qs(urlsplit(sent.url or "").query, keep_blank_values=True)
        problems = request_problems(service, method, path, query, dict(sent.headers), body)
        return [
            f"{method} {path}: {p}" for p in problems if not p.startswith(KNOWN_REQUEST_DEVIATIONS)
        ]

    def pd(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = PAGERDUTY_TOKEN,
        sender: str | None = FROM_EMAIL,
        params: Any = None,
    ) -> Answer:
        """Call PagerDuty with the demo key and From header (None leaves either out)."""
        headers = {"Accept": "application/vnd.pagerduty+json;version=2"}
        if key is not None:
            headers["Authorization"] = f"Token token={key}"
        if sender is not None:
            headers["From"] = sender
        return self.call("pagerduty", method, path, body, headers, params)

    def events(self, path: str, body: Any) -> Answer:
        """Send an event to the Events API v2 (``path``: ``/enqueue`` or ``/change/enqueue``),
        with no auth header."""
        return self.call("events", "POST", path, body, {})

    def port_token(self) -> str:
        """Return an access token for the demo credentials, fetched once."""
        if self._port_token is None:
            answer = self.call(
                "port",
                "POST",
                "/v1/auth/access_token",
                {"clientId": PORT_CLIENT_ID, "clientSecret": PORT_CLIENT_SECRET},
            )
            self._port_token = answer.body["accessToken"]
        return self._port_token

    def port(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "demo",  # noqa: S107 - "demo" selects the demo token: no secret
        params: Any = None,
    ) -> Answer:
        """Call Port with a bearer token (``demo``: a fresh demo token; None: none)."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {self.port_token() if token == 'demo' else token}"
        return self.call("port", method, path, body, headers, params)


@pytest.fixture(scope="session")
def running_sandbox() -> Iterator[Sandbox]:
    """One sandbox for the whole session."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    """The session's sandbox, back to its seed, without faults or journal."""
    running_sandbox.clear_faults()
    running_sandbox.reset(shape="guide")
    running_sandbox.clear_journal()
    return running_sandbox


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    """A client whose every answer must match the published specifications."""
    client = Api(sandbox)
    yield client
    client.session.close()
    assert client.problems == []
