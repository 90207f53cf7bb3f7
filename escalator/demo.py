"""``escalator demo``: the action's main job against the embedded sandbox, shown end to end.

Three runs on one incident, as three clicks in Port would make them: escalate it, acknowledge it
with a note, resolve it with a resolution. For each, it starts a Port run in the sandbox, runs
``entrypoint.py`` exactly as the GitHub runner would (every ``INPUT_*``
with its default, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, a temporary workspace as the working
directory), then shows the job log as GitHub renders it, the step outputs, the job summary, and
what changed in PagerDuty and in Port. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from escalator.clients.port import PortClient
from escalator.faces.action import input_env_name
from escalator.http import Deadline, Policy
from escalator.inputs import DEFAULTS, INPUT_NAMES
from escalator.sandbox import Sandbox, seed
from escalator.step_files import read_outputs

ENTRYPOINT = Path(__file__).resolve().parent.parent / "entrypoint.py"
TARGET_POLICY = "PPLATFM"


def _heading(text: str) -> None:
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
#: The secrets as a workflow passes them (the names the README and examples/ use).
SECRET_NAMES = {
    "pagerduty_token": "PAGERDUTY_API_KEY",
    "port_client_id": "PORT_CLIENT_ID",
    "port_client_secret": "PORT_CLIENT_SECRET",
    "routing_key": "PAGERDUTY_ROUTING_KEY",
}


def run_demo(*, dry_run: bool = False, path: str = "/usr/bin:/bin") -> int:
    """Run the demo's steps (escalate, acknowledge, resolve with a note) on the demo incident;
    returns the first failing step's exit code, or 0. ``path``: the PATH the steps run with
    (the face passes its own)."""
    started = time.monotonic()
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="escalator-demo-") as tmp:
        before_state = sandbox.state()
        code = 0
        sent: list[list[dict[str, Any]]] = []
        for number, (operation, asked) in enumerate(STEPS, start=1):
            run_id = seed.DEMO_RUN_ID if number == 1 else _start_port_run(sandbox, operation)
            workspace = Path(tmp) / f"step-{number}"
            workspace.mkdir()
            inputs = _inputs(sandbox, operation, asked, run_id, dry_run)
            code = _run_step(number, operation, inputs, workspace, path)
            sent.append(sandbox.journal())
            if code != 0:
                break
        _show_changes(sandbox, before_state)
        _heading("Requests the action sent")
        for (operation, _asked), journal in zip(STEPS, sent, strict=False):
            print(f"  {operation}:")
            for entry in journal:
                print(f"    {entry['status']} {entry['method']:5} {entry['path']}")
        counts = ", ".join(str(len(journal)) for journal in sent)
        print(
            f"\nRequests per run: {counts}, one Port token each; demo took "
            f"{time.monotonic() - started:.2f} s. Sandbox stopped."
        )
        return code


def _inputs(
    sandbox: Sandbox, operation: str, asked: dict[str, str], run_id: str, dry_run: bool
) -> dict[str, str]:
    """The step's inputs, as the kit's Port action and workflow pass them."""
    context = {
        "blueprint": "pagerdutyIncident",
        "entity": seed.DEMO_INCIDENT_ID,
        "run_id": run_id,
        "relations": {"pagerdutyService": ["PSVCPAY"]},
    }
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
    """Start a run of the kit's action for ``operation``, as a click in Port does."""
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
            f"/v1/actions/pagerdutyIncident_{operation}_incident/runs",
            json_body={"entity": seed.DEMO_INCIDENT_ID, "properties": {}},
        )
    sandbox.clear_journal()  # the demo's own calls are not the action's
    return str(answer["run"]["id"])


def _run_step(
    number: int, operation: str, inputs: dict[str, str], workspace: Path, path: str
) -> int:
    """Run one step as the runner would, and show its step, log, outputs and summary."""
    _show_step(number, operation, inputs)
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
    _heading(f"Step {number}: job log (exit code {process.returncode})")
    for line in render_log(process.stdout):
        print(line)
    if process.stderr.strip():
        print(process.stderr.rstrip())
    _heading(f"Step {number}: step outputs")
    outputs = read_outputs((workspace / "github_output").read_text(encoding="utf-8"))
    masked = [line for line in process.stdout.splitlines() if line.startswith("::add-mask::")]
    for name, value in outputs.items():
        if name == "incident":
            value = f"<{len(value)} bytes of incident JSON>"
        elif value and f"::add-mask::{value}" in masked:
            value = "*** (masked)"
        print(f"  {name:24} {value}")
    _heading(f"Step {number}: job summary (Markdown)")
    print((workspace / "step_summary.md").read_text(encoding="utf-8").rstrip())
    return process.returncode


def _show_step(number: int, operation: str, inputs: dict[str, str]) -> None:
    """The step as a workflow writes it (secrets by their names)."""
    _heading(f"Step {number}: {operation}, as written in the workflow")
    print("- uses: OWNER/escalate-action@v1")
    print("  with:")
    for name, value in inputs.items():
        if name in SECRET_NAMES:
            print(f"    {name}: ${{{{ secrets.{SECRET_NAMES[name]} }}}}")
        elif not name.endswith("_url"):  # shown below: only the sandbox needs them
            print(f"    {name}: {_yaml_scalar(value)}")
    print(
        f"  (sandbox: PagerDuty at {inputs['pagerduty_api_url']}, Port at {inputs['port_api_url']})"
    )


def _yaml_scalar(value: str) -> str:
    """``value`` as YAML reads it back as the same string (JSON and ``: `` get quotes)."""
    plain = value and value.strip() == value and not value.startswith(("{", "[", "'", '"'))
    if plain and ": " not in value and " #" not in value:
        return value
    return "'" + value.replace("'", "''") + "'"


def _show_changes(sandbox: Sandbox, before_state: dict[str, Any]) -> None:
    after_state = sandbox.state()
    incident_before = before_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    incident_after = after_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    _heading("What changed in PagerDuty")
    print(f"  before: {_incident_line(incident_before, before_state)}")
    print(f"  after:  {_incident_line(incident_after, after_state)}")
    notes = after_state["pagerduty"].get("notes", {}).get(seed.DEMO_INCIDENT_ID, [])
    for note in notes:
        print(f"  note:   {note.get('content')}")
    _heading("What changed in Port")
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
