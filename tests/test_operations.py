"""The operations' plans, as pure functions from (incident, request) to a typed plan: no HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from escalator.clients.models import EscalationPolicy, Incident, Priority, User
from escalator.errors import InputError
from escalator.operations import (
    OPERATIONS,
    acknowledge,
    create,
    escalate,
    note,
    priority,
    reassign,
    resolve,
    snooze,
)
from escalator.operations.base import Field
from escalator.operations.writes import AddNote, CreateIncident, Snooze, UpdateIncident
from escalator.terms import ACTION


def incident(**fields: Any) -> Incident:
    """A high-urgency triggered incident on policy PPAYMNT, assigned to PDAVE01, with ``fields``."""
    document: dict[str, Any] = {
        "id": "Q1",
        "incident_number": 7,
        "title": "Checkout errors",
        "status": "triggered",
        "urgency": "high",
        "escalation_policy": {"id": "PPAYMNT", "type": "escalation_policy_reference"},
        "assignments": [{"assignee": {"id": "PDAVE01", "type": "user_reference"}}],
        "service": {"id": "PSVCPAY", "type": "service_reference"},
    }
    document.update(fields)
    return Incident.model_validate(document)


RESOLVED = {"status": "resolved", "assignments": []}
POLICY = EscalationPolicy(id="PPLATFM", escalation_rules=[{}, {}, {}])


def test_every_operation_of_the_interface_is_registered() -> None:
    """The registry holds exactly the operations the action's operation input offers."""
    assert set(OPERATIONS) == {
        "escalate",
        "acknowledge",
        "resolve",
        "reassign",
        "note",
        "snooze",
        "priority",
        "create",
        "oncall",
        "override",
        "remove-override",
        "create-service",
        "trigger",
        "change-event",
    }


def test_escalate_sends_only_what_changes_and_says_what_held() -> None:
    """A new policy is sent; an urgency the incident already has is not, and is marked as held."""
    request = escalate.EscalateRequest(policy_id="PPLATFM", urgency="high")
    plan = escalate.plan(incident(), request)
    assert plan.writes == (UpdateIncident("Q1", escalation_policy_id="PPLATFM"),)
    assert [change.said() for change in plan.changes] == [
        "escalation policy PPLATFM",
        "urgency already high",
    ]


def test_escalate_policy_then_level_are_separate_updates_policy_first() -> None:
    """Policy and level go in two updates, the policy first."""
    request = escalate.EscalateRequest(policy_id="PPLATFM", level=2, policy=POLICY)
    plan = escalate.plan(incident(), request)
    assert plan.writes == (
        UpdateIncident("Q1", escalation_policy_id="PPLATFM"),
        UpdateIncident("Q1", escalation_level=2),
    )


def test_escalate_level_one_after_a_reassign_is_not_sent() -> None:
    """A reassigned incident starts at the first level: level 1 is not sent again."""
    request = escalate.EscalateRequest(policy_id="PPLATFM", level=1, policy=POLICY)
    assert escalate.plan(incident(), request).writes == (
        UpdateIncident("Q1", escalation_policy_id="PPLATFM"),
    )


@pytest.mark.parametrize(
    ("fields", "request_fields", "words"),
    [
        ({"urgency": "low"}, {"level": 2}, "low urgency"),
        (RESOLVED, {"level": 2}, "is resolved"),
        ({}, {"level": 4, "policy": POLICY}, "there is no level 4"),
    ],
)
def test_escalate_refuses_a_level_pagerduty_would_refuse(
    fields: dict[str, Any], request_fields: dict[str, Any], words: str
) -> None:
    """A level on a low-urgency or resolved incident, or beyond the policy, is refused."""
    with pytest.raises(InputError, match=words) as raised:
        escalate.plan(incident(**fields), escalate.EscalateRequest(**request_fields))
    assert raised.value.input == "escalation_level"


