"""Create-service's fault matrix: each of its writes (the service, the integration) meets a lost
answer, a 5xx or a 429, and the run still ends with one service and one Events API v2 integration,
never a write applied twice; retry waits pass at once on a skipping clock.

The incident matrix (tests/matrix.py) checks the seed escalation's outcome; these cases check a
service's, so they are kept here with the same sandbox, clock and harness.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from escalator.http.deadline import use_clock
from escalator.sandbox import Sandbox
from tests.e2e import REAL_SHAPED_CREDENTIALS, SkippingClock, run_in_process
from tests.matrix import ATTEMPT_TIMEOUT, TIMEOUT, settled_journal
from tests.secret_scan import captured, leaks

PD = "/pagerduty"
NAME = "Payments"
WRITES = {"create": f"{PD}/services", "integration": f"{PD}/services/*/integrations"}
HANG_AFTER = {"fault": "hang_after", "seconds": ATTEMPT_TIMEOUT + 2}
#: name -> steps; every one ends with the write applied once
FAULTS: dict[str, list[dict[str, Any]]] = {
    "reset-after": [{"fault": "reset_after"}],
    "hang-after": [HANG_AFTER],
    "truncated": [{"fault": "truncated"}],
    "5xx-once": [{"status": 503}],
    "5xx-twice": [{"status": 502}, {"status": 500}],
    "429": [{"status": 429, "headers": {"ratelimit-reset": "1"}}],
    "reset-before": [{"fault": "reset"}],
}
CASES = [(write, fault) for write in WRITES for fault in FAULTS]


def applied(journal: list[dict[str, Any]], path_end: str) -> list[dict[str, Any]]:
    """The POSTs to PagerDuty ending in ``path_end`` that the sandbox applied."""
    return [
        e
        for e in journal
        if e["method"] == "POST"
        and e["path"].startswith(PD)
        and e["path"].endswith(path_end)
        and e.get("applied")
    ]


@pytest.mark.parametrize(("write", "fault"), CASES, ids=[f"{w}-{f}" for w, f in CASES])
def test_a_fault_on_a_write_never_applies_it_twice(tmp_path: Path, write: str, fault: str) -> None:
    """One service and one integration, the outputs agree with PagerDuty, the key only in its
    output, and the run within its deadline."""
    faults = [{"method": "POST", "path": WRITES[write], "steps": FAULTS[fault]}]
    with Sandbox(faults=faults) as sandbox, use_clock(SkippingClock()) as clock:
        inputs = {
            "operation": "create-service",
            "service_name": NAME,
            "escalation_policy_id": "PPAYMNT",
            "timeout_seconds": str(TIMEOUT),
            **REAL_SHAPED_CREDENTIALS,
        }
        result = run_in_process(sandbox, tmp_path, **inputs)
        journal = settled_journal(sandbox)
        state = sandbox.state()
    assert result.returncode == 0, result.stdout
    services = [s for s in state["pagerduty"]["services"].values() if s["name"] == NAME]
    assert len(services) == 1
    assert len(services[0]["integrations"]) == 1
    assert result.outputs["service_id"] == services[0]["id"]
    assert len(applied(journal, "/services")) == 1
    assert len(applied(journal, "/integrations")) == 1
    pd = [e for e in journal if e["path"].startswith(PD)]
    assert len(pd) <= (7 if fault == "5xx-twice" else 5)
    key = result.outputs["routing_key"]
    places = captured(result)
    places["outputs"] = places["outputs"].replace(key, "")
    assert len(key) == 32
    assert leaks([key], places) == []
    assert result.elapsed + clock.skipped < TIMEOUT + 3
