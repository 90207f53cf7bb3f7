"""The fake PagerDuty API's incident creation, incident search and user search: the
incident_key rule, self-assignment, the disabled service, the creation rate limit, the
date window and substring user matching with pagination."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import Answer, Api

from escalator.sandbox import Sandbox
from escalator.sandbox.seed import DEMO_INCIDENT_ID, DISABLED_SERVICE_ID, OLD_INCIDENT_ID

ALICE, BOB, CAROL, DAVE = "PXPGF42", "P7Q3M8K", "PD8RZ2N", "PL5VW1J"
OPEN_KEY = ("PSVCPAY", "psvcpay-1042")  # held by the triggered demo incident
RESOLVED_KEY = ("PSVCDAT", "psvcdat-1037")  # held by a resolved incident only


def create(api: Api, service: str = "PSVCPAY", **fields: Any) -> Answer:
    """Send ``POST /incidents`` on ``service`` with a title and the given fields."""
    incident = {
        "type": "incident",
        "title": 'Card "3DS" checks timing out',
        "service": {"id": service, "type": "service_reference"},
        **fields,
    }
    return api.pd("POST", "/incidents", {"incident": incident})


def code(answer: Answer) -> tuple[int, int]:
    """Return the status and PagerDuty error code of an error answer."""
    return answer.status, answer.body["error"]["code"]


def found(api: Api, **params: Any) -> list[str]:
    """Return the ids ``GET /incidents`` finds with these query parameters."""
    return [i["id"] for i in api.pd("GET", "/incidents", params=params).body["incidents"]]


def test_create_assigns_the_service_policy_first_level(api: Api, sandbox: Sandbox) -> None:
    """A new incident is triggered on its service's policy, level 1, with what was sent."""
    answer = create(
        api,
        urgency="low",
        incident_key="port-r_123",
        priority={"id": "PB7QJ2X", "type": "priority_reference"},
        body={"type": "incident_body", "details": "Seen from eu-west-1 only"},
    )
    incident = answer.body["incident"]
    assert answer.status == 201
    assert (incident["status"], incident["urgency"]) == ("triggered", "low")
    assert incident["title"] == 'Card "3DS" checks timing out'
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [BOB]
    assert incident["assigned_via"] == "escalation_policy"
    assert (incident["incident_key"], incident["priority"]["name"]) == ("port-r_123", "P1")
    assert sandbox.state()["pagerduty"]["bodies"][incident["id"]] == "Seen from eu-west-1 only"


def test_create_with_another_policy(api: Api) -> None:
    """A policy given replaces the service's, and its first level is assigned."""
    policy = {"id": "PPLATFM", "type": "escalation_policy_reference"}
    incident = create(api, escalation_policy=policy).body["incident"]
    assert incident["escalation_policy"]["id"] == "PPLATFM"
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [DAVE]


def test_open_incident_holds_its_key_on_its_service(api: Api) -> None:
    """A key held by an open incident on the service is refused; elsewhere, or when only a
    resolved incident held it, it is accepted."""
    service, key = OPEN_KEY
    refused = create(api, service, incident_key=key)
    assert code(refused) == (400, 2002)
    assert "matching dedup key" in refused.body["error"]["errors"][0]
    assert create(api, "PSVCCHK", incident_key=key).status == 201
    assert create(api, RESOLVED_KEY[0], incident_key=RESOLVED_KEY[1]).status == 201


def test_key_is_free_again_once_resolved(api: Api) -> None:
    """After the holder is resolved, the same key creates a new incident."""
    service, key = OPEN_KEY
    api.pd(
        "PUT",
        f"/incidents/{DEMO_INCIDENT_ID}",
        {"incident": {"type": "incident_reference", "status": "resolved"}},
    )
    assert create(api, service, incident_key=key).status == 201


def test_self_assigned_incident_starts_acknowledged(api: Api) -> None:
    """Assigned to the requester, the incident is created acknowledged; to another user,
    triggered and directly assigned."""
    mine = create(api, assignments=[{"assignee": {"id": ALICE, "type": "user_reference"}}])
    theirs = create(api, assignments=[{"assignee": {"id": CAROL, "type": "user_reference"}}])
    assert mine.body["incident"]["status"] == "acknowledged"
    assert mine.body["incident"]["acknowledgements"][0]["acknowledger"]["id"] == ALICE
    assert theirs.body["incident"]["status"] == "triggered"
    assert theirs.body["incident"]["assigned_via"] == "direct_assignment"


