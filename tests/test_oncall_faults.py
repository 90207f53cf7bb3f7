"""The fault matrix of the override writes: a lost answer, a 5xx, a 429 on the create and on the
delete, and on the reads before them. Whatever happens, PagerDuty ends with exactly one override
(or none, after the delete), and the run says what PagerDuty holds. Retry waits pass on a clock
the test controls (no real sleep)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from escalator.http.deadline import use_clock
from escalator.inputs.times import parse_instant
from escalator.sandbox import Sandbox, seed
from tests.e2e import RunResult, SkippingClock, run_in_process

SCHEDULE = "PSC7PAY"
ALICE = "PXPGF42"
OVERRIDES = f"/pagerduty/schedules/{SCHEDULE}/overrides"

#: name -> (method, path, steps): one fault on one call of the run
FAULTS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {
    "create-lost-answer": ("POST", OVERRIDES, [{"fault": "reset_after"}]),
    "create-reset-before": ("POST", OVERRIDES, [{"fault": "reset"}]),
    "create-malformed-answer": ("POST", OVERRIDES, [{"fault": "malformed"}]),
    "create-5xx": ("POST", OVERRIDES, [{"status": 503}]),
    "create-5xx-twice": ("POST", OVERRIDES, [{"status": 502}, {"status": 500}]),
    "create-429": ("POST", OVERRIDES, [{"status": 429, "headers": {"Retry-After": "1"}}]),
    "list-5xx": ("GET", OVERRIDES, [{"status": 503}]),
    "list-429": ("GET", OVERRIDES, [{"status": 429, "headers": {"ratelimit-reset": "1"}}]),
    "delete-lost-answer": ("DELETE", OVERRIDES + "/*", [{"fault": "reset_after"}]),
    "delete-5xx": ("DELETE", OVERRIDES + "/*", [{"status": 503}]),
    "delete-429": ("DELETE", OVERRIDES + "/*", [{"status": 429, "headers": {"Retry-After": "1"}}]),
}


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One sandbox for the module, in the integration's shape (it has ``pagerdutyOncall``)."""
    with Sandbox(blueprint_shape="integration") as sandbox:
        yield sandbox


def run(sandbox: Sandbox, folder: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` from the schedule entity as Alice, on a clock that skips retry waits."""
    context = {"blueprint": "pagerdutySchedule", "entity": SCHEDULE, "run_id": seed.DEMO_RUN_ID}
    with use_clock(SkippingClock()):
        return run_in_process(
            sandbox,
            folder,
            operation=operation,
            port_context=json.dumps(context),
            timeout_seconds="20",
            **{"from": seed.FROM_EMAIL},
            **inputs,
        )


def alices(sandbox: Sandbox) -> list[dict[str, Any]]:
    """Alice's overrides on the schedule, as the sandbox holds them."""
    found = sandbox.state()["pagerduty"]["overrides"][SCHEDULE]
    return [o for o in found if o["user"]["id"] == ALICE]


def applied(sandbox: Sandbox, method: str) -> int:
    """How many ``method`` requests to the schedule's overrides changed the sandbox."""
    return sum(
        1
        for e in sandbox.journal()
        if e["method"] == method and e["path"].startswith(OVERRIDES) and e["applied"]
    )


@pytest.mark.parametrize("fault", [name for name in FAULTS if not name.startswith("delete")])
def test_a_fault_around_the_create_never_makes_a_second_override(
    fault: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The run ends with exactly one override of Alice, made by one applied POST, and says so."""
    method, path, steps = FAULTS[fault]
    sandbox.set_faults([{"method": method, "path": path, "steps": steps}])
    result = run(sandbox, tmp_path, "override", end="4h")
    assert result.returncode == 0, result.stdout
    assert sandbox.faults.describe()["faults"][0]["used"] == len(steps)
    (made,) = alices(sandbox)
    assert applied(sandbox, "POST") == 1
    assert result.outputs["override_id"] == made["id"]
    assert result.outputs["changed"] == "true"


@pytest.mark.parametrize("fault", [name for name in FAULTS if name.startswith("delete")])
def test_a_fault_around_the_delete_removes_the_override_once(
    fault: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """After taking the pager, handing it back under a fault leaves Alice on call no longer (the
    override under way is cut short by one applied DELETE) and exits 0."""
    taken = run(sandbox, tmp_path / "take", "override", end="4h")
    assert taken.returncode == 0, taken.stdout
    sandbox.clear_journal()
    method, path, steps = FAULTS[fault]
    sandbox.set_faults([{"method": method, "path": path, "steps": steps}])
    result = run(sandbox, tmp_path / "back", "remove-override")
    assert result.returncode == 0, result.stdout
    assert sandbox.faults.describe()["faults"][0]["used"] == len(steps)
    now = datetime.now(UTC)
    assert [o for o in alices(sandbox) if parse_instant(o["end"]) > now] == []
    assert applied(sandbox, "DELETE") == 1
    assert result.outputs["override_id"] == taken.outputs["override_id"]
