"""What Port and PagerDuty hold after runs that race, fail half-way or are run again, end to end
against the sandbox: the relations the action owns, the entity after two runs on one incident, a
re-run after "Partly done", a note counted only when this run made it, and the exact lookups.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from escalator.sandbox import Sandbox, seed
from tests.e2e import (
    SEED_CASE,
    SEED_PORT_CONTEXT,
    RunResult,
    port_admin,
    run_action,
    run_in_process,
)

TRIGGERED = seed.DEMO_INCIDENT_ID
INCIDENTS = "pagerdutyIncident"


def port(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """Call the sandbox's Port as an admin would, with the demo credentials."""
    return port_admin(sandbox, method, path, body).json()


def entity(sandbox: Sandbox, identifier: str) -> dict[str, Any]:
    """The incident entity as the sandbox's Port holds it."""
    held: dict[str, Any] = sandbox.state()["port"]["entities"][INCIDENTS][identifier]
    return held


def run(sandbox: Sandbox, tmp_path: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` in process on the demo incident, reporting to the demo Port run."""
    inputs.setdefault("from", seed.FROM_EMAIL)
    inputs.setdefault("incident_id", TRIGGERED)
    inputs.setdefault("port_context", json.dumps(SEED_PORT_CONTEXT | {"entity": TRIGGERED}))
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


# --- finding 3: the relations the action owns ------------------------------------------------


def test_a_curated_relation_to_services_is_left_as_it_is(sandbox: Sandbox, tmp_path: Path) -> None:
    """A many-relation ``impactedServices: [A, B]`` an admin curated keeps both services after a
    note; only the incident's own service relation is sent."""
    port(
        sandbox,
        "PATCH",
        f"/v1/blueprints/{INCIDENTS}",
        {
            "relations": {
                "impactedServices": {
                    "title": "Impacted",
                    "target": "pagerdutyService",
                    "many": True,
                    "required": False,
                }
            }
        },
    )
    port(
        sandbox,
        "POST",
        f"/v1/blueprints/{INCIDENTS}/entities?upsert=true&merge=true",
        {"identifier": TRIGGERED, "relations": {"impactedServices": ["PSVCCHK", "PSVCPLT"]}},
    )
    sandbox.clear_journal()
    context = {"entity": TRIGGERED, "run_id": seed.DEMO_RUN_ID, "blueprint": INCIDENTS}
    result = run(sandbox, tmp_path, "note", note="Looking", port_context=json.dumps(context))
    assert result.returncode == 0, result.stdout
    upserts = [
        e
        for e in sandbox.journal()
        if e["method"] == "POST" and e["path"].endswith(f"/{INCIDENTS}/entities")
    ]
    assert len(upserts) == 1
    assert "impactedServices" not in json.dumps(upserts[0].get("body"))
    held = entity(sandbox, TRIGGERED)
    assert held["relations"]["impactedServices"] == ["PSVCCHK", "PSVCPLT"]
    assert held["relations"]["pagerdutyService"] in ("PSVCPAY", ["PSVCPAY"])


# --- findings 6 and 7: notes after "Partly done", and notes this run made ---------------------

RESOLVED = "Q1HS8Y7W3BZLRD"
NOTES_PATH = "/pagerduty/incidents/*/notes"
#: PagerDuty refusing every note: the main write lands, the note does not ("Partly done")
NOTES_REFUSED = [
    {
        "method": "POST",
        "path": NOTES_PATH,
        "steps": [{"status": 400, "body": {"error": {"code": 2001, "message": "Invalid"}}}],
        "repeat_last": True,
    }
]
SERVICE_CONTEXT = {"blueprint": "pagerdutyService", "entity": "PSVCPAY", "run_id": seed.DEMO_RUN_ID}


def notes(sandbox: Sandbox, incident_id: str) -> list[str]:
    """The texts of the incident's notes, oldest first."""
    return [n["content"] for n in sandbox.state()["pagerduty"]["notes"][incident_id]]


def note_posts(sandbox: Sandbox) -> int:
    """How many notes were posted, applied or not."""
    return sum(e["method"] == "POST" and e["path"].endswith("/notes") for e in sandbox.journal())


def test_a_rerun_after_partly_done_adds_the_missing_resolution_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Resolve lands, its resolution note fails; the re-run the error invites adds the note, and
    a third run adds nothing more."""
    sandbox.set_faults(NOTES_REFUSED)
    first = run(sandbox, tmp_path / "1", "resolve", resolution="Rolled back")
    assert first.returncode == 1
    assert "Partly done" in first.stdout
    assert sandbox.state()["pagerduty"]["incidents"][TRIGGERED]["status"] == "resolved"
    assert notes(sandbox, TRIGGERED) == []
    sandbox.clear_faults()
    second = run(sandbox, tmp_path / "2", "resolve", resolution="Rolled back")
    assert second.returncode == 0, second.stdout
    assert notes(sandbox, TRIGGERED) == ["Rolled back"]
    assert second.outputs["changed"] == "true"
    sandbox.clear_journal()
    third = run(sandbox, tmp_path / "3", "resolve", resolution="Rolled back")
    assert third.returncode == 0, third.stdout
    assert notes(sandbox, TRIGGERED) == ["Rolled back"]
    assert note_posts(sandbox) == 0
    assert third.outputs["changed"] == "false"


def test_a_rerun_of_create_after_partly_done_adds_the_missing_note_once(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Create lands, its note fails; the re-run finds the incident by its key and adds the note,
    and a third run adds nothing more."""
    inputs = {
        "title": "Checkout down",
        "service_id": "PSVCPAY",
        "note": "Paging the team",
        "port_context": json.dumps(SERVICE_CONTEXT),
    }
    sandbox.set_faults(NOTES_REFUSED)
    first = run(sandbox, tmp_path / "1", "create", incident_id="", **inputs)
    assert first.returncode == 1
    incidents = sandbox.state()["pagerduty"]["incidents"].values()
    [created] = [i["id"] for i in incidents if i["title"] == "Checkout down"]
    assert notes(sandbox, created) == []
    sandbox.clear_faults()
    second = run(sandbox, tmp_path / "2", "create", incident_id="", **inputs)
    assert second.returncode == 0, second.stdout
    assert second.outputs["incident_id"] == created
    assert notes(sandbox, created) == ["Paging the team"]
    sandbox.clear_journal()
    third = run(sandbox, tmp_path / "3", "create", incident_id="", **inputs)
    assert third.returncode == 0, third.stdout
    assert notes(sandbox, created) == ["Paging the team"]
    assert note_posts(sandbox) == 0


def test_an_older_note_with_the_same_text_is_no_proof_the_note_landed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """After a 502 that added nothing, a note with the same text made before this run does not
    count: the note is sent again and the incident ends with both."""
    with sandbox._lock:  # an old note, made a day before, as another run or a person left it
        sandbox._state["pagerduty"]["notes"][TRIGGERED].append(
            {"id": "NOLD", "content": "On it", "created_at": "2026-01-01T00:00:00Z"}
        )
    sandbox.set_faults([{"method": "POST", "path": NOTES_PATH, "steps": [{"status": 502}]}])
    result = run(sandbox, tmp_path, "note", note="On it")
    assert result.returncode == 0, result.stdout
    assert notes(sandbox, TRIGGERED) == ["On it", "On it"]
    assert note_posts(sandbox) == 2


def test_a_resolution_for_a_resolved_incident_is_added_as_a_note_and_said(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Resolving an incident already resolved with a resolution adds it as a note (PagerDuty
    takes notes on resolved incidents) and says the status already held."""
    context = json.dumps(SEED_PORT_CONTEXT | {"entity": RESOLVED})
    result = run(
        sandbox, tmp_path, "resolve", incident_id=RESOLVED, resolution="Late", port_context=context
    )
    assert result.returncode == 0, result.stdout
    assert notes(sandbox, RESOLVED) == ["Late"]
    assert 'status already resolved; note "Late"' in result.stdout
    assert "| Note | — | Late | sent |" in result.summary


# --- finding 4: two runs on one incident ------------------------------------------------------


def test_two_runs_on_one_incident_leave_port_as_pagerduty_holds_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An escalation whose upsert is held up lands after a resolution's: once both runs end,
    Port's entity says resolved, as PagerDuty does."""
    context = json.dumps({"entity": TRIGGERED, "blueprint": INCIDENTS})
    upsert = f"/port/v1/blueprints/{INCIDENTS}/entities"
    sandbox.set_faults(
        [{"method": "POST", "path": upsert, "steps": [{"fault": "hang", "seconds": 1.5}]}]
    )
    escalation: list[RunResult] = []
    inputs = SEED_CASE | {"incident_id": TRIGGERED, "urgency": "low", "port_context": context}
    first = threading.Thread(
        target=lambda: escalation.append(run_action(sandbox, tmp_path / "escalate", **inputs))
    )
    first.start()
    for _ in range(200):  # until the escalation's upsert is the one held up
        if sandbox.faults.describe()["faults"][0]["used"]:
            break
        time.sleep(0.05)
    resolved = run(sandbox, tmp_path / "resolve", "resolve", port_context=context)
    first.join(60)
    assert resolved.returncode == 0, resolved.stdout
    assert escalation[0].returncode == 0, escalation[0].stdout
    held = sandbox.state()["pagerduty"]["incidents"][TRIGGERED]
    assert held["status"] == "resolved"
    assert entity(sandbox, TRIGGERED)["properties"]["status"] == "resolved"


# --- finding 8: exact lookups, no null over what the integration fills ------------------------

PD_HEADERS = {
    "Authorization": f"Token token={seed.PAGERDUTY_TOKEN}",
    "From": seed.FROM_EMAIL,
    "Accept": "application/vnd.pagerduty+json;version=2",
}


def answer_with(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A fault that answers every GET of ``path`` with ``body``, as a service ignoring filters."""
    step = {"status": 200, "body": body, "headers": {"Content-Type": "application/json"}}
    return {"method": "GET", "path": path, "steps": [step], "repeat_last": True}


def test_create_never_takes_an_incident_of_another_service_or_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A key lookup answered with an open incident of another service and key (filters ignored)
    does not count as found: a new incident is created."""
    foreign = requests.get(
        f"{sandbox.pagerduty_url}/incidents/{TRIGGERED}", headers=PD_HEADERS, timeout=5
    ).json()["incident"]
    assert foreign["service"]["id"] == "PSVCPAY"
    sandbox.set_faults(
        [answer_with("/pagerduty/incidents", {"incidents": [foreign], "more": False})]
    )
    result = run(
        sandbox,
        tmp_path,
        "create",
        incident_id="",
        title="Data export stuck",
        service_id="PSVCDAT",
        incident_key="export-1",
        port_context=json.dumps(SERVICE_CONTEXT | {"entity": "PSVCDAT"}),
    )
    assert result.returncode == 0, result.stdout
    assert result.outputs["incident_id"] != TRIGGERED
    creates = [
        e
        for e in sandbox.journal()
        if e["method"] == "POST" and e["path"] == "/pagerduty/incidents"
    ]
    assert len(creates) == 1


@pytest.mark.parametrize(
    ("asked", "listed"),
    [
        ("kate@example.com", [{"id": "PKELVIN", "email": "\u212aate@example.com"}]),
        ("strasse@example.com", [{"id": "PSTRASS", "email": "stra\u00dfe@example.com"}]),
        (
            "dup@example.com",
            [
                {"id": "PDUP001", "email": "dup@example.com"},
                {"id": "PDUP002", "email": "DUP@example.com"},
            ],
        ),
    ],
)
def test_reassign_matches_an_email_exactly_and_refuses_ambiguity(
    asked: str, listed: list[dict[str, str]], sandbox: Sandbox, tmp_path: Path
) -> None:
    """An email matches only itself in another ASCII case (not the Kelvin sign, not ß for ss),
    and two users with one email are refused: an input error, nothing sent."""
    users = [u | {"type": "user", "name": u["id"]} for u in listed]
    sandbox.set_faults([answer_with("/pagerduty/users", {"users": users, "more": False})])
    result = run(sandbox, tmp_path, "reassign", assignees=asked)
    assert result.returncode == 2, result.stdout
    assert "assignees" in result.error_text
    writes = [
        e for e in sandbox.journal() if e["path"].startswith("/pagerduty") and e["method"] != "GET"
    ]
    assert writes == []


def test_create_sends_no_null_triggered_by(sandbox: Sandbox, tmp_path: Path) -> None:
    """In the integration's blueprint, a create never upserts ``triggered_by: null`` over what
    the integration maps from the trigger's agent; it reads the incident's first trigger entry."""
    sandbox.reset("integration")
    result = run(
        sandbox,
        tmp_path,
        "create",
        incident_id="",
        title="Payments slow",
        service_id="PSVCPAY",
        port_context=json.dumps(SERVICE_CONTEXT),
    )
    assert result.returncode == 0, result.stdout
    upserts = [
        e
        for e in sandbox.journal()
        if e["method"] == "POST" and e["path"].endswith(f"/{INCIDENTS}/entities")
    ]
    assert upserts
    for upsert in upserts:
        assert upsert["body"]["properties"].get("triggered_by", "absent") is not None
    reads = [
        e
        for e in sandbox.journal()
        if e["method"] == "GET"
        and e["path"] == f"/pagerduty/incidents/{result.outputs['incident_id']}"
    ]
    assert any("first_trigger_log_entries" in e["query"].get("include[]", []) for e in reads)
