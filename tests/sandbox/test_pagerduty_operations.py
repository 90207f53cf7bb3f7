"""The fake PagerDuty API's incident operations: status changes, reopening, assignment,
priority, notes and snooze, with PagerDuty's error codes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from conftest import Answer, Api

from escalator.sandbox import Sandbox
from escalator.sandbox.pagerduty import FROM_REQUIRED
from escalator.sandbox.seed import DEMO_INCIDENT_ID

TRIGGERED = DEMO_INCIDENT_ID
ACKED = "Q0RIJJZL24RC6W"
RESOLVED = "Q1HS8Y7W3BZLRD"
BOB, CAROL, ALICE, DAVE, ERIN = "P7Q3M8K", "PD8RZ2N", "PXPGF42", "PL5VW1J", "PY6HT3C"


def put(api: Api, incident_id: str, **changes: object) -> Answer:
    """Send ``PUT /incidents/{id}`` with the given incident fields."""
    return api.pd(
        "PUT", f"/incidents/{incident_id}", {"incident": {"type": "incident_reference", **changes}}
    )


def users(*ids: str) -> list[dict[str, Any]]:
    """Return an ``assignments`` list for these users."""
    return [{"assignee": {"id": i, "type": "user_reference"}} for i in ids]


def assignees(incident: dict[str, Any]) -> list[str]:
    """Return the ids of an incident's assignees."""
    return [a["assignee"]["id"] for a in incident["assignments"]]


def stored(sandbox: Sandbox, incident_id: str) -> dict[str, Any]:
    """Return the sandbox's copy of an incident."""
    return dict(sandbox.state()["pagerduty"]["incidents"][incident_id])


def code(answer: Answer) -> tuple[int, int]:
    """Return the status and PagerDuty error code of an error answer."""
    return answer.status, answer.body["error"]["code"]


def snooze(api: Api, incident_id: str, duration: object, **kwargs: Any) -> Answer:
    """Send ``POST /incidents/{id}/snooze``."""
    return api.pd("POST", f"/incidents/{incident_id}/snooze", {"duration": duration}, **kwargs)


def test_acknowledge_takes_ownership_and_schedules_unacknowledge(api: Api) -> None:
    """Acknowledging a triggered incident records the acknowledger, assigns it to them and
    says when the acknowledgement times out."""
    incident = put(api, TRIGGERED, status="acknowledged").body["incident"]
    assert incident["status"] == "acknowledged"
    assert assignees(incident) == [ALICE]
    assert incident["acknowledgements"][0]["acknowledger"]["id"] == ALICE
    assert [p["type"] for p in incident["pending_actions"]] == ["unacknowledge"]


def test_repeat_acknowledge_and_resolve_answer_1002_and_1001(api: Api, sandbox: Sandbox) -> None:
    """A second acknowledge answers 1002 and a second resolve 1001, changing nothing."""
    before = stored(sandbox, ACKED)
    assert code(put(api, ACKED, status="acknowledged")) == (400, 1002)
    assert stored(sandbox, ACKED) == before
    assert code(put(api, RESOLVED, status="resolved")) == (400, 1001)


def test_resolve_with_resolution(api: Api, sandbox: Sandbox) -> None:
    """Resolving empties the assignments and keeps the resolution out of the incident, in the
    sandbox's record of the resolve log entry."""
    answer = put(api, ACKED, status="resolved", resolution="Rolled back the gateway")
    incident = answer.body["incident"]
    assert (incident["status"], incident["assignments"]) == ("resolved", [])
    assert incident["resolved_at"] == incident["last_status_change_at"]
    assert "Rolled back" not in str(incident)
    assert sandbox.state()["pagerduty"]["resolutions"][ACKED] == ["Rolled back the gateway"]


def test_resolution_must_be_a_string(api: Api) -> None:
    """A resolution that is not a string answers 2001."""
    assert code(put(api, ACKED, status="resolved", resolution=5)) == (400, 2001)


def test_acknowledging_a_resolved_incident_reopens_it(api: Api) -> None:
    """Acknowledged on a resolved incident reopens it, assigned to the requester."""
    incident = put(api, RESOLVED, status="acknowledged").body["incident"]
    assert (incident["status"], incident["resolved_at"]) == ("acknowledged", None)
    assert assignees(incident) == [ALICE]


