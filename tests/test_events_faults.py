"""The fault matrix of the Events API v2 writes: 429 and 5xx retried within the deadline, a 400
not retried, a lost alert event sent again with the same dedup key (PagerDuty groups it, so never
a second incident), a lost change event never sent again; and the incident an event opened read
again while PagerDuty has not ingested it yet. Each run is scanned for the routing key.

The incident operations' matrix (:mod:`tests.matrix`) checks one escalation's outcome; these
cases check an event's, under the same skipping clock: no retry waits on the real clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from escalator.http.deadline import use_clock
from escalator.sandbox import Sandbox, seed
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from tests.e2e import RunResult, SkippingClock, run_in_process
from tests.matrix import settled_journal
from tests.secret_scan import captured, leaks, service_side

KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")
CONTEXT = json.dumps(
    {"blueprint": "pagerdutyService", "entity": "PSVCPAY", "run_id": seed.DEMO_RUN_ID}
)
RUN_KEY = f"port-{seed.DEMO_RUN_ID}"
ENQUEUE = "/events/v2/enqueue"
CHANGE = "/events/v2/change/enqueue"
TIMEOUT = "20"


@dataclass(frozen=True)
class Case:
    """One fault on one Events API call, and what the run must end with."""

    path: str
    steps: list[dict[str, Any]]
    exit_code: int
    #: requests that reached the route (faulted ones included)
    attempts: int
    #: incidents holding the run's key, or change events kept
    made: int
    message: str = ""
    repeat_last: bool = False


CASES: dict[str, Case] = {
    "trigger-429": Case(ENQUEUE, [{"status": 429, "headers": {"Retry-After": "2"}}], 0, 2, 1),
    "trigger-429-bare": Case(ENQUEUE, [{"status": 429}, {"status": 429}], 0, 3, 1),
    "trigger-5xx-once": Case(ENQUEUE, [{"status": 500}], 0, 2, 1),
    "trigger-503-twice": Case(ENQUEUE, [{"status": 503}, {"status": 503}], 0, 3, 1),
    "trigger-5xx-always": Case(
        ENQUEUE, [{"status": 502}], 1, 12, 0, "internal error", repeat_last=True
    ),
    "trigger-400": Case(ENQUEUE, [{"status": 400}], 1, 1, 0, "PagerDuty refused the event"),
    "trigger-reset-after": Case(ENQUEUE, [{"fault": "reset_after"}], 0, 2, 1),
    "trigger-reset-before": Case(ENQUEUE, [{"fault": "reset"}], 0, 2, 1),
    "trigger-malformed": Case(ENQUEUE, [{"fault": "malformed"}], 0, 2, 1),
    "trigger-hang-after": Case(ENQUEUE, [{"fault": "hang_after", "seconds": 8}], 0, 2, 1),
    "change-429": Case(CHANGE, [{"status": 429, "headers": {"Retry-After": "2"}}], 0, 2, 1),
    "change-5xx-once": Case(CHANGE, [{"status": 503}], 0, 2, 1),
    "change-400": Case(CHANGE, [{"status": 400}], 1, 1, 0, "PagerDuty refused the event"),
    "change-reset-after": Case(CHANGE, [{"fault": "reset_after"}], 1, 1, 1, "not sent again"),
    "change-malformed": Case(CHANGE, [{"fault": "malformed"}], 0, 1, 1),
}


@dataclass
class Ran:
    result: RunResult
    journal: list[dict[str, Any]]
    state: dict[str, Any]
    clock: SkippingClock


def execute(case: Case, folder: Path) -> Ran:
    """Run the case's operation against its own sandbox under a skipping clock."""
    fault = {"method": "POST", "path": case.path, "steps": case.steps}
    fault["repeat_last"] = case.repeat_last
    inputs = {"routing_key": KEY, "port_context": CONTEXT, "timeout_seconds": TIMEOUT}
    if case.path == ENQUEUE:
        inputs |= {"operation": "trigger", "title": "Card payments failing"}
    else:
        inputs |= {"operation": "change-event", "title": "Deployed 2.4.1"}
    with Sandbox(faults=[fault]) as sandbox, use_clock(SkippingClock()) as clock:
        result = run_in_process(sandbox, folder, **inputs)
        return Ran(result, settled_journal(sandbox), sandbox.state(), clock)


def made(ran: Ran, case: Case) -> int:
    if case.path == ENQUEUE:
        incidents = ran.state["pagerduty"]["incidents"].values()
        return sum(1 for incident in incidents if incident["incident_key"] == RUN_KEY)
    return len(ran.state["pagerduty"]["change_events"])


@pytest.mark.parametrize("name", CASES)
def test_event_fault(name: str, tmp_path: Path) -> None:
    """Each fault ends as the case says: attempts, what PagerDuty made (never two), the exit
    code and message, and the routing key nowhere."""
    case = CASES[name]
    ran = execute(case, tmp_path)
    attempts = [entry for entry in ran.journal if entry["path"] == case.path]
    assert ran.result.returncode == case.exit_code, ran.result.stdout
    assert len(attempts) == case.attempts
    assert made(ran, case) == case.made
    assert case.message in ran.result.stdout
    if case.path == ENQUEUE:
        assert {entry["body"]["dedup_key"] for entry in attempts} == {RUN_KEY}
    places = captured(ran.result) | service_side(ran.journal, ran.state)
    assert leaks([KEY], places) == []
    assert ran.clock.skipped < float(TIMEOUT)


def test_the_incident_is_read_again_until_pagerduty_has_ingested_the_event(
    tmp_path: Path,
) -> None:
    """The read after the trigger finds nothing at first (ingestion is asynchronous): it waits
    and reads again, then reports and upserts the incident."""
    empty = {"incidents": [], "limit": 25, "offset": 0, "more": False, "total": None}
    steps = [{"pass": True}, {"status": 200, "body": empty}, {"status": 200, "body": empty}]
    fault = {"method": "GET", "path": "/pagerduty/incidents", "steps": steps}
    inputs = {"routing_key": KEY, "port_context": CONTEXT, "title": "Card payments failing"}
    with Sandbox(faults=[fault]) as sandbox, use_clock(SkippingClock()) as clock:
        result = run_in_process(sandbox, tmp_path, operation="trigger", **inputs)
        journal = sandbox.journal()
    assert result.returncode == 0, result.stdout
    reads = [e for e in journal if e["path"] == "/pagerduty/incidents"]
    assert len(reads) == 4
    assert clock.waits[:2] == [0.5, 1.0]
    assert result.outputs["incident_status"] == "triggered"
    assert result.outputs["port_entity_identifier"] == result.outputs["incident_id"]
