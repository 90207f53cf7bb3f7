"""The demos' shared steps: start a Port run in the sandbox as a click does, give a step the inputs
the kit's action and workflow pass, run ``entrypoint.py`` exactly as the GitHub runner would (every
``INPUT_*`` with its default, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, a temporary workspace as
the working directory), and show the step, its job log, outputs and summary. Each demo
(:mod:`escalator.demo` and its siblings) is its own script of these steps.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from escalator.clients.port import PortClient
from escalator.faces.action import input_env_name
from escalator.http import Deadline, Policy
from escalator.inputs import DEFAULTS, INPUT_NAMES
from escalator.sandbox import Sandbox, seed
from escalator.step_files import read_outputs

ENTRYPOINT = Path(__file__).resolve().parent.parent / "entrypoint.py"

#: The secrets as a workflow passes them (the names the README and examples/ use).
SECRET_NAMES = {
    "pagerduty_token": "PAGERDUTY_API_KEY",
    "port_client_id": "PORT_CLIENT_ID",
    "port_client_secret": "PORT_CLIENT_SECRET",
    "routing_key": "PAGERDUTY_ROUTING_KEY",
}


def heading(text: str) -> None:
    """A section's heading: bold on a terminal, ``== text`` otherwise."""
    print(f"\n\033[1m━━ {text} \033[0m" if sys.stdout.isatty() else f"\n== {text}")


