"""``escalator demo``: the action's main job against the embedded sandbox, shown end to end.

Three runs on one incident, as three clicks in Port would make them: escalate it, acknowledge it
with a note, resolve it with a resolution. For each, it starts a Port run in the sandbox and runs
``entrypoint.py`` exactly as the GitHub runner would (:mod:`escalator.demo_steps`), then shows
what changed in PagerDuty and in Port. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from escalator.demo_steps import heading, run_steps, show_requests, start_port_run, step_inputs
from escalator.sandbox import Sandbox, seed

TARGET_POLICY = "PPLATFM"


def _incident_line(incident: dict[str, Any], state: dict[str, Any]) -> str:
    assignees = ", ".join(a["assignee"]["summary"] for a in incident.get("assignments", [])) or "—"
    level = state["pagerduty"]["escalation_levels"].get(incident["id"], "—")
    return (
        f"policy {incident['escalation_policy']['summary']} ({incident['escalation_policy']['id']})"
        f", level {level}, {incident['urgency']} urgency, {incident['status']}, "
        f"assigned to {assignees}, updated {incident['updated_at']}"
    )


#: The demo's three steps on one incident, as three clicks in Port would run them.
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("escalate", {"escalation_policy_id": TARGET_POLICY, "urgency": "high"}),
    ("acknowledge", {"note": "Looking at the card processor's dashboards."}),
    ("resolve", {"resolution": "Rolled back the card processor's config change."}),
)


def run_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run the demo's steps (escalate, acknowledge, resolve with a note) on the demo incident;
    returns the first failing step's exit code, or 0. ``path``: the PATH the steps run with
    (the face passes its own)."""
    started = time.monotonic()
    with Sandbox() as sandbox:
        before_state = sandbox.state()
        steps = [
            (operation, _inputs_for(sandbox, operation, asked, dry_run))
            for operation, asked in STEPS
        ]
        code, sent = run_steps(sandbox, steps, path)
        _show_changes(sandbox, before_state)
        show_requests([operation for operation, _asked in STEPS], sent)
        counts = ", ".join(str(len(journal)) for journal in sent)
        print(
            f"\nRequests per run: {counts}, one Port token each; demo took "
            f"{time.monotonic() - started:.2f} s. Sandbox stopped."
        )
        return code


def _inputs_for(
    sandbox: Sandbox, operation: str, asked: dict[str, str], dry_run: bool
) -> Callable[[int], dict[str, str]]:
    """The step's inputs, as the kit's Port action and workflow pass them, its Port run started
    when the step comes (the first is the sandbox's seeded run)."""

    def inputs(number: int) -> dict[str, str]:
        run_id = seed.DEMO_RUN_ID if number == 1 else _start_port_run(sandbox, operation)
        context = {
            "blueprint": "pagerdutyIncident",
            "entity": seed.DEMO_INCIDENT_ID,
            "run_id": run_id,
            "relations": {"pagerdutyService": ["PSVCPAY"]},
        }
        caller = {"from": seed.FROM_EMAIL}
        return step_inputs(sandbox, operation, asked, context, dry_run=dry_run, caller=caller)

    return inputs


def _start_port_run(sandbox: Sandbox, operation: str) -> str:
    """Start a run of the kit's action for ``operation``, as a click in Port does."""
    body = {"entity": seed.DEMO_INCIDENT_ID, "properties": {}}
    return start_port_run(sandbox, f"pagerdutyIncident_{operation}_incident", body)


def _show_changes(sandbox: Sandbox, before_state: dict[str, Any]) -> None:
    after_state = sandbox.state()
    incident_before = before_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    incident_after = after_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    heading("What changed in PagerDuty")
    print(f"  before: {_incident_line(incident_before, before_state)}")
    print(f"  after:  {_incident_line(incident_after, after_state)}")
    notes = after_state["pagerduty"].get("notes", {}).get(seed.DEMO_INCIDENT_ID, [])
    for note in notes:
        print(f"  note:   {note.get('content')}")
    heading("What changed in Port")
    port = after_state["port"]
    entity = port["entities"].get("pagerdutyIncident", {}).get(seed.DEMO_INCIDENT_ID)
    print("  entity pagerdutyIncident/" + seed.DEMO_INCIDENT_ID + ":")
    print("    " + json.dumps(entity, indent=2).replace("\n", "\n    "))
    for run_id, run in port["runs"].items():
        logs = port["run_logs"].get(run_id, [])
        if not logs:
            continue
        print(
            f"  run {run_id}: status {run['status']}, label {run.get('statusLabel')!r}, "
            f"link {run.get('link')}"
        )
        for log in logs:
            print(f"    log: {log['message']}")
