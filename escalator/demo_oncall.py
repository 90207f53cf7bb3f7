"""``escalator demo --oncall``: the on-call operations against the embedded sandbox, end to end.

Four clicks in Port on the schedule entity ``PSC7PAY``, in a sandbox shaped as Port's PagerDuty
integration (it has the ``pagerdutyOncall`` blueprint): who is on call, take the pager for 4h,
the same click again (nothing sent), hand the pager back. Each runs ``entrypoint.py`` as the
GitHub runner would, as :mod:`escalator.demo` does for the incident operations.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from escalator.clients.port import PortClient
from escalator.demo import _heading, _run_step  # the demo's own step runner
from escalator.http import Deadline, Policy
from escalator.kit import definitions
from escalator.sandbox import Sandbox, seed

SCHEDULE = "PSC7PAY"
#: (operation, inputs beyond those of every step)
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("oncall", {}),
    ("override", {"end": "4h"}),
    ("override", {"end": "4h"}),
    ("remove-override", {}),
)


def run_oncall_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run the on-call steps on the demo schedule; returns the first failing step's exit code,
    or 0."""
    started = time.monotonic()
    with (
        Sandbox(blueprint_shape="integration") as sandbox,
        tempfile.TemporaryDirectory(prefix="escalator-demo-") as tmp,
    ):
        code, counts = 0, []
        for number, (operation, asked) in enumerate(STEPS, start=1):
            run_id = _start_port_run(sandbox, operation)
            workspace = Path(tmp) / f"step-{number}"
            workspace.mkdir()
            inputs = _inputs(sandbox, operation, asked, run_id, dry_run)
            code = _run_step(number, operation, inputs, workspace, path)
            counts.append(len(sandbox.journal()))
            if code != 0:
                break
        _show_overrides(sandbox.state())
        print(
            f"\nRequests per run: {', '.join(map(str, counts))}; demo took "
            f"{time.monotonic() - started:.2f} s. Sandbox stopped."
        )
        return code


def _inputs(
    sandbox: Sandbox, operation: str, asked: dict[str, str], run_id: str, dry_run: bool
) -> dict[str, str]:
    """The step's inputs, as the kit's Port action and workflow pass them."""
    context = {"blueprint": "pagerdutySchedule", "entity": SCHEDULE, "run_id": run_id}
    return {
        "operation": operation,
        **asked,
        "from": seed.FROM_EMAIL,
        "port_context": json.dumps(context),
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "pagerduty_api_url": sandbox.pagerduty_url,
        "port_api_url": sandbox.port_url,
        "dry_run": "true" if dry_run else "false",
    }


def _start_port_run(sandbox: Sandbox, operation: str) -> str:
    """Start a run of the kit's action for ``operation`` on the schedule, as a click does."""
    action = definitions.action_template(operation)["identifier"]
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
            f"/v1/actions/{action}/runs",
            json_body={"entity": SCHEDULE, "properties": {}},
        )
    sandbox.clear_journal()  # the demo's own calls are not the action's
    return str(answer["run"]["id"])


def _show_overrides(state: dict[str, Any]) -> None:
    """The schedule's overrides and Port's on-call entities at the end."""
    _heading(f"Overrides on {SCHEDULE} at the end")
    for override in state["pagerduty"]["overrides"][SCHEDULE]:
        user = override["user"].get("summary") or override["user"]["id"]
        print(f"  {override['id']}: {user} {override['start']} .. {override['end']}")
    _heading("Port's pagerdutyOncall entities")
    for identifier, entity in state["port"]["entities"].get("pagerdutyOncall", {}).items():
        print(f"  {identifier}: {entity['properties'].get('user')}")