def runner_env(inputs: dict[str, str], workspace: Path, path: str) -> dict[str, str]:
    """The environment the GitHub runner gives a Docker action: every input, the runner files."""
    env = {
        "PATH": path,
        "HOME": str(workspace),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(workspace / "github_output"),
        "GITHUB_STEP_SUMMARY": str(workspace / "step_summary.md"),
        "GITHUB_ENV": str(workspace / "github_env"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_REPOSITORY": "acme/incident-workflows",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_JOB": "escalate-incident",
        "GITHUB_WORKFLOW": "Escalate PagerDuty Incident",
        "RUNNER_NAME": "GitHub Actions 2",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name in INPUT_NAMES:
        env[input_env_name(name)] = inputs.get(name, DEFAULTS.get(name, ""))
    for file in ("github_output", "step_summary.md", "github_env"):
        (workspace / file).touch()
    return env


def render_log(stdout: str) -> list[str]:
    """The job log as GitHub shows it: masks applied, commands rendered, groups indented."""
    masks = [
        line[len("::add-mask::") :]
        for line in stdout.splitlines()
        if line.startswith("::add-mask::")
    ]
    shown: list[str] = []
    indent = ""
    for line in stdout.splitlines():
        for secret in masks:
            line = line.replace(secret, "***")
        if line.startswith("::add-mask::"):
            continue
        if line.startswith("::group::"):
            shown.append(f"▼ {line[len('::group::') :]}")
            indent = "  "
        elif line == "::endgroup::":
            indent = ""
        elif line.startswith("::") and "::" in line[2:]:
            command, _, message = line[2:].partition("::")
            level = command.split(" ", 1)[0]
            if level == "debug":
                continue
            message = message.replace("%0A", "\n").replace("%0D", "").replace("%25", "%")
            label = {"error": "Error", "warning": "Warning", "notice": "Notice"}.get(level, level)
            for index, part in enumerate(message.splitlines()):
                shown.append(
                    f"{indent}{label + ': ' if index == 0 else ' ' * (len(label) + 2)}{part}"
                )
        else:
            shown.append(indent + line)
    return shown


def step_inputs(
    sandbox: Sandbox,
    operation: str,
    asked: dict[str, str],
    context: dict[str, Any],
    *,
    dry_run: bool,
    caller: dict[str, str],
    events: bool = False,
) -> dict[str, str]:
    """A step's inputs, as the kit's Port action and workflow pass them: ``caller`` is ``from``
    or the routing key; ``events`` adds the Events API's address."""
    urls = {"pagerduty_api_url": sandbox.pagerduty_url}
    if events:
        urls["pagerduty_events_url"] = sandbox.events_url
    return {
        "operation": operation,
        **asked,
        **caller,
        "port_context": json.dumps(context),
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        **urls,
        "port_api_url": sandbox.port_url,
        "dry_run": "true" if dry_run else "false",
    }


def start_port_run(sandbox: Sandbox, action: str, body: dict[str, Any]) -> str:
    """Start a run of the kit's ``action``, as a click in Port does; the run's ID."""
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
            json_body=body,
        )
    sandbox.clear_journal()  # the demo's own calls are not the action's
    return str(answer["run"]["id"])


#: A step: its operation, and how to make its inputs once its number is known.
Step = tuple[str, Callable[[int], dict[str, str]]]


def run_steps(
    sandbox: Sandbox, steps: Sequence[Step], path: str
) -> tuple[int, list[list[dict[str, Any]]]]:
    """Run the steps in order, each in a workspace of its own, until one fails; its exit code
    (0 when none failed) and the requests each step sent, from the sandbox's journal."""
    code = 0
    sent: list[list[dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="escalator-demo-") as tmp:
        for number, (operation, inputs_for) in enumerate(steps, start=1):
            inputs = inputs_for(number)
            workspace = Path(tmp) / f"step-{number}"
            workspace.mkdir()
            code = run_step(number, operation, inputs, workspace, path)
            sent.append(sandbox.journal())
            if code != 0:
                break
    return code, sent


def show_requests(labels: Sequence[str], sent: list[list[dict[str, Any]]]) -> None:
    """The requests each step sent, under its label."""
    heading("Requests the action sent")
    for label, journal in zip(labels, sent, strict=False):
        print(f"  {label}:")
        for entry in journal:
            print(f"    {entry['status']} {entry['method']:5} {entry['path']}")


def run_step(
    number: int, operation: str, inputs: dict[str, str], workspace: Path, path: str
) -> int:
    """Run one step as the runner would, and show its step, log, outputs and summary."""
    show_step(number, operation, inputs)
    env = runner_env(inputs, workspace, path)
    # entrypoint.py sits beside the package in a checkout and in the image; an installed
    # package runs the same main() as a module.
    command = [str(ENTRYPOINT)] if ENTRYPOINT.exists() else ["-m", "escalator.faces.action"]
    process = subprocess.run(  # noqa: S603  # our own entrypoint, as the runner starts it
        [sys.executable, *command],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
    )
    heading(f"Step {number}: job log (exit code {process.returncode})")
    for line in render_log(process.stdout):
        print(line)
    if process.stderr.strip():
        print(process.stderr.rstrip())
    heading(f"Step {number}: step outputs")
    outputs = read_outputs((workspace / "github_output").read_text(encoding="utf-8"))
    masked = [line for line in process.stdout.splitlines() if line.startswith("::add-mask::")]
    for name, value in outputs.items():
        if name == "incident":
            value = f"<{len(value)} bytes of incident JSON>"
        elif value and f"::add-mask::{value}" in masked:
            value = "*** (masked)"
        print(f"  {name:24} {value}")
    heading(f"Step {number}: job summary (Markdown)")
    print((workspace / "step_summary.md").read_text(encoding="utf-8").rstrip())
    return process.returncode


def show_step(number: int, operation: str, inputs: dict[str, str]) -> None:
    """The step as a workflow writes it (secrets by their names)."""
    heading(f"Step {number}: {operation}, as written in the workflow")
    print("- uses: OWNER/escalate-action@v1")
    print("  with:")
    for name, value in inputs.items():
        if name in SECRET_NAMES:
            print(f"    {name}: ${{{{ secrets.{SECRET_NAMES[name]} }}}}")
        elif not name.endswith("_url"):  # shown below: only the sandbox needs them
            print(f"    {name}: {yaml_scalar(value)}")
    print(
        f"  (sandbox: PagerDuty at {inputs['pagerduty_api_url']}, Port at {inputs['port_api_url']})"
    )


def yaml_scalar(value: str) -> str:
    """``value`` as YAML reads it back as the same string (JSON and ``: `` get quotes)."""
    plain = value and value.strip() == value and not value.startswith(("{", "[", "'", '"'))
    if plain and ": " not in value and " #" not in value:
        return value
    return "'" + value.replace("'", "''") + "'"