def test_triggering_a_resolved_incident_reopens_it_on_level_one(api: Api, sandbox: Sandbox) -> None:
    """Triggered on a resolved incident reopens it, assigned to its policy's first level."""
    incident = put(api, RESOLVED, status="triggered").body["incident"]
    assert (incident["status"], assignees(incident)) == ("triggered", [ERIN])
    assert sandbox.state()["pagerduty"]["escalation_levels"][RESOLVED] == 1


def test_reopening_with_assignments_assigns_those_users(api: Api) -> None:
    """Triggered with assignments on a resolved incident assigns the users named."""
    incident = put(api, RESOLVED, status="triggered", assignments=users(DAVE)).body["incident"]
    assert (incident["status"], assignees(incident)) == ("triggered", [DAVE])
    assert incident["assigned_via"] == "direct_assignment"


def test_direct_assignment_retriggers_and_stops_escalation(api: Api) -> None:
    """Assigning users directly replaces the assignees, re-triggers an acknowledged incident
    and leaves no pending escalation."""
    incident = put(api, ACKED, assignments=users(CAROL, DAVE)).body["incident"]
    assert assignees(incident) == [CAROL, DAVE]
    assert (incident["assigned_via"], incident["status"]) == ("direct_assignment", "triggered")
    assert incident["pending_actions"] == []


@pytest.mark.parametrize(
    ("assignments", "expected"),
    [
        (users("PNOBODY"), (400, 1007)),
        ([], (400, 2001)),
        ([{"assignee": {"id": BOB, "type": "team_reference"}}], (400, 2001)),
        ("PXPGF42", (400, 2001)),
    ],
)
def test_bad_assignments_are_refused(
    api: Api, sandbox: Sandbox, assignments: object, expected: tuple[int, int]
) -> None:
    """An unknown assignee answers 1007, a malformed list 2001; nothing changes."""
    before = stored(sandbox, TRIGGERED)
    assert code(put(api, TRIGGERED, assignments=assignments)) == expected
    assert stored(sandbox, TRIGGERED) == before


@pytest.mark.parametrize(
    "changes",
    [
        {"assignments": users(BOB)},
        {"escalation_policy": {"id": "PPLATFM", "type": "escalation_policy_reference"}},
    ],
)
def test_resolved_incident_cannot_be_reassigned(api: Api, changes: dict[str, object]) -> None:
    """Reassigning an incident that stays resolved answers 1011."""
    assert code(put(api, RESOLVED, **changes)) == (400, 1011)


def test_priority_by_reference_and_by_name(api: Api) -> None:
    """A priority reference or a priority name (PUT only) sets the priority."""
    incident = put(api, TRIGGERED, priority={"id": "PC3LK9W", "type": "priority_reference"})
    assert incident.body["incident"]["priority"]["summary"] == "P2"
    incident = put(api, TRIGGERED, priority="P5")
    assert incident.body["incident"]["priority"]["id"] == "PH6WY1Z"


@pytest.mark.parametrize("priority", ["P9", "p1", {"id": "PNOPE00", "type": "priority_reference"}])
def test_unknown_priority_answers_1020(api: Api, priority: object) -> None:
    """An unknown priority id or name (names match exactly) answers 1020."""
    assert code(put(api, TRIGGERED, priority=priority)) == (400, 1020)


def test_priorities_listed_most_severe_first_and_paginated(api: Api) -> None:
    """``GET /priorities`` lists P1..P5 in order, a page at a time."""
    first = api.pd("GET", "/priorities", params={"limit": 2}).body
    rest = api.pd("GET", "/priorities", params={"limit": 2, "offset": 2}).body
    assert [p["name"] for p in first["priorities"]] == ["P1", "P2"]
    assert first["more"] is True
    assert [p["name"] for p in rest["priorities"]] == ["P3", "P4"]


