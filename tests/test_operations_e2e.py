"""Every incident operation end to end against the sandbox: through ``entrypoint.py`` as the
runner runs it, in process through the action's ``main``, and through the command line.

Each case of the operations issue has its test: the changes, the no-ops (``changed=false``, nothing
sent), the refusals (nothing sent), the exact email match among near matches, acknowledge-then-
snooze, the note never duplicated after a lost answer, the inputs that do not apply, dry runs,
outputs, the Port run and entity, the job summary, the request budget and the lost-answer checks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from escalator.faces.cli import main as cli_main
from escalator.sandbox import Sandbox, seed
from tests.e2e import (
    SEED_PORT_CONTEXT,
    RunResult,
    applied,
    longest_chain,
    run_action,
    run_in_process,
    run_logs,
)
from tests.secret_scan import INPUT_SECRETS, captured, leaks, port_tokens, service_side

TRIGGERED = seed.DEMO_INCIDENT_ID  # Q2LAR4ADCXC8IB: high, Bob, P1
ACKNOWLEDGED = "Q0RIJJZL24RC6W"  # high, Erin, P2
RESOLVED = "Q1HS8Y7W3BZLRD"  # nobody, P3
ALICE, CAROL, BOB = "PXPGF42", "PD8RZ2N", "P7Q3M8K"
PD = "/pagerduty"
RUN_LOG = "/port/v1/actions/runs/" + seed.DEMO_RUN_ID + "/logs"
TOKEN_PATH = "/port/v1/auth/access_token"
#: Seconds added to every request where round trips are counted: requests meant to overlap do.
LATENCY = 0.05

#: The main case of each operation: its inputs, and the writes it sends (method, path suffix).
MAIN_CASES: dict[str, tuple[dict[str, str], list[tuple[str, str]]]] = {
    "acknowledge": ({"incident_id": TRIGGERED}, [("PUT", "")]),
    "resolve": (
        {"incident_id": TRIGGERED, "resolution": "Rolled back"},
        [("PUT", ""), ("POST", "/notes")],
    ),
    "reassign": ({"incident_id": TRIGGERED, "assignees": "alice@example.com"}, [("PUT", "")]),
    "note": ({"incident_id": TRIGGERED, "note": "Rolled back the deploy"}, [("POST", "/notes")]),
    "snooze": ({"incident_id": ACKNOWLEDGED, "snooze_duration": "30m"}, [("POST", "/snooze")]),
    "priority": ({"incident_id": TRIGGERED, "priority": "p2"}, [("PUT", "")]),
}

#: The Port run's status label after each main case.
LABELS = {
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "reassign": "Reassigned to alice@example.com",
    "note": "Note added",
    "snooze": "Snoozed for 30m",
    "priority": "Priority set to P2",
}


def context(incident_id: str) -> str:
    """The Port context of the demo run, on ``incident_id``."""
    return json.dumps(SEED_PORT_CONTEXT | {"entity": incident_id})


def run(sandbox: Sandbox, tmp_path: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` in process, from the demo user, reporting to the demo Port run."""
    inputs.setdefault("from", seed.FROM_EMAIL)
    inputs.setdefault("port_context", context(inputs.get("incident_id", TRIGGERED)))
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


