"""Requests and answers with the problems the official specifications find in them.

``tests/test_contract_extract.py`` checks that the extract in ``tests/contracts`` finds exactly
these problems; ``scripts/extract_contracts.py --check`` checks that the full specifications in
``../shared/contracts`` find the same ones. Together: what the specifications reject, the extract
rejects too, with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PD_HEADERS = {
    "Accept": "application/vnd.pagerduty+json;version=2",
    "Authorization": "Token token=sample",
    "From": "oncall@example.com",
    "Content-Type": "application/json",
}
PORT_HEADERS = {"Authorization": "Bearer sample"}
REFERENCE = {"type": "incident_reference"}


@dataclass(frozen=True)
class RequestSample:
    """A request and the problems the specification finds in it ([] when it is valid)."""

    service: str
    method: str
    path: str
    body: Any
    problems: list[str]
    headers: dict[str, str] = field(default_factory=lambda: dict(PD_HEADERS))
    query: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerSample:
    """An answer and the problems the specification finds in it ([] when it is valid)."""

    service: str
    method: str
    path: str
    status: int
    body: Any
    problems: list[str]


def _incident_update(**fields: Any) -> dict[str, Any]:
    """The body of PUT /incidents/{id} with ``fields``."""
    return {"incident": {**REFERENCE, **fields}}


SERVICE = {"id": "PSVC001", "type": "service_reference"}

REQUESTS = [
    RequestSample(
        "pagerduty",
        "PUT",
        "/incidents/PABC123",
        _incident_update(status="acknowledged"),
        ["missing required header From"],
        headers={k: v for k, v in PD_HEADERS.items() if k != "From"},
    ),
    RequestSample(
        "pagerduty",
        "PUT",
        "/incidents/PABC123",
        _incident_update(status="closed"),
        [
            "request body incident/status: 'closed' is not one of "
            "['resolved', 'acknowledged', 'triggered']"
        ],
    ),
    RequestSample(
        "pagerduty",
        "PUT",
        "/incidents/PABC123",
        _incident_update(escalation_level="two"),
        ["request body incident/escalation_level: 'two' is not of type 'integer'"],
    ),
    RequestSample("pagerduty", "PUT", "/incidents/PABC123", _incident_update(urgency="high"), []),
    RequestSample(
        "pagerduty",
        "POST",
        "/incidents/PABC123/notes",
        {"note": {}},
        ["request body note: 'content' is a required property"],
    ),
    RequestSample(
        "pagerduty",
        "POST",
        "/incidents/PABC123/snooze",
        {"duration": "30m"},
        ["request body duration: '30m' is not of type 'integer'"],
    ),
    RequestSample(
        "pagerduty",
        "POST",
        "/incidents/PABC123/snooze",
        {"duration": 0},
        ["request body duration: 0 is less than the minimum of 1"],
    ),
    RequestSample(
        "pagerduty",
        "POST",
        "/incidents",
        {"incident": {"type": "incident", "title": "Disk full"}},
        ["request body incident: 'service' is a required property"],
    ),
    RequestSample(
        "pagerduty",
        "POST",
        "/incidents",
        {"incident": {"type": "incident", "title": "Disk", "service": SERVICE}},
        [],
    ),
    RequestSample(
        "pagerduty",
        "GET",
        "/incidents/PABC123",
        None,
        ["missing required header Accept"],
        headers={},
    ),
    RequestSample(
        "pagerduty",
        "GET",
        "/incidents/PABC123",
        None,
        [
            "query parameter include[]: 'owners' is not one of ['acknowledgers', 'agents', "
            "'assignees', 'conference_bridge', 'custom_fields', 'escalation_policies', "
            "'first_trigger_log_entries', 'priorities', 'services', 'teams', 'users']"
        ],
        query={"include[]": ["assignees", "owners"]},
    ),
    RequestSample(
        "pagerduty",
        "GET",
        "/incidents",
        None,
        [],
        query={
            "incident_key": ["port-r_1"],
            "service_ids[]": ["PSVC001"],
            "statuses[]": ["triggered", "acknowledged"],
            "date_range": ["all"],
            "limit": ["100"],
        },
    ),
    RequestSample(
        "pagerduty",
        "GET",
        "/incidents",
        None,
        [
            "query parameter statuses[]: 'open' is not one of "
            "['triggered', 'acknowledged', 'resolved']",
            "query parameter status is not declared by the operation",
            "query parameter limit: 'ten' is not an integer",
        ],
        query={"statuses[]": ["open"], "status": ["triggered"], "limit": ["ten"]},
    ),
    RequestSample(
        "pagerduty",
        "DELETE",
        "/incidents/PABC123",
        None,
        [
            "no operation DELETE /incidents/PABC123 in the pagerduty extract: add it to "
            "OPERATIONS in scripts/extract_contracts.py and run that script"
        ],
    ),
    RequestSample(
        "port",
        "POST",
        "/v1/auth/access_token",
        {"clientId": "sample"},
        ["request body (root): 'clientSecret' is a required property"],
        headers={},
    ),
    RequestSample(
        "port",
        "PATCH",
        "/v1/actions/runs/r_1",
        {"status": "DONE"},
        ["request body status: 'DONE' is not one of ['SUCCESS', 'FAILURE']"],
        headers=PORT_HEADERS,
    ),
    RequestSample(
        "port",
        "PATCH",
        "/v1/actions/runs/r_1",
        {"status": "SUCCESS", "link": ["https://github.com/org/repo/actions/runs/1"]},
        [],
        headers=PORT_HEADERS,
    ),
    RequestSample(
        "port",
        "POST",
        "/v1/actions/runs/r_1/logs",
        {"terminationStatus": "SUCCESS"},
        ["request body (root): 'message' is a required property"],
        headers=PORT_HEADERS,
    ),
    RequestSample(
        "port",
        "POST",
        "/v1/blueprints/pagerdutyIncident/entities",
        {"identifier": 5},
        ["request body identifier: 5 is not valid under any of the given schemas"],
        headers=PORT_HEADERS,
        query={"upsert": "true"},
    ),
    RequestSample(
        "port",
        "POST",
        "/v1/blueprints/pagerdutyIncident/entities",
        {"identifier": "PABC123"},
        [
            "missing required query parameter upsert",
            "query parameter merge: 'yes' is not true or false",
        ],
        headers=PORT_HEADERS,
        query={"merge": "yes"},
    ),
    RequestSample(
        "port",
        "POST",
        "/v1/actions",
        {"identifier": "escalate"},
        [
            "request body (root): 'trigger' is a required property",
            "request body (root): 'invocationMethod' is a required property",
        ],
        headers=PORT_HEADERS,
    ),
]

ANSWERS = [
    AnswerSample(
        "pagerduty",
        "GET",
        "/incidents/PABC123",
        200,
        {"incident": {"id": 5}},
        ["200 answer incident/id: 5 is not of type 'string'"],
    ),
    AnswerSample(
        "pagerduty",
        "GET",
        "/incidents/PABC123",
        404,
        {"error": "not found"},
        ["404 answer error: 'not found' is not of type 'object'"],
    ),
    AnswerSample(
        "pagerduty",
        "GET",
        "/priorities",
        200,
        {"priorities": [{"id": 1}]},
        ["200 answer priorities/0/id: 1 is not of type 'string'"],
    ),
    AnswerSample(
        "port",
        "POST",
        "/v1/auth/access_token",
        200,
        {"accessToken": 5},
        [
            "200 answer accessToken: 5 is not of type 'string'",
            "200 answer (root): 'expiresIn' is a required property",
            "200 answer (root): 'tokenType' is a required property",
        ],
    ),
    AnswerSample(
        "port",
        "POST",
        "/v1/auth/access_token",
        200,
        {"ok": True, "accessToken": "sample", "expiresIn": 3600, "tokenType": "Bearer"},
        [],
    ),
]
