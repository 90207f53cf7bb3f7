"""Retries bounded by the run's deadline: a busy service (429, 503) is asked again until the
deadline, with jitter on the wait it asks for; other failures keep a few attempts; every wait
goes through the clock the test controls."""

from __future__ import annotations

import threading

import responses

from escalator.http import Deadline, Policy, Transport
from escalator.http.deadline import SystemClock, use_clock
from escalator.http.policy import MAX_JITTER, PATIENT_FLOOR
from tests.clocks import StepClock

API = "https://api.example.test"


def transport(clock: StepClock, seconds: float = 120.0) -> Transport:
    return Transport("PagerDuty", API, headers={}, deadline=Deadline(seconds, clock))


def test_a_429_is_retried_past_four_attempts_while_the_deadline_allows(
    wire: responses.RequestsMock,
) -> None:
    """Ten 429s with Retry-After: 1 are waited out; the eleventh answer is the read's."""
    clock = StepClock(start=5000.0)
    for _ in range(10):
        wire.get(f"{API}/x", status=429, headers={"Retry-After": "1"})
    wire.get(f"{API}/x", json={"ok": True})
    answer = transport(clock).request(Policy.READ, "GET", "/x")
    assert answer.status == 200
    assert len(wire.calls) == 11
    assert all(1.0 <= wait <= 2.0 for wait in clock.slept), clock.slept
    assert len(set(clock.slept)) > 1  # jittered, so many runs do not return together


def test_a_429_on_a_write_is_retried_until_the_deadline_and_no_longer(
    wire: responses.RequestsMock,
) -> None:
    """A write rate limited for good is sent again until the deadline leaves no room, then
    fails naming the deadline; it never outlives the deadline."""
    clock = StepClock(start=5000.0)
    started = clock.now
    wire.put(f"{API}/x", status=429, headers={"Retry-After": "5"})
    answer = transport(clock, seconds=60).request(Policy.WRITE, "PUT", "/x", json_body={})
    assert answer.status == 429  # the client turns the last 429 into its error
    assert len(wire.calls) > 4
    assert clock.now - started <= 60
    # no retry was left out while a wait and one more attempt (10 s) still fitted
    assert 60 - (clock.now - started) < 5 + MAX_JITTER + 10


def test_a_503_on_a_read_is_retried_past_four_attempts(wire: responses.RequestsMock) -> None:
    """A 503 says "busy": a read is asked again beyond the four attempts of other failures."""
    clock = StepClock(start=5000.0)
    for _ in range(6):
        wire.get(f"{API}/x", status=503)
    wire.get(f"{API}/x", json={"ok": True})
    assert transport(clock).request(Policy.READ, "GET", "/x").status == 200
    assert len(wire.calls) == 7


def test_other_failures_keep_four_attempts_between_503s(wire: responses.RequestsMock) -> None:
    """500s count against the four attempts even when 503s come between them."""
    clock = StepClock(start=5000.0)
    for status in (500, 503, 500, 503, 500, 503, 500):
        wire.get(f"{API}/x", status=status)
    answer = transport(clock).request(Policy.READ, "GET", "/x")
    assert answer.status == 500
    assert [call.response.status_code for call in wire.calls].count(500) == 4  # type: ignore[union-attr]


def test_a_503_on_a_write_is_not_sent_again(wire: responses.RequestsMock) -> None:
    """A write's 503 may have been applied: it stays the answer, as before."""
    clock = StepClock(start=5000.0)
    wire.put(f"{API}/x", status=503)
    answer = transport(clock).request(Policy.WRITE, "PUT", "/x", json_body={})
    assert answer.status == 503
    assert len(wire.calls) == 1
    assert clock.slept == []


def test_a_busy_service_is_never_asked_again_at_once(wire: responses.RequestsMock) -> None:
    """Retry-After: 0 still waits the floor, so a storm cannot spin."""
    clock = StepClock(start=5000.0)
    for _ in range(3):
        wire.get(f"{API}/x", status=429, headers={"Retry-After": "0"})
    wire.get(f"{API}/x", json={})
    transport(clock).request(Policy.READ, "GET", "/x")
    assert len(clock.slept) == 3
    assert all(wait >= PATIENT_FLOOR for wait in clock.slept), clock.slept


def test_the_jitter_of_a_long_wait_is_bounded() -> None:
    """The server's 30 s wait gets at most MAX_JITTER more, never less than asked."""
    rules = Policy.READ.rules
    waits = [rules.wait(1, 429, 30.0) for _ in range(100)]
    assert all(30.0 <= wait <= 30.0 + MAX_JITTER for wait in waits)
    assert max(waits) - min(waits) > 0.1


def test_a_deadline_takes_the_clock_set_for_its_thread() -> None:
    """use_clock sets the clock of the deadlines made in its block, in its thread only."""
    clock = StepClock(start=5000.0)
    seen: list[object] = []
    with use_clock(clock):
        inside = Deadline(10)
        worker = threading.Thread(target=lambda: seen.append(Deadline(10).clock))
        worker.start()
        worker.join()
    assert inside.clock is clock
    assert isinstance(seen[0], SystemClock)
    assert isinstance(Deadline(10).clock, SystemClock)


def test_the_run_shares_one_budget_across_requests(wire: responses.RequestsMock) -> None:
    """Two requests on one deadline: the first one's waits leave the second less time."""
    clock = StepClock(start=5000.0)
    wire.get(f"{API}/a", status=429, headers={"Retry-After": "20"})
    wire.get(f"{API}/a", json={})
    wire.get(f"{API}/b", status=429, headers={"Retry-After": "20"})
    shared = transport(clock, seconds=40)
    assert shared.request(Policy.READ, "GET", "/a").status == 200
    # 20 s or more are spent: a second 20 s wait plus a 10 s attempt no longer fits
    assert shared.request(Policy.READ, "GET", "/b").status == 429
    assert len(clock.slept) == 1