def test_escalate_with_everything_as_asked_sends_nothing() -> None:
    """Nothing is sent when the incident already has the policy and urgency asked."""
    plan = escalate.plan(incident(), escalate.EscalateRequest(policy_id="PPAYMNT", urgency="high"))
    assert plan.sends_nothing
    assert not any(change.needed for change in plan.changes)


@pytest.mark.parametrize(
    ("status", "writes"),
    [
        ("triggered", (UpdateIncident("Q1", status="acknowledged"),)),
        ("acknowledged", ()),
    ],
)
def test_acknowledge_only_a_triggered_incident(status: str, writes: tuple[Any, ...]) -> None:
    """A triggered incident is acknowledged; an acknowledged one is left as it is."""
    assert acknowledge.plan(incident(status=status)).writes == writes


def test_acknowledge_refuses_a_resolved_incident() -> None:
    """Acknowledging a resolved incident would reopen it: refused, with how to reopen it."""
    with pytest.raises(InputError, match="reopen") as raised:
        acknowledge.plan(incident(**RESOLVED))
    assert "Reopen" in raised.value.render(ACTION).hint


def test_resolve_sends_the_resolution_and_adds_it_as_a_note() -> None:
    """The resolution goes with the change and as a note people see."""
    plan = resolve.plan(incident(), "Rolled back")
    assert plan.writes == (
        UpdateIncident("Q1", status="resolved", resolution="Rolled back"),
        AddNote("Rolled back", "Q1"),
    )


def test_resolve_an_already_resolved_incident_keeps_its_resolution_as_a_note_once() -> None:
    """Resolving a resolved incident sends no status change; the resolution becomes a note only
    if the incident does not already hold it, and nothing at all without a resolution."""
    plan = resolve.plan(incident(**RESOLVED), "again")
    assert plan.writes == (AddNote("again", "Q1", once=True),)
    assert plan.with_notes_held(["again"]).sends_nothing
    assert not plan.with_notes_held(["other"]).sends_nothing
    assert resolve.plan(incident(**RESOLVED), None).sends_nothing


def test_reassign_to_exactly_these_users() -> None:
    """The assignees become exactly the users given."""
    users = (User(id="PALICE1", email="alice@example.com"), User(id="PBOB001"))
    plan = reassign.plan(incident(), users)
    assert plan.writes == (UpdateIncident("Q1", assignee_ids=("PALICE1", "PBOB001")),)
    assert plan.changes[0].field is Field.ASSIGNEES


def test_reassign_to_the_current_assignees_sends_nothing() -> None:
    """Already exactly these users: nothing is sent."""
    assert reassign.plan(incident(), (User(id="PDAVE01"),)).sends_nothing


def test_reassign_refuses_a_resolved_incident() -> None:
    """A resolved incident is not reassigned."""
    with pytest.raises(InputError, match="resolved"):
        reassign.plan(incident(**RESOLVED), (User(id="PBOB001"),))


def test_note_is_added_even_to_a_resolved_incident() -> None:
    """A note goes to any incident, resolved ones included."""
    assert note.plan(incident(**RESOLVED), "Postmortem: link").writes == (
        AddNote("Postmortem: link", "Q1"),
    )


def test_snooze_acknowledges_a_triggered_incident_first() -> None:
    """PagerDuty snoozes only acknowledged incidents: a triggered one is acknowledged first."""
    plan = snooze.plan(incident(), 1800)
    assert plan.writes == (UpdateIncident("Q1", status="acknowledged"), Snooze("Q1", 1800))


def test_snooze_an_acknowledged_incident_directly() -> None:
    """An acknowledged incident is snoozed with one request."""
    assert snooze.plan(incident(status="acknowledged"), 5400).writes == (Snooze("Q1", 5400),)
    assert snooze.duration_text(5400) == "1h30m"


def test_snooze_refuses_a_resolved_incident() -> None:
    """A resolved incident is not snoozed."""
    with pytest.raises(InputError, match="resolved"):
        snooze.plan(incident(**RESOLVED), 60)