def pagerduty_writes(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Every PagerDuty request that was not a read, whether or not it changed anything."""
    return [e for e in sandbox.journal() if e["path"].startswith(PD) and e["method"] != "GET"]


def incident(sandbox: Sandbox, incident_id: str) -> dict[str, Any]:
    """The incident as the sandbox holds it now."""
    found: dict[str, Any] = sandbox.state()["pagerduty"]["incidents"][incident_id]
    return found


def notes(sandbox: Sandbox, incident_id: str) -> list[str]:
    """The contents of the incident's notes, oldest first."""
    held = sandbox.state()["pagerduty"]["notes"].get(incident_id, [])
    return [note["content"] for note in held]


def assignee_ids(sandbox: Sandbox, incident_id: str) -> list[str]:
    """The ids of the incident's assignees, as the sandbox holds them."""
    return sorted(a["assignee"]["id"] for a in incident(sandbox, incident_id)["assignments"])


def assert_nothing_sent(sandbox: Sandbox) -> None:
    """No PagerDuty write was even attempted."""
    assert pagerduty_writes(sandbox) == []


# --- acknowledge ----------------------------------------------------------------------------


def test_acknowledge_a_triggered_incident(sandbox: Sandbox, tmp_path: Path) -> None:
    """A triggered incident becomes acknowledged, with one PUT carrying only the status."""
    result = run(sandbox, tmp_path, "acknowledge", incident_id=TRIGGERED)
    assert result.returncode == 0, result.stdout
    (put,) = pagerduty_writes(sandbox)
    assert put["body"] == {"incident": {"type": "incident_reference", "status": "acknowledged"}}
    assert put["headers"]["From"] == seed.FROM_EMAIL
    assert incident(sandbox, TRIGGERED)["status"] == "acknowledged"
    assert (result.outputs["changed"], result.outputs["incident_status"]) == (
        "true",
        "acknowledged",
    )


def test_acknowledge_an_acknowledged_incident_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Already acknowledged: changed=false and no write at all."""
    result = run(sandbox, tmp_path, "acknowledge", incident_id=ACKNOWLEDGED)
    assert result.returncode == 0, result.stdout
    assert_nothing_sent(sandbox)
    assert result.outputs["changed"] == "false"
    assert result.outputs["incident_status"] == "acknowledged"


def test_acknowledge_a_resolved_incident_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """A resolved incident is not reopened: refused, nothing sent, and the message says how to
    reopen it in PagerDuty."""
    result = run(sandbox, tmp_path, "acknowledge", incident_id=RESOLVED)
    assert result.returncode == 1
    assert_nothing_sent(sandbox)
    assert "resolved" in result.error_text
    assert "reopen" in result.error_text
    assert "Reopen" in result.error_text
    assert incident(sandbox, RESOLVED)["status"] == "resolved"
    assert "failed" in run_logs(sandbox)[-1]


# --- resolve --------------------------------------------------------------------------------


def test_resolve_sends_the_resolution_and_adds_it_as_a_note(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The resolution goes with the PUT and is added as a note people can see."""
    result = run(sandbox, tmp_path, "resolve", incident_id=TRIGGERED, resolution="Rolled back")
    assert result.returncode == 0, result.stdout
    put, post = pagerduty_writes(sandbox)
    assert put["body"]["incident"] | {} == {
        "type": "incident_reference",
        "status": "resolved",
        "resolution": "Rolled back",
    }
    assert post["path"] == f"{PD}/incidents/{TRIGGERED}/notes"
    assert notes(sandbox, TRIGGERED) == ["Rolled back"]
    assert sandbox.state()["pagerduty"]["resolutions"][TRIGGERED] == ["Rolled back"]
    assert result.outputs["incident_status"] == "resolved"


def test_resolve_a_resolved_incident_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """Already resolved, without a resolution: changed=false, no write."""
    result = run(sandbox, tmp_path, "resolve", incident_id=RESOLVED)
    assert result.returncode == 0, result.stdout
    assert_nothing_sent(sandbox)
    assert result.outputs["changed"] == "false"
    assert notes(sandbox, RESOLVED) == []


# --- reassign -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "user_id"),
    [("alice@example.com", ALICE), ("ALICE@Example.com", ALICE), ("carol@example.com", CAROL)],
)
def test_reassign_matches_the_whole_email_among_near_matches(
    email: str, user_id: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The user whose email is exactly the one given is assigned, never a near match (a name or
    an email that merely contains it), whatever the case."""
    result = run(sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees=email)
    assert result.returncode == 0, result.stdout
    assert assignee_ids(sandbox, TRIGGERED) == [user_id]
    (put,) = pagerduty_writes(sandbox)
    assert put["body"]["incident"]["assignments"] == [
        {"assignee": {"id": user_id, "type": "user_reference"}}
    ]


def test_reassign_follows_more_pages_until_the_exact_match(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two users a page, Carol is on the second page of her query: it is read."""
    monkeypatch.setattr("escalator.clients.pagerduty.USERS_PAGE", 2)
    result = run(
        sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees="carol@example.com"
    )
    assert result.returncode == 0, result.stdout
    pages = [e["query"]["offset"] for e in sandbox.journal() if e["path"] == f"{PD}/users"]
    assert pages == [["0"], ["2"]]
    assert assignee_ids(sandbox, TRIGGERED) == [CAROL]


def test_reassign_to_an_email_with_no_exact_match_is_an_input_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """'lice@example.com' is contained in three users' emails but is nobody's: the input error
    names it and nothing is sent."""
    result = run(sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees="lice@example.com")
    assert result.returncode == 2
    assert "lice@example.com" in result.error_text
    assert "assignees" in result.error_text
    assert_nothing_sent(sandbox)
    assert assignee_ids(sandbox, TRIGGERED) == [BOB]


def test_reassign_uses_user_ids_as_given(sandbox: Sandbox, tmp_path: Path) -> None:
    """User IDs are sent as they are, with no user lookup; several users become the assignees."""
    result = run(
        sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees=f"{CAROL}, {ALICE}"
    )
    assert result.returncode == 0, result.stdout
    assert [e for e in sandbox.journal() if e["path"] == f"{PD}/users"] == []
    assert assignee_ids(sandbox, TRIGGERED) == sorted([CAROL, ALICE])


def test_reassign_to_the_current_assignees_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """Already exactly these users (Bob, by email): changed=false, nothing sent."""
    result = run(sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees="bob@example.com")
    assert result.returncode == 0, result.stdout
    assert_nothing_sent(sandbox)
    assert result.outputs["changed"] == "false"
    assert "already assigned to" in run_logs(sandbox)[-1]


def test_reassign_a_resolved_incident_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """A resolved incident is not reassigned: refused, nothing sent."""
    result = run(sandbox, tmp_path, "reassign", incident_id=RESOLVED, assignees=ALICE)
    assert result.returncode == 1
    assert "resolved" in result.error_text
    assert_nothing_sent(sandbox)


# --- note -----------------------------------------------------------------------------------


@pytest.mark.parametrize("incident_id", [TRIGGERED, RESOLVED])
def test_note_is_added_on_open_and_resolved_incidents(
    incident_id: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The note is posted once, a resolved incident included, and its status is left alone."""
    status = incident(sandbox, incident_id)["status"]
    result = run(sandbox, tmp_path, "note", incident_id=incident_id, note="Post-mortem on Monday")
    assert result.returncode == 0, result.stdout
    assert notes(sandbox, incident_id) == ["Post-mortem on Monday"]
    assert incident(sandbox, incident_id)["status"] == status
    assert result.outputs["changed"] == "true"


def test_a_note_whose_answer_was_lost_is_not_added_twice(sandbox: Sandbox, tmp_path: Path) -> None:
    """The note is added but the connection is reset: the notes are read, it is there, it is
    not posted again."""
    sandbox.set_faults(
        [{"method": "POST", "path": f"{PD}/incidents/*/notes", "steps": [{"fault": "reset_after"}]}]
    )
    result = run(sandbox, tmp_path, "note", incident_id=TRIGGERED, note="Rolled back")
    assert result.returncode == 0, result.stdout
    assert notes(sandbox, TRIGGERED) == ["Rolled back"]
    posts = [e for e in pagerduty_writes(sandbox) if e["path"].endswith("/notes")]
    assert len(posts) == 1
    reads = [e for e in sandbox.journal() if e["method"] == "GET" and e["path"].endswith("/notes")]
    assert len(reads) == 1


def test_a_note_refused_with_a_5xx_before_it_was_added_is_sent_again(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A 503 that added nothing: the notes are read, the note is missing, it is posted again,
    and there is one note in the end."""
    sandbox.set_faults(
        [{"method": "POST", "path": f"{PD}/incidents/*/notes", "steps": [{"status": 503}]}]
    )
    result = run(sandbox, tmp_path, "note", incident_id=TRIGGERED, note="Rolled back")
    assert result.returncode == 0, result.stdout
    assert notes(sandbox, TRIGGERED) == ["Rolled back"]
    assert len(applied(sandbox.journal(), "POST", f"{PD}/incidents/.*/notes")) == 1


# --- snooze ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "seconds"), [("1800", 1800), ("30m", 1800), ("1h30m", 5400), ("1d", 86400)]
)
def test_snooze_an_acknowledged_incident(
    duration: str, seconds: int, sandbox: Sandbox, tmp_path: Path
) -> None:
    """An acknowledged incident is snoozed for the duration, in seconds, with one POST."""
    result = run(sandbox, tmp_path, "snooze", incident_id=ACKNOWLEDGED, snooze_duration=duration)
    assert result.returncode == 0, result.stdout
    (post,) = pagerduty_writes(sandbox)
    assert (post["path"], post["body"]) == (
        f"{PD}/incidents/{ACKNOWLEDGED}/snooze",
        {"duration": seconds},
    )
    assert ACKNOWLEDGED in sandbox.state()["pagerduty"]["snoozes"]


def test_snooze_a_triggered_incident_acknowledges_it_first(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """PagerDuty snoozes only acknowledged incidents: the acknowledgement goes first."""
    result = run(sandbox, tmp_path, "snooze", incident_id=TRIGGERED, snooze_duration="4h")
    assert result.returncode == 0, result.stdout
    put, post = pagerduty_writes(sandbox)
    assert (put["method"], put["body"]["incident"]["status"]) == ("PUT", "acknowledged")
    assert (post["path"], post["status"]) == (f"{PD}/incidents/{TRIGGERED}/snooze", 201)
    assert TRIGGERED in sandbox.state()["pagerduty"]["snoozes"]
    assert result.outputs["incident_status"] == "acknowledged"


def test_snooze_a_resolved_incident_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """A resolved incident is not snoozed (nor acknowledged on the way): nothing sent."""
    result = run(sandbox, tmp_path, "snooze", incident_id=RESOLVED, snooze_duration="30m")
    assert result.returncode == 1
    assert "resolved" in result.error_text
    assert_nothing_sent(sandbox)


def test_a_snooze_whose_answer_was_lost_is_checked_not_repeated(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The snooze is applied but its answer lost: the incident is read, the snooze is seen."""
    sandbox.set_faults(
        [
            {
                "method": "POST",
                "path": f"{PD}/incidents/*/snooze",
                "steps": [{"fault": "reset_after"}],
            }
        ]
    )
    result = run(sandbox, tmp_path, "snooze", incident_id=ACKNOWLEDGED, snooze_duration="30m")
    assert result.returncode == 0, result.stdout
    assert len([e for e in pagerduty_writes(sandbox) if e["path"].endswith("/snooze")]) == 1


def test_a_snooze_refused_with_a_5xx_is_sent_again(sandbox: Sandbox, tmp_path: Path) -> None:
    """A 503 that snoozed nothing is not taken for a snooze (the acknowledgement timeout's own
    pending action does not count): the snooze is sent again."""
    sandbox.set_faults(
        [{"method": "POST", "path": f"{PD}/incidents/*/snooze", "steps": [{"status": 503}]}]
    )
    result = run(sandbox, tmp_path, "snooze", incident_id=TRIGGERED, snooze_duration="30m")
    assert result.returncode == 0, result.stdout
    assert len(applied(sandbox.journal(), "POST", f"{PD}/incidents/.*/snooze")) == 1
    assert TRIGGERED in sandbox.state()["pagerduty"]["snoozes"]


# --- priority -------------------------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["P2", "p2", "PC3LK9W"])
def test_priority_by_name_in_any_case_or_by_id(
    wanted: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The name matches without regard to case, the ID as it is; the reference is sent."""
    result = run(sandbox, tmp_path, "priority", incident_id=TRIGGERED, priority=wanted)
    assert result.returncode == 0, result.stdout
    (put,) = pagerduty_writes(sandbox)
    assert put["body"]["incident"]["priority"] == {"id": "PC3LK9W", "type": "priority_reference"}
    assert incident(sandbox, TRIGGERED)["priority"]["id"] == "PC3LK9W"


def test_an_unknown_priority_lists_the_accounts_priorities(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An unknown name is an input error naming it and listing P1..P5; nothing is sent."""
    result = run(sandbox, tmp_path, "priority", incident_id=TRIGGERED, priority="Sev1")
    assert result.returncode == 2
    assert "Sev1" in result.error_text
    assert "P1, P2, P3, P4, P5" in result.error_text
    assert_nothing_sent(sandbox)


@pytest.mark.parametrize("mode", ["disabled", "empty"])
def test_priorities_not_enabled_is_a_clear_error(
    mode: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Priorities not in the plan (402) or none configured: the error says they are not
    enabled, and nothing is sent."""
    sandbox.set_priorities(mode)
    result = run(sandbox, tmp_path, "priority", incident_id=TRIGGERED, priority="P1")
    assert result.returncode == 1
    assert "not enabled" in result.error_text
    assert_nothing_sent(sandbox)


def test_priority_already_set_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """The incident already is P1: changed=false, nothing sent."""
    result = run(sandbox, tmp_path, "priority", incident_id=TRIGGERED, priority="p1")
    assert result.returncode == 0, result.stdout
    assert_nothing_sent(sandbox)
    assert result.outputs["changed"] == "false"


def test_priority_of_a_resolved_incident_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """A resolved incident's priority is not changed: refused, nothing sent."""
    result = run(sandbox, tmp_path, "priority", incident_id=RESOLVED, priority="P1")
    assert result.returncode == 1
    assert_nothing_sent(sandbox)


# --- the optional note, the inputs that do not apply ------------------------------------------


@pytest.mark.parametrize(
    ("operation", "inputs", "first"),
    [
        ("acknowledge", {}, "PUT"),
        ("reassign", {"assignees": CAROL}, "PUT"),
        ("snooze", {"snooze_duration": "30m"}, "PUT"),
        ("priority", {"priority": "P3"}, "PUT"),
        ("escalate", {"urgency": "low"}, "PUT"),
    ],
)
def test_the_optional_note_is_added_after_the_change(
    operation: str, inputs: dict[str, str], first: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """With another operation, the note is posted once, after the operation's change."""
    result = run(sandbox, tmp_path, operation, incident_id=TRIGGERED, note="On it", **inputs)
    assert result.returncode == 0, result.stdout
    writes = pagerduty_writes(sandbox)
    assert writes[0]["method"] == first
    assert writes[-1]["path"] == f"{PD}/incidents/{TRIGGERED}/notes"
    assert notes(sandbox, TRIGGERED) == ["On it"]


def test_the_optional_note_is_not_added_when_nothing_else_fails(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A refused operation adds no note either."""
    result = run(sandbox, tmp_path, "acknowledge", incident_id=RESOLVED, note="On it")
    assert result.returncode == 1
    assert notes(sandbox, RESOLVED) == []


@pytest.mark.parametrize(
    ("operation", "inputs", "wrong"),
    [
        ("resolve", {"snooze_duration": "30m"}, "snooze_duration"),
        ("acknowledge", {"escalation_level": "2"}, "escalation_level"),
        ("note", {"note": "x", "resolution": "y"}, "resolution"),
        ("reassign", {"assignees": ALICE, "priority": "P1"}, "priority"),
        ("snooze", {"snooze_duration": "30m", "urgency": "high"}, "urgency"),
        ("priority", {"priority": "P1", "assignees": ALICE}, "assignees"),
    ],
)
def test_an_input_that_does_not_apply_fails_before_any_request(
    operation: str, inputs: dict[str, str], wrong: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The error names the input and the operation; PagerDuty gets no request, the Port run only
    the failure (a token and one log saying it did not start)."""
    result = run(sandbox, tmp_path, operation, incident_id=TRIGGERED, **inputs)
    assert result.returncode == 2
    assert wrong in result.error_text
    assert operation in result.error_text
    assert [e["path"] for e in sandbox.journal()] == [TOKEN_PATH, RUN_LOG]
    (log,) = run_logs(sandbox)
    assert log.startswith("Not started: ")
    assert wrong in log


# --- dry run, outputs, Port, summary -----------------------------------------------------------


@pytest.mark.parametrize("operation", list(MAIN_CASES))
def test_dry_run_reads_only_and_shows_each_request(
    operation: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A dry run sends no write to either service and prints each request it would send with
    its JSON body."""
    inputs, writes = MAIN_CASES[operation]
    result = run(sandbox, tmp_path, operation, dry_run="true", **inputs)
    assert result.returncode == 0, result.stdout
    journal = sandbox.journal()
    assert [e for e in journal if e["path"].startswith(PD) and e["method"] != "GET"] == []
    assert [e for e in journal if e["applied"] and e["path"] != TOKEN_PATH] == []
    shown = [line for line in result.lines if line.startswith("Dry run: would send ")]
    assert len(shown) == len(writes)
    for line, (method, suffix) in zip(shown, writes, strict=True):
        request = f"{method} /incidents/{inputs['incident_id']}{suffix} "
        assert line.startswith("Dry run: would send " + request)
        json.loads(line.removeprefix("Dry run: would send " + request))
    assert result.outputs["changed"] == "false"
    assert "Would send to PagerDuty, in this order:" in result.summary


@pytest.mark.parametrize("operation", list(MAIN_CASES))
def test_outputs_port_run_and_summary(operation: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """The outputs name the operation and the incident after it; the Port run gets a start and a
    result log and a status label; the summary has before, asked and after."""
    inputs, _ = MAIN_CASES[operation]
    incident_id = inputs["incident_id"]
    result = run(sandbox, tmp_path, operation, **inputs)
    assert result.returncode == 0, result.stdout
    outputs = result.outputs
    assert (outputs["operation"], outputs["changed"]) == (operation, "true")
    assert outputs["incident_id"] == incident_id
    assert outputs["incident_status"] == incident(sandbox, incident_id)["status"]
    assert json.loads(outputs["incident"])["id"] == incident_id
    logs = run_logs(sandbox)
    assert len(logs) == 2
    assert incident_id in logs[0]
    assert incident_id in logs[1]
    assert sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]["statusLabel"] == LABELS[operation]
    assert "| | Before | Asked | After |" in result.summary


def test_the_summary_rows_say_before_asked_and_after(sandbox: Sandbox, tmp_path: Path) -> None:
    """A reassignment's summary shows who it was, the email asked and who it is now."""
    result = run(
        sandbox, tmp_path, "reassign", incident_id=TRIGGERED, assignees="carol@example.com"
    )
    assert result.returncode == 0, result.stdout
    assert "| Assigned to | Bob Tanaka | carol@example.com | Carol Okafor |" in result.summary


@pytest.mark.parametrize("shape", ["guide", "integration"])
@pytest.mark.parametrize("operation", list(MAIN_CASES))
def test_budget_and_entity_for_each_blueprint_shape(
    operation: str, shape: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """At most 10 requests and 5 sequential round trips (run logs aside; the last is the read
    after the upsert that confirms Port holds what PagerDuty does), one Port token; the entity
    holds the status (and, in the integration shape, assignees and priority) after."""
    sandbox.set_blueprint_shape(shape)
    sandbox.set_faults([], latency=LATENCY)
    inputs, _ = MAIN_CASES[operation]
    incident_id = inputs["incident_id"]
    result = run(sandbox, tmp_path, operation, **inputs)
    assert result.returncode == 0, result.stdout
    journal = sandbox.journal()
    assert len(journal) <= 10, [f"{e['method']} {e['path']}" for e in journal]
    assert longest_chain([e for e in journal if e["path"] != RUN_LOG]) <= 5
    assert len([e for e in journal if e["path"] == TOKEN_PATH]) == 1
    held = incident(sandbox, incident_id)
    entity = sandbox.state()["port"]["entities"]["pagerdutyIncident"][incident_id]
    properties = entity["properties"]
    assert properties["status"] == held["status"]
    if shape == "integration":
        emails = {ALICE: "alice@example.com", "PY6HT3C": "erin@example.com", BOB: "bob@example.com"}
        assert properties["assignees"] == [emails[a["assignee"]["id"]] for a in held["assignments"]]
        assert properties["priority"] == held["priority"]["summary"]
    else:
        assert "responder" in properties


def test_snooze_of_a_triggered_incident_takes_one_round_trip_more_at_most(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Acknowledge then snooze: at most 6 round trips and 11 requests (the read after the upsert
    included), one Port token."""
    sandbox.set_blueprint_shape("integration")
    sandbox.set_faults([], latency=LATENCY)
    result = run(sandbox, tmp_path, "snooze", incident_id=TRIGGERED, snooze_duration="30m")
    assert result.returncode == 0, result.stdout
    journal = sandbox.journal()
    assert len(journal) <= 11
    assert longest_chain([e for e in journal if e["path"] != RUN_LOG]) <= 6
    assert len([e for e in journal if e["path"] == TOKEN_PATH]) == 1


# --- lost answers to the writes --------------------------------------------------------------

PUT_CASES = {
    "acknowledge": {"incident_id": TRIGGERED},
    "resolve": {"incident_id": TRIGGERED},
    "reassign": {"incident_id": TRIGGERED, "assignees": "alice@example.com"},
    "priority": {"incident_id": TRIGGERED, "priority": "P3"},
}


@pytest.mark.parametrize("step", [{"fault": "reset_after"}, {"fault": "malformed"}])
@pytest.mark.parametrize("operation", list(PUT_CASES))
def test_a_lost_answer_to_an_applied_put_is_read_not_resent(
    operation: str, step: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    """The PUT is applied but its answer lost: the incident is read, the change is there, the
    PUT is not sent a second time."""
    sandbox.set_faults([{"method": "PUT", "path": f"{PD}/incidents/*", "steps": [step]}])
    result = run(sandbox, tmp_path, operation, **PUT_CASES[operation])
    assert result.returncode == 0, result.stdout
    assert len([e for e in pagerduty_writes(sandbox) if e["method"] == "PUT"]) == 1
    assert result.outputs["changed"] == "true"
    assert "Checking PagerDuty before sending again" in result.stdout


@pytest.mark.parametrize("operation", list(PUT_CASES))
def test_a_5xx_on_a_put_is_read_then_sent_again_once(
    operation: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A 502 that changed nothing: the incident is read, the change is missing, it is sent
    again and applied exactly once."""
    sandbox.set_faults([{"method": "PUT", "path": f"{PD}/incidents/*", "steps": [{"status": 502}]}])
    result = run(sandbox, tmp_path, operation, **PUT_CASES[operation])
    assert result.returncode == 0, result.stdout
    puts = [e for e in pagerduty_writes(sandbox) if e["method"] == "PUT"]
    assert len(puts) == 2
    assert len(applied(sandbox.journal(), "PUT", f"{PD}/incidents/[^/]+")) == 1


# --- PagerDuty's refusals, in words that name the inputs --------------------------------------


def _error(status: int, code: int, message: str) -> list[dict[str, Any]]:
    return [{"status": status, "body": {"error": {"code": code, "message": message}}}]


@pytest.mark.parametrize(
    ("operation", "inputs", "method", "path", "answer", "words"),
    [
        ("reassign", {"assignees": "PNOSUCH1"}, "PUT", "/incidents/*", None, "assignees"),
        (
            "reassign",
            {"assignees": ALICE},
            "PUT",
            "/incidents/*",
            _error(400, 1011, "Cannot process reassign action"),
            "reassign",
        ),
        (
            "snooze",
            {"snooze_duration": "30m"},
            "POST",
            "/incidents/*/snooze",
            _error(400, 1012, "Incident is not Acknowledged"),
            "acknowledged",
        ),
        (
            "snooze",
            {"snooze_duration": "30m"},
            "POST",
            "/incidents/*/snooze",
            _error(400, 1013, "Snooze Duration is Invalid"),
            "snooze_duration",
        ),
        (
            "priority",
            {"priority": "P3"},
            "PUT",
            "/incidents/*",
            _error(400, 1020, "Invalid Priority"),
            "priority",
        ),
        (
            "priority",
            {"priority": "P3"},
            "PUT",
            "/incidents/*",
            _error(402, 2014, "Missing Account Ability"),
            "not enabled",
        ),
    ],
)
def test_pagerduty_refusals_say_what_to_fix(
    operation: str,
    inputs: dict[str, str],
    method: str,
    path: str,
    answer: list[dict[str, Any]] | None,
    words: str,
    sandbox: Sandbox,
    tmp_path: Path,
) -> None:
    """Each PagerDuty refusal of these writes becomes a message naming the input to fix, with
    nothing applied and no second attempt."""
    incident_id = ACKNOWLEDGED if operation == "snooze" else TRIGGERED
    if answer is not None:
        sandbox.set_faults([{"method": method, "path": PD + path, "steps": answer}])
    result = run(sandbox, tmp_path, operation, incident_id=incident_id, **inputs)
    assert result.returncode == 1, result.stdout
    assert words in result.error_text
    assert len(pagerduty_writes(sandbox)) == 1
    assert [e for e in sandbox.journal() if e["method"] != "GET" and e["applied"]] == [
        e for e in sandbox.journal() if e["path"].startswith("/port") and e["applied"]
    ]


# --- through entrypoint.py and the command line -------------------------------------------------


@pytest.mark.parametrize("operation", list(MAIN_CASES))
def test_each_operation_through_the_entrypoint(
    operation: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """``entrypoint.py`` in a subprocess, as the runner starts it, runs the operation, and no
    secret shows in anything it printed, wrote or sent."""
    inputs, writes = MAIN_CASES[operation]
    result = run_action(
        sandbox,
        tmp_path,
        operation=operation,
        from_=seed.FROM_EMAIL,
        port_context=context(inputs["incident_id"]),
        **inputs,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs["operation"] == operation
    assert len(pagerduty_writes(sandbox)) == len(writes)
    secrets = [*INPUT_SECRETS, *port_tokens(result)]
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    assert leaks(secrets, places) == []


CLI_CASES = [
    (["acknowledge", "-i", TRIGGERED], "acknowledged"),
    (["resolve", "-i", TRIGGERED, "--resolution", "Rolled back"], "resolved"),
    (["reassign", "-i", TRIGGERED, "carol@example.com"], "triggered"),
    (["note", "-i", RESOLVED, "Post-mortem on Monday"], "resolved"),
    (["snooze", "-i", TRIGGERED, "1h30m"], "acknowledged"),
    (["priority", "-i", TRIGGERED, "p3"], "triggered"),
]


@pytest.mark.parametrize(("argv", "status"), CLI_CASES, ids=[c[0][0] for c in CLI_CASES])
def test_each_operation_through_the_command_line(
    argv: list[str], status: str, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each subcommand changes the sandbox's incident and reports it as JSON."""
    connection = [
        "--from",
        seed.FROM_EMAIL,
        "--pagerduty-api-url",
        sandbox.pagerduty_url,
        "--port-api-url",
        sandbox.port_url,
        "--json",
    ]
    assert cli_main([*argv, *connection], {"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN}) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["changed"], document["operation"]) == (True, True, argv[0])
    assert document["incident_status"] == status
    assert pagerduty_writes(sandbox)


def test_the_command_line_refuses_a_resolved_incident_in_its_own_terms(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refusal exits 1, names --incident-id rather than incident_id, and sends nothing."""
    argv = ["snooze", "-i", RESOLVED, "30m", "--from", seed.FROM_EMAIL]
    argv += ["--pagerduty-api-url", sandbox.pagerduty_url, "--json"]
    assert cli_main(argv, {"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN}) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is False
    assert "resolved" in document["error"]["message"]
    assert_nothing_sent(sandbox)


@pytest.mark.parametrize(
    ("operation", "incident_id", "status"),
    [("acknowledge", ACKNOWLEDGED, "acknowledged"), ("resolve", RESOLVED, "resolved")],
)
def test_a_status_change_someone_else_made_meanwhile_is_taken_as_done(
    operation: str, incident_id: str, status: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The read shows the incident triggered, but someone else acknowledged (resolved) it before
    the PUT, which PagerDuty answers 1002 (1001): the incident is read again and the run ends
    well, with one PUT and nothing reopened."""
    stale = incident(sandbox, incident_id) | {"status": "triggered"}
    sandbox.set_faults(
        [
            {
                "method": "GET",
                "path": f"{PD}/incidents/{incident_id}",
                "steps": [{"status": 200, "body": {"incident": stale}}],
            }
        ]
    )
    result = run(sandbox, tmp_path, operation, incident_id=incident_id)
    assert result.returncode == 0, result.stdout
    (put,) = pagerduty_writes(sandbox)
    assert put["status"] == 400
    assert incident(sandbox, incident_id)["status"] == status
    assert result.outputs["incident_status"] == status


def test_a_note_that_fails_after_the_change_says_what_was_applied(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The acknowledgement lands, the note is refused: the error says the PUT was applied and the
    note failed, and its hint names the note input, not escalation's."""
    refused = _error(400, 2001, "Invalid Input Provided")
    sandbox.set_faults([{"method": "POST", "path": f"{PD}/incidents/*/notes", "steps": refused}])
    result = run(sandbox, tmp_path, "acknowledge", incident_id=TRIGGERED, note="On it")
    assert result.returncode == 1
    assert incident(sandbox, TRIGGERED)["status"] == "acknowledged"
    assert f"PagerDuty applied PUT /incidents/{TRIGGERED};" in result.error_text
    assert "Check note" in result.error_text
    assert "escalation_level" not in result.error_text
    assert "PagerDuty applied PUT" in run_logs(sandbox)[-1]


def test_the_start_log_says_the_duration_as_given(sandbox: Sandbox, tmp_path: Path) -> None:
    """The Port run's first log says the snooze's duration in words people read (1h30m)."""
    result = run(sandbox, tmp_path, "snooze", incident_id=ACKNOWLEDGED, snooze_duration="5400")
    assert result.returncode == 0, result.stdout
    assert run_logs(sandbox)[0] == f"Snoozing PagerDuty incident {ACKNOWLEDGED}: for 1h30m."