@pytest.mark.parametrize(
    "fields",
    [
        {
            "assignments": [{"assignee": {"id": BOB, "type": "user_reference"}}],
            "escalation_policy": {"id": "PPLATFM", "type": "escalation_policy_reference"},
        },
        {
            "assignments": [
                {"assignee": {"id": BOB, "type": "user_reference"}},
                {"assignee": {"id": CAROL, "type": "user_reference"}},
            ]
        },
        {"body": {"type": "incident_body", "details": {"disk": "full"}}},
        {"priority": "P1"},
        {"urgency": "urgent"},
        {"title": "  "},
    ],
)
def test_invalid_creations_answer_2001(api: Api, sandbox: Sandbox, fields: dict[str, Any]) -> None:
    """Policy with assignments, two assignees, an object body, a priority name, a bad urgency
    or an empty title answer 2001 and create nothing."""
    before = len(sandbox.state()["pagerduty"]["incidents"])
    assert code(create(api, **fields)) == (400, 2001)
    assert len(sandbox.state()["pagerduty"]["incidents"]) == before


def test_disabled_and_unknown_services_are_refused(api: Api) -> None:
    """A disabled service refuses incidents (2001, naming it); an unknown one answers 2002."""
    disabled = create(api, DISABLED_SERVICE_ID)
    assert code(disabled) == (400, 2001)
    assert disabled.body["error"]["message"] == "Incident could not be created"
    assert DISABLED_SERVICE_ID in disabled.body["error"]["errors"][0]
    assert code(create(api, "PNOSUCH")) == (400, 2002)


def test_create_needs_a_known_from(api: Api) -> None:
    """Creating without From answers 400; with an unknown From, 1008."""
    body = {
        "incident": {
            "type": "incident",
            "title": "x",
            "service": {"id": "PSVCPAY", "type": "service_reference"},
        }
    }
    assert api.pd("POST", "/incidents", body, sender=None).status == 400
    assert code(api.pd("POST", "/incidents", body, sender="ghost@example.com")) == (400, 1008)


def test_creation_rate_limit_is_separate_and_lower(api: Api, sandbox: Sandbox) -> None:
    """Past the creation limit POST /incidents answers 429/2020 while reads still pass; a
    reset lifts it."""
    response = requests.post(
        f"{sandbox.url}/__sandbox/limits", json={"create_rate_limit": 2}, timeout=5
    )
    assert response.json()["create_rate_limit"] == 2
    assert [create(api).status for _ in range(2)] == [201, 201]
    limited = create(api)
    assert code(limited) == (429, 2020)
    assert limited.headers["ratelimit-limit"] == "2"
    assert "rate limited" in limited.body["error"]["errors"][0]
    assert api.pd("GET", f"/incidents/{DEMO_INCIDENT_ID}").status == 200
    sandbox.reset()
    assert create(api).status == 201


def test_list_finds_the_open_holder_of_a_key(api: Api) -> None:
    """incident_key, service_ids[], statuses[] and date_range=all find the open holder."""
    service, key = OPEN_KEY
    params = {
        "incident_key": key,
        "service_ids[]": [service],
        "statuses[]": ["triggered", "acknowledged"],
        "date_range": "all",
    }
    assert found(api, **params) == [DEMO_INCIDENT_ID]
    assert found(api, **params | {"service_ids[]": ["PSVCCHK"]}) == []
    assert found(api, **params | {"statuses[]": ["resolved"]}) == []


def test_list_searches_the_last_month_unless_date_range_all(api: Api) -> None:
    """Without date_range=all an old open incident is missed; a new one is found."""
    assert OLD_INCIDENT_ID not in found(api, **{"statuses[]": ["acknowledged"]})
    assert OLD_INCIDENT_ID in found(api, date_range="all", **{"statuses[]": ["acknowledged"]})
    new = create(api, incident_key="fresh-key").body["incident"]["id"]
    assert found(api, incident_key="fresh-key") == [new]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"statuses[]": ["snoozed"]}, 2001),
        ({"date_range": "week"}, 2001),
        ({"since": "yesterday"}, 2004),
        ({"limit": 0}, 2001),
    ],
)
def test_list_rejects_bad_filters(api: Api, params: dict[str, Any], expected: int) -> None:
    """An unknown status, date range, time or limit answers 400."""
    assert code(api.pd("GET", "/incidents", params=params)) == (400, expected)


def test_user_query_matches_substrings_of_names_and_emails(api: Api) -> None:
    """A query returns every user whose name or email contains it, ignoring case, by name."""
    answer = api.pd("GET", "/users", params={"query": "ALICE@example.com"})
    emails = [u["email"] for u in answer.body["users"]]
    assert emails == [
        "alice@example.com.au",
        "alice@example.com",
        "malice@example.com",
        "ops-inbox@example.com",
    ]
    assert [e for e in emails if e.lower() == "alice@example.com"] == ["alice@example.com"]


def test_exact_user_can_sit_on_a_later_page(api: Api) -> None:
    """With a small limit the exact email comes after near misses, on the second page."""
    query = {"query": "carol@example.com", "limit": 2}
    first = api.pd("GET", "/users", params=query).body
    second = api.pd("GET", "/users", params=query | {"offset": 2}).body
    assert "carol@example.com" not in [u["email"] for u in first["users"]]
    assert first["more"] is True
    assert [u["email"] for u in second["users"]] == ["carol@example.com"]
    assert second["more"] is False
