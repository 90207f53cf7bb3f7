"""The fake PagerDuty API: authentication, headers, incident semantics and errors."""

from __future__ import annotations

import pytest
from conftest import Api

from escalator.sandbox import Sandbox
from escalator.sandbox.pagerduty import FROM_REQUIRED
from escalator.sandbox.seed import DEMO_INCIDENT_ID, PAGERDUTY_READ_ONLY_TOKEN

ACKED = "Q0RIJJZL24RC6W"
LOW = "PT4KHLK"
RESOLVED = "Q1HS8Y7W3BZLRD"
BOB, CAROL, ALICE, DAVE, ERIN = "P7Q3M8K", "PD8RZ2N", "PXPGF42", "PL5VW1J", "PY6HT3C"


def put(api: Api, incident_id: str, **changes: object) -> object:
    """Send ``PUT /incidents/{id}`` with the given incident fields."""
    return api.pd(
        "PUT", f"/incidents/{incident_id}", {"incident": {"type": "incident_reference", **changes}}
    )


def level(sandbox: Sandbox, incident_id: str) -> int:
    """Return the sandbox's record of an incident's escalation level."""
    return int(sandbox.state()["pagerduty"]["escalation_levels"][incident_id])


def test_get_incident_looks_like_pagerduty(api: Api) -> None:
    """The demo incident has PagerDuty's fields, references and a 14-character id."""
    answer = api.pd("GET", f"/incidents/{DEMO_INCIDENT_ID}")
    incident = answer.body["incident"]
    assert answer.status == 200
    assert incident["type"] == "incident"
    assert len(incident["id"]) == 14
    assert (incident["status"], incident["urgency"]) == ("triggered", "high")
    assert incident["escalation_policy"]["id"] == "PPAYMNT"
    assert incident["assignments"][0]["assignee"]["type"] == "user_reference"
    assert incident["assignments"][0]["assignee"]["id"] == BOB
    assert incident["self"].endswith(f"/pagerduty/incidents/{DEMO_INCIDENT_ID}")
    assert {"html_url", "last_status_change_at", "pending_actions", "priority"} <= set(incident)


def test_get_incident_by_number(api: Api) -> None:
    """An incident number finds the incident like its id does."""
    assert api.pd("GET", "/incidents/1042").body["incident"]["id"] == DEMO_INCIDENT_ID


def test_include_assignees_and_policies_expand(api: Api) -> None:
    """include[]=assignees gives user objects with emails; escalation_policies the policy."""
    answer = api.pd(
        "GET",
        f"/incidents/{DEMO_INCIDENT_ID}",
        params={"include[]": ["assignees", "escalation_policies"]},
    )
    incident = answer.body["incident"]
    assert incident["assignments"][0]["assignee"]["email"] == "bob@example.com"
    assert incident["assignments"][0]["assignee"]["type"] == "user"
    assert len(incident["escalation_policy"]["escalation_rules"]) == 3


@pytest.mark.parametrize("authorization", [None, "Token token=wrong", "Basic abc"])
def test_bad_key_answers_401(api: Api, authorization: str | None) -> None:
    """A missing or unknown key answers 401 with code 2006."""
    headers = {"Authorization": authorization} if authorization else {}
    answer = api.call("pagerduty", "GET", f"/incidents/{DEMO_INCIDENT_ID}", headers=headers)
    assert answer.status == 401
    assert answer.body["error"]["code"] == 2006


def test_bearer_key_is_accepted(api: Api) -> None:
    """``Authorization: Bearer <key>`` works like ``Token token=<key>``."""
    from escalator.sandbox.seed import PAGERDUTY_TOKEN

    answer = api.call(
        "pagerduty",
        "GET",
        "/services/PSVCPAY",
        headers={"Authorization": f"Bearer {PAGERDUTY_TOKEN}"},
    )
    assert answer.body["service"]["escalation_policy"]["id"] == "PPAYMNT"


def test_read_only_key_cannot_write(api: Api) -> None:
    """The read-only key reads but answers 403 on a write."""
    assert (
        api.pd("GET", f"/incidents/{DEMO_INCIDENT_ID}", key=PAGERDUTY_READ_ONLY_TOKEN).status == 200
    )
    answer = api.pd(
        "PUT",
        f"/incidents/{DEMO_INCIDENT_ID}",
        {"incident": {"type": "incident", "urgency": "low"}},
        key=PAGERDUTY_READ_ONLY_TOKEN,
    )
    assert answer.status == 403