def test_priority_is_sent_as_a_reference() -> None:
    """The priority found by name is sent as a priority reference."""
    plan = priority.plan(incident(), Priority(id="PP1", name="P1"))
    assert plan.writes[0].body()["incident"]["priority"] == {
        "id": "PP1",
        "type": "priority_reference",
    }


def test_priority_already_set_sends_nothing() -> None:
    """An incident that has the priority already is left alone."""
    current = incident(priority={"id": "PP1", "type": "priority_reference", "summary": "P1"})
    assert priority.plan(current, Priority(id="PP1", name="P1")).sends_nothing


def test_create_finds_an_open_incident_with_the_key_and_creates_nothing() -> None:
    """An open incident holding the key is the result: nothing is created."""
    found = incident(id="Q9")
    request = create.CreateRequest(title="t", service_id="PSVCPAY", incident_key="k", found=found)
    plan = create.plan(None, request)
    assert plan.sends_nothing
    assert plan.found == found


def test_create_sends_every_field_given() -> None:
    """Title, service, key, urgency, details, priority and policy make the create's body."""
    request = create.CreateRequest(
        title='Say "hi"',
        service_id="PSVCPAY",
        incident_key="port-r1",
        urgency="low",
        details="line 1\nline 2",
        priority=Priority(id="PP2", name="P2"),
        escalation_policy_id="PPLATFM",
    )
    (write,) = create.plan(None, request).writes
    assert isinstance(write, CreateIncident)
    assert write.body() == {
        "incident": {
            "type": "incident",
            "title": 'Say "hi"',
            "service": {"id": "PSVCPAY", "type": "service_reference"},
            "incident_key": "port-r1",
            "urgency": "low",
            "body": {"type": "incident_body", "details": "line 1\nline 2"},
            "priority": {"id": "PP2", "type": "priority_reference"},
            "escalation_policy": {"id": "PPLATFM", "type": "escalation_policy_reference"},
        }
    }


def test_create_with_more_than_one_assignee_is_refused() -> None:
    """PagerDuty creates an incident with one assignee at most."""
    users = (User(id="PA"), User(id="PB"))
    request = create.CreateRequest(title="t", service_id="S", incident_key="k", assignees=users)
    with pytest.raises(InputError, match="one assignee"):
        create.plan(None, request)


def test_a_note_with_another_operation_comes_after_its_change() -> None:
    """The optional note is the last write, after the operation's own change."""
    plan = acknowledge.plan(incident()).with_note("On it", incident())
    assert plan.writes == (UpdateIncident("Q1", status="acknowledged"), AddNote("On it", "Q1"))


def test_a_note_is_added_to_an_incident_a_create_found_only_when_missing() -> None:
    """A re-run that finds its incident adds the note only if the incident does not hold it."""
    request = create.CreateRequest(
        title="t", service_id="S", incident_key="k", found=incident(id="Q9")
    )
    plan = create.plan(None, request).with_note("again", None)
    assert plan.writes == (AddNote("again", "Q9", once=True),)
    assert plan.once_notes_target() == "Q9"
    assert plan.with_notes_held(["again"]).sends_nothing


def test_an_update_is_held_only_by_an_incident_showing_all_its_fields() -> None:
    """After a lost answer, an update counts as applied only when every field shows."""
    update = UpdateIncident("Q1", escalation_policy_id="PPLATFM", urgency="low")
    moved = {"escalation_policy": {"id": "PPLATFM", "type": "escalation_policy_reference"}}
    assert not update.held_by(incident(**moved))
    assert update.held_by(incident(**moved, urgency="low"))


def test_a_level_is_never_taken_as_applied_from_a_read() -> None:
    """PagerDuty does not expose the level: a lost level write is sent again, not assumed."""
    assert not UpdateIncident("Q1", escalation_level=2).held_by(incident(updated_at="later"))
