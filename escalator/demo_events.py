"""``escalator demo --events``: the Events API v2 operations against the embedded sandbox.

Four runs, as clicks in Port on the payments-api service would make them: "Trigger Alert" opens
an incident keyed by the Port run, the same run clicked again adds nothing, "resolve" with that
key resolves it, and a deploy posts a change event. Each runs ``entrypoint.py`` as the GitHub
runner would (``escalator.demo_steps.run_steps``); the routing key is shown as the secret it is.
"""

from __future__ import annotations

from collections.abc import Callable

from escalator.clients.bodies import EVENT_ACTIONS
from escalator.demo_steps import run_steps, step_inputs
from escalator.operations.change_event import ChangeEventOperation
from escalator.operations.trigger import Trigger
from escalator.sandbox import Sandbox, seed
from escalator.sandbox.services import SEEDED_INTEGRATIONS

SERVICE = "PSVCPAY"
ROUTING_KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == SERVICE)
RUN_KEY = f"port-{seed.DEMO_RUN_ID}"
RESOLVE = EVENT_ACTIONS[-1]
ALERT = {"title": "Card payments failing", "severity": "critical"}
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    (Trigger.name, ALERT),
    (Trigger.name, ALERT),
    (Trigger.name, {"event_action": RESOLVE, "dedup_key": RUN_KEY}),
    (
        ChangeEventOperation.name,
        {"title": "Deployed payments-api 2.4.2", "details": '{"version": "2.4.2"}'},
    ),
)


def run_events_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run the event steps against a fresh sandbox; the first failing step's exit code, or 0."""
    with Sandbox() as sandbox:
        steps = [
            (operation, _inputs_for(sandbox, operation, asked, dry_run))
            for operation, asked in STEPS
        ]
        code, _sent = run_steps(sandbox, steps, path)
        pd = sandbox.state()["pagerduty"]
        print("\n== What PagerDuty holds")
        for incident in pd["incidents"].values():
            if incident["incident_key"] == RUN_KEY:
                number, status = incident["incident_number"], incident["status"]
                print(f"  incident #{number} {incident['id']}: {status}")
        for event in pd["events"]:
            print(f"  event {event['event_action']} {event['dedup_key']}: {event['outcome']}")
        for change in pd["change_events"]:
            print(f"  change event on {change['service']}: {change['summary']}")
        return code


def _inputs_for(
    sandbox: Sandbox, operation: str, asked: dict[str, str], dry_run: bool
) -> Callable[[int], dict[str, str]]:
    """The step's inputs, as the kit's Port action and workflow pass them (the second trigger is
    the same Port run clicked again)."""
    context = {"blueprint": "pagerdutyService", "entity": SERVICE, "run_id": seed.DEMO_RUN_ID}
    if asked.get("event_action"):
        context.pop("run_id")  # another click: the demo's Port run is the trigger's
    caller = {"routing_key": ROUTING_KEY}
    inputs = step_inputs(
        sandbox, operation, asked, context, dry_run=dry_run, caller=caller, events=True
    )
    return lambda _number: inputs
