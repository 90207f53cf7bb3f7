"""The on-call parts under the operations: times, the resolver, the schedule client and writes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalator.clients import schedules
from escalator.clients.models import User
from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import PagerDutyError
from escalator.http import Deadline
from escalator.inputs.times import iso, parse_duration, parse_instant, window
from escalator.operations.oncall_resolver import OnCall, from_entries, on_call_now, primary
from escalator.operations.override import same_in
from escalator.operations.schedule_writes import Cover, CreateOverride, DeleteOverride
from escalator.operations.target import Clients
from escalator.sandbox import Sandbox, seed
from tests.contract import request_problems

NOW = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)


@pytest.fixture
def pagerduty(sandbox: Sandbox) -> Iterator[PagerDutyClient]:
    """A REST client on the sandbox with the demo key."""
    client = PagerDutyClient.connect(
        sandbox.pagerduty_url, seed.PAGERDUTY_TOKEN, from_email=None, deadline=Deadline(60)
    )
    yield client
    client.close()


def sent(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The PagerDuty requests the sandbox received, oldest first."""
    return [e for e in sandbox.journal() if e["path"].startswith("/pagerduty")]


def contract_problems(sandbox: Sandbox) -> list[str]:
    """How the journal's requests break PagerDuty's specification."""
    problems: list[str] = []
    for entry in sent(sandbox):
        path = entry["path"].removeprefix("/pagerduty")
        problems += request_problems(
            "pagerduty", entry["method"], path, entry["query"], entry["headers"], entry["body"]
        )
    return problems


# --- times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("4h", 240), ("2d", 2880), ("1h30m", 90), ("4H", 240)]
)
def test_durations_read_as_minutes(text: str, minutes: int) -> None:
    """Each spelling of a duration gives its length."""
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["2026-12-06T21:00:00", "2026-12-06", "tomorrow", "21:00Z"])
def test_an_instant_without_an_offset_or_a_time_is_refused(text: str) -> None:
    """Only an ISO 8601 date and time with an offset is an instant."""
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_instant(text)


def test_port_date_times_with_milliseconds_and_offsets_are_one_instant() -> None:
    """Port's '...Z' with milliseconds and a +01:00 time name the same UTC second."""
    assert parse_instant("2026-12-06T21:00:00.345Z").astimezone(UTC).replace(microsecond=0) == NOW
    assert parse_instant("2026-12-06T22:00:00+01:00") == NOW


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (None, "2026-12-06T20:00:00Z", "before or at the start"),
        ("2026-12-06T18:00:00Z", "1h", "in the past"),
        (None, "91d", "more than 90 days"),
    ],
)
def test_a_window_that_cannot_hold_is_refused(start: str | None, end: str, problem: str) -> None:
    """An end before the start, in the past, or over 90 days later is refused, saying which."""
    with pytest.raises(ValueError, match=problem):
        window(start, end, NOW)


def test_a_duration_counts_from_the_start_given() -> None:
    """'4h' after a start tomorrow ends four hours after that start, in UTC."""
    begins, ends = window("2026-12-07T10:00:00+01:00", "4h", NOW)
    assert (iso(begins), iso(ends)) == ("2026-12-07T09:00:00Z", "2026-12-07T13:00:00Z")


# --- the resolver -------------------------------------------------------------------------------


def entry(level: int, user: str, schedule: str | None) -> schedules.Oncall:
    """An /oncalls entry of ``user`` at ``level`` through ``schedule``."""
    return schedules.Oncall.model_validate(
        {
            "user": {"id": user, "email": f"{user.lower()}@example.com", "name": user},
            "escalation_level": level,
            "schedule": {"id": schedule} if schedule else None,
            "escalation_policy": {"id": "PPOL"},
        }
    )


def test_the_primary_is_the_lowest_level_not_the_first_entry() -> None:
    """Entries listed last level first give the level-1 user as primary, ordered by level."""
    found = from_entries([entry(3, "PC", None), entry(2, "PB", "S2"), entry(1, "PA", "S1")])
    first = primary(found)
    assert first is not None
    assert first.user_id == "PA"
    assert [o.level for o in found] == [1, 2, 3]


def test_one_schedule_in_two_policies_at_one_level_is_one_on_call() -> None:
    """The same user, level and schedule twice (two policies) is listed once."""
    found = from_entries([entry(1, "PA", "S1"), entry(1, "PA", "S1"), entry(1, "PB", "S0")])
    assert [(o.schedule_id, o.user_id) for o in found] == [("S0", "PB"), ("S1", "PA")]


def test_the_output_item_has_exactly_the_documented_keys() -> None:
    """An on-call's JSON has level, user_id, email, name, schedule_id, start and end."""
    item = OnCall(1, "PA", "a@example.com", "A", "S1", None, None).as_json()
    assert set(item) == {"level", "user_id", "email", "name", "schedule_id", "start", "end"}


def test_a_schedule_on_two_levels_is_read_in_one_request(
    sandbox: Sandbox, pagerduty: PagerDutyClient
) -> None:
    """PSC7PAY (level 2 of PNIGHTS listed before level 1 of PPAYMNT) answers Bob at level 1."""
    found = on_call_now(pagerduty, now=datetime.now(UTC), schedule_id="PSC7PAY")
    assert (found[0].level, found[0].email) == (1, "bob@example.com")
    (request,) = sent(sandbox)
    assert request["query"]["schedule_ids[]"] == ["PSC7PAY"]
    assert request["query"]["include[]"] == ["users"]
    assert contract_problems(sandbox) == []