def test_write_without_from_answers_400(api: Api) -> None:
    """A write with the account key and no From header answers PagerDuty's exact message."""
    answer = api.pd(
        "PUT",
        f"/incidents/{DEMO_INCIDENT_ID}",
        {"incident": {"type": "incident", "urgency": "low"}},
        sender=None,
    )
    assert answer.status == 400
    assert answer.body["error"]["message"] == FROM_REQUIRED


def test_unknown_from_answers_1008(api: Api) -> None:
    """A From email that is no user answers code 1008."""
    answer = api.pd(
        "PUT",
        f"/incidents/{DEMO_INCIDENT_ID}",
        {"incident": {"type": "incident", "urgency": "low"}},
        sender="x@example.org",
    )
    assert (answer.status, answer.body["error"]["code"]) == (400, 1008)
    assert answer.body["error"]["message"] == "Requester User Not Found"


def test_reassign_policy_assigns_first_level(api: Api, sandbox: Sandbox) -> None:
    """Reassigning to a policy assigns its level-1 on-call user and resets the level."""
    before = api.pd("GET", f"/incidents/{DEMO_INCIDENT_ID}").body["incident"]
    answer = put(
        api,
        DEMO_INCIDENT_ID,
        escalation_policy={"id": "PPLATFM", "type": "escalation_policy_reference"},
    )
    incident = answer.body["incident"]  # type: ignore[attr-defined]
    assert answer.status == 200  # type: ignore[attr-defined]
    assert incident["escalation_policy"]["id"] == "PPLATFM"
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [DAVE]
    assert incident["updated_at"] >= before["updated_at"]
    assert level(sandbox, DEMO_INCIDENT_ID) == 1


@pytest.mark.parametrize(("target", "user"), [(2, CAROL), (3, ALICE), (1, BOB), (0, BOB)])
def test_escalation_level_assigns_that_level(
    api: Api, sandbox: Sandbox, target: int, user: str
) -> None:
    """escalation_level N assigns level N's target (0 and 1 mean the first level)."""
    incident = put(api, DEMO_INCIDENT_ID, escalation_level=target).body["incident"]  # type: ignore[attr-defined]
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [user]
    assert level(sandbox, DEMO_INCIDENT_ID) == max(target, 1)


def test_escalating_acknowledged_incident_retriggers_it(api: Api) -> None:
    """Escalating an acknowledged incident assigns the level and triggers it again."""
    incident = put(api, ACKED, escalation_level=1).body["incident"]  # type: ignore[attr-defined]
    assert incident["status"] == "triggered"
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [DAVE]


@pytest.mark.parametrize("incident_id", [LOW, RESOLVED])
def test_cannot_escalate_low_or_resolved(api: Api, incident_id: str) -> None:
    """Escalating a low-urgency or resolved incident answers 400 with code 1006."""
    answer = put(api, incident_id, escalation_level=2)
    assert (answer.status, answer.body["error"]["code"]) == (400, 1006)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes",
    [
        {"urgency": "medium"},
        {"escalation_level": 4},
        {"escalation_level": -1},
        {"escalation_level": "2"},
        {"type": "ticket"},
        {"status": "snoozed"},
    ],
)
def test_invalid_input_answers_2001(api: Api, changes: dict[str, object]) -> None:
    """Invalid urgency, level out of range or bad type answer 400 with code 2001."""
    answer = put(api, DEMO_INCIDENT_ID, **changes)
    assert (answer.status, answer.body["error"]["code"]) == (400, 2001)  # type: ignore[attr-defined]
    assert answer.body["error"]["errors"]  # type: ignore[attr-defined]


def test_unknown_policy_answers_1014(api: Api, sandbox: Sandbox) -> None:
    """Reassigning to an unknown policy answers code 1014 and changes nothing."""
    answer = put(
        api,
        DEMO_INCIDENT_ID,
        escalation_policy={"id": "PNOPE00", "type": "escalation_policy_reference"},
    )
    assert answer.body["error"]["code"] == 1014  # type: ignore[attr-defined]
    assert (
        sandbox.state()["pagerduty"]["incidents"][DEMO_INCIDENT_ID]["escalation_policy"]["id"]
        == "PPAYMNT"
    )


