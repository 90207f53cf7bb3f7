"""``escalator demo --oncall``: the on-call operations against the embedded sandbox, end to end.

Four clicks in Port on the schedule entity ``PSC7PAY``, in a sandbox shaped as Port's PagerDuty
integration (it has the ``pagerdutyOncall`` blueprint): who is on call, take the pager for 4h,
the same click again (nothing sent), hand the pager back. Each runs ``entrypoint.py`` as the
GitHub runner would, with the steps of :mod:`escalator.demo_steps`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from escalator.demo_steps import heading, run_steps, start_port_run, step_inputs
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
    with Sandbox(blueprint_shape="integration") as sandbox:
        steps = [
            (operation, _inputs_for(sandbox, operation, asked, dry_run))
            for operation, asked in STEPS
        ]
        code, sent = run_steps(sandbox, steps, path)
        _show_overrides(sandbox.state())
        print(
            f"\nRequests per run: {', '.join(str(len(journal)) for journal in sent)}; demo took "
            f"{time.monotonic() - started:.2f} s. Sandbox stopped."
        )
        return code


def _inputs_for(
    sandbox: Sandbox, operation: str, asked: dict[str, str], dry_run: bool
) -> Callable[[int], dict[str, str]]:
    """The step's inputs, as the kit's Port action and workflow pass them, once its Port run on
    the schedule is started, as a click does."""

    def inputs(_number: int) -> dict[str, str]:
        action = definitions.action_template(operation)["identifier"]
        run_id = start_port_run(sandbox, action, {"entity": SCHEDULE, "properties": {}})
        context = {"blueprint": "pagerdutySchedule", "entity": SCHEDULE, "run_id": run_id}
        caller = {"from": seed.FROM_EMAIL}
        return step_inputs(sandbox, operation, asked, context, dry_run=dry_run, caller=caller)

    return inputs


def _show_overrides(state: dict[str, Any]) -> None:
    """The schedule's overrides and Port's on-call entities at the end."""
    heading(f"Overrides on {SCHEDULE} at the end")
    for override in state["pagerduty"]["overrides"][SCHEDULE]:
        user = override["user"].get("summary") or override["user"]["id"]
        print(f"  {override['id']}: {user} {override['start']} .. {override['end']}")
    heading("Port's pagerdutyOncall entities")
    for identifier, entity in state["port"]["entities"].get("pagerdutyOncall", {}).items():
        print(f"  {identifier}: {entity['properties'].get('user')}")
