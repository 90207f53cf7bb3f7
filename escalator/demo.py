"""``escalator demo``: the action's main job against the embedded sandbox, shown end to end.

Starts the sandbox, runs ``entrypoint.py`` exactly as the GitHub runner would (every ``INPUT_*``
with its default, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, a temporary workspace as the working
directory), then shows the job log as GitHub renders it, the step outputs, the job summary, and
what changed in PagerDuty and in Port. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from escalator.faces.action import input_env_name
from escalator.inputs import DEFAULTS, INPUT_NAMES
from escalator.sandbox import Sandbox, seed
from escalator.workflow import read_outputs

ENTRYPOINT = Path(__file__).resolve().parent.parent / "entrypoint.py"
TARGET_POLICY = "PPLATFM"


def _heading(text: str) -> None:
    print(f"\n\033[1m━━ {text} \033[0m" if sys.stdout.isatty() else f"\n== {text}")


def runner_env(inputs: dict[str, str], workspace: Path) -> dict[str, str]:
    """The environment the GitHub runner gives a Docker action: every input, the runner files."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
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


def run_demo(*, dry_run: bool = False) -> int:
    """Run the demo; returns the action's exit code."""
    started = time.monotonic()
    inputs = {
        "escalation_policy_id": TARGET_POLICY,
        "urgency": "high",
        "from": seed.FROM_EMAIL,
        "port_context": json.dumps(
            {
                "blueprint": "pagerdutyIncident",
                "entity": seed.DEMO_INCIDENT_ID,
                "run_id": seed.DEMO_RUN_ID,
                "relations": {"pagerdutyService": ["PSVCPAY"]},
            }
        ),
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "dry_run": "true" if dry_run else "false",
    }
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="escalator-demo-") as tmp:
        inputs["pagerduty_api_url"] = sandbox.pagerduty_url
        inputs["port_api_url"] = sandbox.port_url
        before_state = sandbox.state()
        incident_before = before_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]

        _heading("The step, as written in the workflow")
        print("- uses: OWNER/escalate-action@v1")
        print("  with:")
        for name, value in inputs.items():
            secret = name in ("pagerduty_token", "port_client_id", "port_client_secret")
            shown = "${{ secrets." + name.upper() + " }}" if secret else value
            print(f"    {name}: {shown}")
        print(f"  (sandbox: PagerDuty at {sandbox.pagerduty_url}, Port at {sandbox.port_url})")

        workspace = Path(tmp)
        env = runner_env(inputs, workspace)
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
        _heading(f"Job log (exit code {process.returncode})")
        for line in render_log(process.stdout):
            print(line)
        if process.stderr.strip():
            print(process.stderr.rstrip())

        _heading("Step outputs")
        outputs = read_outputs((workspace / "github_output").read_text(encoding="utf-8"))
        for name, value in outputs.items():
            if name == "incident":
                value = f"<{len(value)} bytes of incident JSON>"
            print(f"  {name:24} {value}")

        _heading("Job summary (Markdown)")
        print((workspace / "step_summary.md").read_text(encoding="utf-8").rstrip())

        after_state = sandbox.state()
        incident_after = after_state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
        _heading("What changed in PagerDuty")
        print(f"  before: {_incident_line(incident_before, before_state)}")
        print(f"  after:  {_incident_line(incident_after, after_state)}")

        _heading("What changed in Port")
        port = after_state["port"]
        entity = port["entities"].get("pagerdutyIncident", {}).get(seed.DEMO_INCIDENT_ID)
        print("  entity pagerdutyIncident/" + seed.DEMO_INCIDENT_ID + ":")
        print("    " + json.dumps(entity, indent=2).replace("\n", "\n    "))
        run = port["runs"][seed.DEMO_RUN_ID]
        print(
            f"  run {seed.DEMO_RUN_ID}: status {run['status']}, label {run.get('statusLabel')!r}, "
            f"link {run.get('link')}"
        )
        for log in port["run_logs"].get(seed.DEMO_RUN_ID, []):
            print(f"    log: {log['message']}")

        journal = sandbox.journal()
        _heading("Requests the action sent")
        for entry in journal:
            print(f"  {entry['status']} {entry['method']:5} {entry['path']}")
        connections = len({entry["connection"] for entry in journal})
        print(
            f"\n{len(journal)} requests over {connections} connections; demo took "
            f"{time.monotonic() - started:.2f} s. Sandbox stopped."
        )
        return process.returncode
