"""``escalator demo --create-service``: the kit's "Create Service" action run twice on the sandbox.

Two clicks in Port on the same name: the first creates the PagerDuty service and its Events API
v2 integration, the second finds it and creates nothing, with the same ID and routing key. Each
run is ``entrypoint.py`` as the GitHub runner starts it (:mod:`escalator.demo`); the routing key
is shown only as the job log shows it, masked.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from escalator.clients.port import PortClient
from escalator.demo import _heading, _run_step
from escalator.http import Deadline, Policy
from escalator.sandbox import Sandbox, seed

ACTION = "pagerdutyService_create_service"
NAME = "Payments"
POLICY = "PPAYMNT"


def run_service_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run "Create Service" twice with one name; returns the first failing exit code, or 0."""
    started = time.monotonic()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="escalator-demo-") as tmp:
        code = 0
        sent: list[list[dict[str, Any]]] = []
        for number in (1, 2):
            run_id = _start_run(sandbox)
            workspace = Path(tmp) / f"step-{number}"
            workspace.mkdir()
            inputs = _inputs(sandbox, run_id, dry_run)
            code = _run_step(number, "create-service", inputs, workspace, path)
            sent.append(sandbox.journal())
            if code != 0:
                break
        _show_services(sandbox)
        _heading("Requests the action sent")
        for number, journal in enumerate(sent, start=1):
            print(f"  run {number}:")
            for entry in journal:
                print(f"    {entry['status']} {entry['method']:5} {entry['path']}")
        print(f"\nDemo took {time.monotonic() - started:.2f} s. Sandbox stopped.")
        return code


def _inputs(sandbox: Sandbox, run_id: str, dry_run: bool) -> dict[str, str]:
    """The step's inputs, as the kit's "Create Service" action and the workflow pass them."""
    return {
        "operation": "create-service",
        "service_name": NAME,
        "escalation_policy_id": POLICY,
        "description": "Card payments",
        "from": seed.FROM_EMAIL,
        "port_context": json.dumps({"blueprint": "pagerdutyService", "run_id": run_id}),
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "pagerduty_api_url": sandbox.pagerduty_url,
        "port_api_url": sandbox.port_url,
        "dry_run": "true" if dry_run else "false",
    }


def _start_run(sandbox: Sandbox) -> str:
    """Start a run of the kit's "Create Service" action, as a click in Port does."""
    port = PortClient.connect(
        sandbox.port_url,
        client_id=seed.PORT_CLIENT_ID,
        client_secret=seed.PORT_CLIENT_SECRET,
        deadline=Deadline(10),
    )  # no environment passed: loopback only, never through a proxy
    with port.transport:
        answer = port.request(
            Policy.RUN_UPDATE,  # sent once, never repeated
            "POST",
            f"/v1/actions/{ACTION}/runs",
            json_body={"properties": {"service_name": NAME, "escalation_policy_id": POLICY}},
        )
    sandbox.clear_journal()  # the demo's own calls are not the action's
    return str(answer["run"]["id"])


def _show_services(sandbox: Sandbox) -> None:
    state = sandbox.state()
    _heading("What changed in PagerDuty and Port")
    named = [s for s in state["pagerduty"]["services"].values() if s["name"] == NAME]
    for service in named:
        integrations = [i["id"] for i in service["integrations"]]
        print(f"  service {service['id']} {service['name']!r}: integrations {integrations}")
    entities = state["port"]["entities"].get("pagerdutyService", {})
    for service in named:
        entity = entities.get(service["id"])
        print(f"  entity pagerdutyService/{service['id']}: {json.dumps(entity)}")