def test_a_schedule_outside_every_policy_is_read_from_its_final_schedule(
    sandbox: Sandbox, pagerduty: PagerDutyClient
) -> None:
    """PSC9REL is absent from /oncalls: its final schedule names Alice, with her email, in 3."""
    found = on_call_now(pagerduty, now=datetime.now(UTC), schedule_id="PSC9REL")
    assert [(o.level, o.email) for o in found] == [(None, "alice@example.com")]
    paths = [e["path"].removeprefix("/pagerduty") for e in sent(sandbox)]
    assert paths == ["/oncalls", "/schedules/PSC9REL", "/users/PXPGF42"]
    assert contract_problems(sandbox) == []


def test_a_service_is_read_through_its_policy(sandbox: Sandbox, pagerduty: PagerDutyClient) -> None:
    """PSVCPAY's policy PPAYMNT is read for its on-calls: Bob at level 1, in two requests."""
    found = on_call_now(pagerduty, now=datetime.now(UTC), service_id="PSVCPAY")
    assert found[0].email == "bob@example.com"
    requests = sent(sandbox)
    assert len(requests) == 2
    assert requests[1]["query"]["escalation_policy_ids[]"] == ["PPAYMNT"]


def test_a_shift_based_schedule_is_refused_plainly(pagerduty: PagerDutyClient) -> None:
    """PSC5SFT (v3) is refused with a message that says shift-based and names schedule_id."""
    with pytest.raises(PagerDutyError) as caught:
        on_call_now(pagerduty, now=datetime.now(UTC), schedule_id="PSC5SFT")
    assert "shift-based (v3)" in caught.value.message_template
    assert "schedule_id" in caught.value.hint_template


# --- the writes ---------------------------------------------------------------------------------


def cover(pagerduty: PagerDutyClient, hours: int = 4) -> Cover:
    """Carol asked on PSC7PAY from now for ``hours``."""
    now = datetime.now(UTC).replace(microsecond=0)
    schedule = schedules.get_schedule(pagerduty, "PSC7PAY", since=None, until=None)
    user = schedules.get_user(pagerduty, "PD8RZ2N")
    return Cover(schedule, user, now, now + timedelta(hours=hours))


def test_an_override_is_sent_in_the_plural_body_and_found_again(
    sandbox: Sandbox, pagerduty: PagerDutyClient
) -> None:
    """The create sends one plural item; its lost-answer check finds the same override."""
    asked = cover(pagerduty)
    write = CreateOverride("PSC7PAY", "PD8RZ2N", asked.start, asked.end)
    sandbox.clear_journal()
    made = write.send(Clients(pagerduty), asked)
    assert made is not None
    assert made.override is not None
    (post,) = sent(sandbox)
    assert post["body"]["overrides"][0]["user"] == {"id": "PD8RZ2N", "type": "user_reference"}
    assert "override" not in post["body"]
    found = write.landed(Clients(pagerduty), asked)
    assert found is not None
    assert found.override is not None
    assert found.override.id == made.override.id
    assert contract_problems(sandbox) == []


def test_an_item_refused_inside_the_201_fails_with_pagerdutys_words(
    pagerduty: PagerDutyClient,
) -> None:
    """An override ending before it starts answers 201 with a 400 item: that is a failure."""
    asked = cover(pagerduty)
    write = CreateOverride("PSC7PAY", "PD8RZ2N", asked.end, asked.start)
    with pytest.raises(PagerDutyError, match="Override must end after its start"):
        write.send(Clients(pagerduty), asked)


def test_a_wrapped_answer_without_statuses_is_read_as_made() -> None:
    """The {"overrides": [...]} shape of PagerDuty's guide counts each override as made."""
    item = {"id": "Q1", "start": "s", "end": "e", "user": {"id": "P1"}}
    result = schedules.OverrideResult.model_validate(schedules._as_result(item))
    assert (result.status, result.override) == (201, item)


def test_a_404_after_a_lost_answer_counts_as_removed_but_not_at_the_first_try(
    pagerduty: PagerDutyClient,
) -> None:
    """The delete rechecks a 404 only once it has been sent before (the answer may be lost)."""
    error = PagerDutyError("gone", status=404, code=4004)
    write = DeleteOverride("PSC7PAY", "PO7PAY1")
    assert not write.rechecks(error)
    write.send(Clients(pagerduty), None)
    assert not write.rechecks(error)
    with pytest.raises(PagerDutyError, match="no such override"):
        write.send(Clients(pagerduty), None)
    assert write.rechecks(error)
    assert write.landed(Clients(pagerduty), None) is not None


def held_override(start: datetime, hours: int) -> schedules.Override:
    """Alice's override from ``start`` for ``hours``."""
    return schedules.Override.model_validate(
        {
            "id": "QOLD",
            "start": iso(start),
            "end": iso(start + timedelta(hours=hours)),
            "user": {"id": "PXPGF42"},
        }
    )


@pytest.mark.parametrize(
    ("started_now", "hours", "same"),
    [(True, 4, True), (True, 2, False), (False, 4, False)],
    ids=["rerun-of-now", "other-length", "start-given"],
)
def test_a_rerun_whose_now_was_earlier_finds_the_override_under_way(
    started_now: bool, hours: int, same: bool
) -> None:
    """With start left to now, Alice's 4h override begun 5 minutes ago is the one asked again;
    another length, or a start given, is not."""
    now = NOW.replace(microsecond=0)
    schedule = schedules.Schedule(id="PSC7PAY")
    asked = Cover(schedule, User(id="PXPGF42"), now, now + timedelta(hours=4))
    found = same_in(
        [held_override(now - timedelta(minutes=5), hours)], asked, started_now=started_now
    )
    assert (found.override is not None) is same
    if same:
        assert found.start == now - timedelta(minutes=5)