def test_unknown_incident_answers_404(api: Api) -> None:
    """An unknown incident answers 404 on read and on update."""
    assert api.pd("GET", "/incidents/QNOTHERE000000").status == 404
    assert put(api, "QNOTHERE000000", urgency="low").status == 404  # type: ignore[attr-defined]


def test_urgency_and_status_changes(api: Api) -> None:
    """Urgency changes; acknowledging records the acknowledger; resolving empties assignments."""
    incident = put(api, DEMO_INCIDENT_ID, urgency="low").body["incident"]  # type: ignore[attr-defined]
    assert incident["urgency"] == "low"
    incident = put(api, DEMO_INCIDENT_ID, status="acknowledged").body["incident"]  # type: ignore[attr-defined]
    assert incident["status"] == "acknowledged"
    assert incident["acknowledgements"][0]["acknowledger"]["id"] == ALICE
    incident = put(api, DEMO_INCIDENT_ID, status="resolved").body["incident"]  # type: ignore[attr-defined]
    assert incident["status"] == "resolved"
    assert incident["assignments"] == []
    assert incident["last_status_change_at"] == incident["updated_at"]
    incident = put(api, DEMO_INCIDENT_ID, status="triggered").body["incident"]  # type: ignore[attr-defined]
    assert incident["status"] == "triggered"
    assert incident["assignments"]


def test_bulk_update(api: Api) -> None:
    """``PUT /incidents`` updates each listed incident."""
    answer = api.pd(
        "PUT",
        "/incidents",
        {
            "incidents": [
                {"id": DEMO_INCIDENT_ID, "type": "incident_reference", "status": "acknowledged"},
                {"id": ACKED, "type": "incident_reference", "urgency": "low"},
            ]
        },
    )
    assert answer.status == 200
    assert [i["id"] for i in answer.body["incidents"]] == [DEMO_INCIDENT_ID, ACKED]


def test_create_incident_and_note(api: Api, sandbox: Sandbox) -> None:
    """``POST /incidents`` opens a triggered incident on level 1; a note can be added."""
    answer = api.pd(
        "POST",
        "/incidents",
        {
            "incident": {
                "type": "incident",
                "title": "Disk full on db-3",
                "service": {"id": "PSVCDAT", "type": "service_reference"},
                "urgency": "high",
            }
        },
    )
    incident = answer.body["incident"]
    assert answer.status == 201
    assert incident["incident_number"] == 1043
    assert incident["id"].isalnum()
    assert incident["id"].isupper()
    assert [a["assignee"]["id"] for a in incident["assignments"]] == [ERIN]
    note = api.pd("POST", f"/incidents/{incident['id']}/notes", {"note": {"content": "Paged"}})
    assert note.status == 200
    assert note.body["note"]["content"] == "Paged"
    assert level(sandbox, incident["id"]) == 1


def test_lists_and_lookups(api: Api) -> None:
    """Users match by name or email; policies list and show their levels; services show."""
    users = api.pd("GET", "/users", params={"query": "bob@example.com"}).body["users"]
    assert [u["email"] for u in users] == ["bob@example.com"]
    policies = api.pd("GET", "/escalation_policies").body["escalation_policies"]
    assert {p["id"] for p in policies} == {"PPAYMNT", "PPLATFM", "PDATAOP", "PNIGHTS"}
    policy = api.pd("GET", "/escalation_policies/PPLATFM").body["escalation_policy"]
    assert policy["escalation_rules"][0]["targets"][0]["type"] == "schedule_reference"
    assert api.pd("GET", "/escalation_policies/PNOPE00").status == 404


def test_rate_limit_headers_on_every_answer(api: Api) -> None:
    """Every PagerDuty answer, errors included, carries the ratelimit headers."""
    for answer in (api.pd("GET", "/services/PSVCPAY"), api.pd("GET", "/incidents/QNONE")):
        assert answer.headers["ratelimit-limit"] == "960"
        assert int(answer.headers["ratelimit-reset"]) > 0


def test_rate_limit_answers_429() -> None:
    """Past the per-key limit, PagerDuty answers 429 with code 2020."""
    with Sandbox(pagerduty_rate_limit=2) as sandbox:
        client = Api(sandbox)
        statuses = [client.pd("GET", "/services/PSVCPAY") for _ in range(3)]
        assert [a.status for a in statuses] == [200, 200, 429]
        assert statuses[2].body["error"]["code"] == 2020
        assert statuses[1].headers["ratelimit-remaining"] == "0"
        client.session.close()
        assert client.problems == []
