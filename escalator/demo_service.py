"""``escalator demo --create-service``: the kit's "Create Service" action run twice on the sandbox.

Two clicks in Port on the same name: the first creates the PagerDuty service and its Events API
v2 integration, the second finds it and creates nothing, with the same ID and routing key. Each
run is ``entrypoint.py`` as the GitHub runner starts it (:mod:`escalator.demo_steps`); the
routing key is shown only as the job log shows it, masked.
"""

from __future__ import annotations

import json
import time

from escalator.demo_steps import heading, run_steps, show_requests, start_port_run, step_inputs
from escalator.sandbox import Sandbox, seed

ACTION = "pagerdutyService_create_service"
NAME = "Payments"
POLICY = "PPAYMNT"


def run_service_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run "Create Service" twice with one name; returns the first failing exit code, or 0."""
    started = time.monotonic()
    with Sandbox() as sandbox:

        def inputs(_number: int) -> dict[str, str]:
            return _inputs(sandbox, _start_run(sandbox), dry_run)

        code, sent = run_steps(sandbox, [("create-service", inputs)] * 2, path)
        _show_services(sandbox)
        show_requests([f"run {number}" for number in range(1, len(sent) + 1)], sent)
        print(f"\nDemo took {time.monotonic() - started:.2f} s. Sandbox stopped.")
        return code


def _inputs(sandbox: Sandbox, run_id: str, dry_run: bool) -> dict[str, str]:
    """The step's inputs, as the kit's "Create Service" action and the workflow pass them."""
    asked = {"service_name": NAME, "escalation_policy_id": POLICY, "description": "Card payments"}
    context = {"blueprint": "pagerdutyService", "run_id": run_id}
    caller = {"from": seed.FROM_EMAIL}
    return step_inputs(sandbox, "create-service", asked, context, dry_run=dry_run, caller=caller)


def _start_run(sandbox: Sandbox) -> str:
    """Start a run of the kit's "Create Service" action, as a click in Port does."""
    body = {"properties": {"service_name": NAME, "escalation_policy_id": POLICY}}
    return start_port_run(sandbox, ACTION, body)


def _show_services(sandbox: Sandbox) -> None:
    state = sandbox.state()
    heading("What changed in PagerDuty and Port")
    named = [s for s in state["pagerduty"]["services"].values() if s["name"] == NAME]
    for service in named:
        integrations = [i["id"] for i in service["integrations"]]
        print(f"  service {service['id']} {service['name']!r}: integrations {integrations}")
    entities = state["port"]["entities"].get("pagerdutyService", {})
    for service in named:
        entity = entities.get(service["id"])
        print(f"  entity pagerdutyService/{service['id']}: {json.dumps(entity)}")