def test_priorities_disabled_answer_402(api: Api, sandbox: Sandbox) -> None:
    """With priorities disabled, listing or setting one answers 402 with code 2014."""
    sandbox.set_priorities("disabled")
    listed = api.pd("GET", "/priorities")
    assert code(listed) == (402, 2014)
    assert "not enabled" in listed.body["error"]["errors"][0]
    assert code(put(api, TRIGGERED, priority="P1")) == (402, 2014)


def test_priorities_empty_list_nothing(api: Api, sandbox: Sandbox) -> None:
    """With no priorities configured the list is empty and a name answers 1020."""
    sandbox.set_priorities("empty")
    assert api.pd("GET", "/priorities").body["priorities"] == []
    assert code(put(api, TRIGGERED, priority="P1")) == (400, 1020)


def test_notes_need_a_known_from_and_are_listed_in_order(api: Api) -> None:
    """A note needs From (400) of a known user (1008); notes list oldest first, on a
    resolved incident too."""
    path = f"/incidents/{RESOLVED}/notes"
    missing = api.pd("POST", path, {"note": {"content": "x"}}, sender=None)
    assert (missing.status, missing.body["error"]["message"]) == (400, FROM_REQUIRED)
    unknown = api.pd("POST", path, {"note": {"content": "x"}}, sender="nobody@example.com")
    assert code(unknown) == (400, 1008)
    for text in ("Root cause: expired token", "Postmortem scheduled"):
        assert api.pd("POST", path, {"note": {"content": text}}).status == 200
    notes = api.pd("GET", path).body["notes"]
    assert [n["content"] for n in notes] == ["Root cause: expired token", "Postmortem scheduled"]
    assert notes[0]["user"]["id"] == ALICE


def test_notes_of_unknown_incident_answer_404(api: Api) -> None:
    """Listing the notes of an unknown incident answers 404."""
    assert api.pd("GET", "/incidents/QNOTHERE000000/notes").status == 404


def test_snooze_acknowledged_incident(api: Api, sandbox: Sandbox) -> None:
    """Snoozing an acknowledged incident answers 201 with it, due to re-trigger."""
    answer = snooze(api, ACKED, 1800)
    assert answer.status == 201
    incident = answer.body["incident"]
    assert incident["status"] == "acknowledged"
    assert [p["type"] for p in incident["pending_actions"]] == ["unacknowledge"]
    assert ACKED in sandbox.state()["pagerduty"]["snoozes"]


@pytest.mark.parametrize("incident_id", [TRIGGERED, RESOLVED])
def test_snooze_needs_acknowledged_incident(api: Api, incident_id: str) -> None:
    """Snoozing a triggered or resolved incident answers 1012."""
    assert code(snooze(api, incident_id, 60)) == (400, 1012)


@pytest.mark.parametrize("duration", [0, 604801, 1.5, "60", True, None])
def test_snooze_duration_must_be_whole_seconds_in_range(api: Api, duration: object) -> None:
    """A duration outside 1..604800 or not an integer answers 1013."""
    assert code(snooze(api, ACKED, duration)) == (400, 1013)


def test_snooze_needs_from(api: Api) -> None:
    """Snoozing without From answers PagerDuty's 400."""
    assert snooze(api, ACKED, 60, sender=None).status == 400


def test_snooze_ends_on_reassignment_and_on_expiry(api: Api, sandbox: Sandbox) -> None:
    """Reassigning cancels a snooze; an ended snooze triggers the incident again."""
    snooze(api, ACKED, 60)
    put(api, ACKED, assignments=users(BOB))
    assert sandbox.state()["pagerduty"]["snoozes"] == {}
    put(api, ACKED, status="acknowledged")
    snooze(api, ACKED, 60)
    response = requests.post(f"{sandbox.url}/__sandbox/expire-snoozes", timeout=5)
    assert response.json()["incidents"] == [ACKED]
    assert api.pd("GET", f"/incidents/{ACKED}").body["incident"]["status"] == "triggered"


def test_acknowledging_a_snoozed_incident_ends_the_snooze(api: Api, sandbox: Sandbox) -> None:
    """Acknowledging a snoozed incident again is allowed and ends the snooze."""
    snooze(api, ACKED, 60)
    assert put(api, ACKED, status="acknowledged").status == 200
    assert sandbox.state()["pagerduty"]["snoozes"] == {}
