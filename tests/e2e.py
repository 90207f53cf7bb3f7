"""Run the action end to end, the way the GitHub runner runs its container, against a sandbox.

:func:`run_action` starts ``entrypoint.py`` in a subprocess with every input of ``action.yml`` as
``INPUT_*`` (declared defaults included), ``GITHUB_ACTIONS=true``, the runner's files under a
temporary folder, a temporary workspace as the working directory (``GITHUB_WORKSPACE``), an empty
``HOME``, a minimal ``PATH`` and nothing else from the environment. It returns a
:class:`RunResult`: exit code, stdout, stderr, the parsed step outputs, the job summary and the
wall time.

Typical use, with the seed workflow's case::

    with Sandbox() as sandbox:
        result = run_action(sandbox, tmp_path, **SEED_CASE)
        assert result.returncode == 0
        assert result.outputs["changed"] == "true"

:func:`run_in_process` does the same through ``escalator.faces.action.main(env, stdout)`` in this
process, for tests that need many quick runs. :func:`applied` and :func:`run_logs` read what the
services hold from the sandbox's journal and state; :func:`port_admin` changes Port's side as an
admin would.

Inputs are given by their ``action.yml`` names; ``from`` is a Python keyword, so ``from_`` is
accepted for it. Unless overridden, the sandbox's credentials and URLs are filled in; pass ``""``
to leave one out.

This module is the one place that prepares the runner's side of a run and reads it back: every
other harness (the container runs, the locked install, the import probes) starts from
:func:`runner_for` and ends with :meth:`Runner.result`, and step outputs are read with the
strict :func:`escalator.step_files.read_outputs`.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import requests
import yaml

from escalator.faces.action import input_env_name
from escalator.sandbox import Sandbox, seed
from escalator.step_files import read_outputs

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = REPO / "entrypoint.py"
MINIMAL_PATH = "/usr/bin:/bin"
GITHUB_CONTEXT = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "example-org/incident-workflows",
    "GITHUB_RUN_ID": "4242424242",
}
#: Extra seconds a subprocess may take beyond its ``timeout_seconds`` before it is killed.
KILL_MARGIN = 30.0

#: The seed workflow's case: the demo run of the demo Port action on the demo incident.
SEED_PORT_CONTEXT: dict[str, Any] = {
    "blueprint": "pagerdutyIncident",
    "entity": seed.DEMO_INCIDENT_ID,
    "run_id": seed.DEMO_RUN_ID,
    "relations": {"pagerdutyService": ["PSVCPAY"]},
}
SEED_CASE: dict[str, str] = {
    "escalation_policy_id": "PPLATFM",
    "urgency": "high",
    "from": seed.FROM_EMAIL,
    "port_context": json.dumps(SEED_PORT_CONTEXT),
}


#: Credentials the sandbox accepts that hold what real ones hold (``-``, ``_``, ``+``, ``.``, ``/``,
#: ``=``): the secret scans run with these, as escaping can hide such a secret from a redaction.
REAL_SHAPED_CREDENTIALS: dict[str, str] = {
    "pagerduty_token": seed.REAL_SHAPED_PAGERDUTY_TOKEN,
    "port_client_id": seed.REAL_SHAPED_PORT_CLIENT_ID,
    "port_client_secret": seed.REAL_SHAPED_PORT_CLIENT_SECRET,
}


@cache
def action_input_defaults() -> dict[str, str]:
    """Every input declared in ``action.yml`` with its default ("" when it has none)."""
    metadata = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return {
        name: "" if spec.get("default") is None else str(spec["default"])
        for name, spec in metadata["inputs"].items()
    }


def sandbox_inputs(sandbox: Sandbox) -> dict[str, str]:
    """The inputs that point the action at ``sandbox`` with its demo credentials."""
    return {
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "pagerduty_api_url": sandbox.pagerduty_url,
        "pagerduty_events_url": sandbox.events_url,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "port_api_url": sandbox.port_url,
    }


#: The strict reader of ``GITHUB_OUTPUT`` (kept under its old name for the tests that use it).
parse_outputs = read_outputs


@dataclass
class RunResult:
    """What one run of the action left behind."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    outputs_text: str
    summary: str
    elapsed: float
    env: dict[str, str] = field(repr=False)

    @property
    def lines(self) -> list[str]:
        """stdout, line by line."""
        return self.stdout.splitlines()

    @property
    def commands(self) -> list[str]:
        """The workflow commands printed (lines starting with ``::``)."""
        return [line for line in self.lines if line.startswith("::")]

    @property
    def masked(self) -> list[str]:
        """The values the action asked the runner to mask, unescaped."""
        prefix = "::add-mask::"
        return [
            line[len(prefix) :].replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
            for line in self.lines
            if line.startswith(prefix)
        ]

    @property
    def errors(self) -> list[str]:
        """The messages of the ``::error`` commands, unescaped."""
        found = []
        for line in self.commands:
            if line.startswith("::error"):
                message = line.split("::", 2)[2]
                found.append(message.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%"))
        return found

    @property
    def error_text(self) -> str:
        """Every error message in one string (empty when there was none)."""
        return "\n".join(self.errors)


@dataclass
class Runner:
    """The runner's side of one run: its environment, its (empty) files and the workspace."""

    env: dict[str, str]
    files: dict[str, Path]
    workspace: Path

    def result(self, returncode: int, stdout: str, stderr: str, elapsed: float) -> RunResult:
        """The finished run's result, with the outputs and the summary read from the files."""
        return collect_result(returncode, stdout, stderr, self.files, elapsed, self.env)


def runner_for(
    sandbox: Sandbox,
    tmp_path: Path,
    inputs: Mapping[str, str],
    *,
    extra_env: Mapping[str, str] | None = None,
) -> Runner:
    """The runner's environment for ``inputs`` against ``sandbox`` under ``tmp_path``: every
    input as ``INPUT_*``, the ``GITHUB_*`` files, a home and a workspace, then ``extra_env``."""
    values = dict(inputs)
    if "from_" in values:
        values["from"] = values.pop("from_")
    declared = action_input_defaults()
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise TypeError(f"not inputs of action.yml: {', '.join(unknown)}")
    values = declared | sandbox_inputs(sandbox) | values

    folders = {name: tmp_path / name for name in ("runner", "workspace", "home")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    files = {
        "GITHUB_OUTPUT": folders["runner"] / "github_output",
        "GITHUB_STEP_SUMMARY": folders["runner"] / "step_summary.md",
        "GITHUB_ENV": folders["runner"] / "github_env",
    }
    for path in files.values():
        path.write_text("", encoding="utf-8")
    env = {input_env_name(name): value for name, value in values.items()}
    env |= {name: str(path) for name, path in files.items()}
    env |= GITHUB_CONTEXT | {"GITHUB_ACTIONS": "true", "PATH": MINIMAL_PATH}
    env |= {"HOME": str(folders["home"]), "GITHUB_WORKSPACE": str(folders["workspace"])}
    env |= dict(extra_env or {})
    return Runner(env, files, folders["workspace"])


def prepare(
    sandbox: Sandbox, tmp_path: Path, inputs: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, Path], Path]:
    """The runner's environment for ``inputs``, its (empty) files and the workspace folder."""
    runner = runner_for(sandbox, tmp_path, inputs)
    return runner.env, runner.files, runner.workspace


def collect_result(
    returncode: int, stdout: str, stderr: str, files: dict[str, Path], elapsed: float, env: Any
) -> RunResult:
    """A finished run's result, with the outputs and summary read from the runner's files."""
    outputs_text = files["GITHUB_OUTPUT"].read_text(encoding="utf-8")
    return RunResult(
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        outputs=read_outputs(outputs_text),
        outputs_text=outputs_text,
        summary=files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
        elapsed=elapsed,
        env=env,
    )


def run_timeout(env: Mapping[str, str]) -> float:
    """How long a run with ``env`` may take before it is killed: its deadline and a margin."""
    try:
        return float(env.get(input_env_name("timeout_seconds")) or 120) + KILL_MARGIN
    except ValueError:
        return 120.0 + KILL_MARGIN


def run_entrypoint(runner: Runner, command: Sequence[str] | None = None) -> RunResult:
    """Start ``command`` (``python entrypoint.py`` by default) in the workspace with the
    runner's environment and nothing else, as the runner starts the action, and collect it."""
    started = time.monotonic()
    completed = subprocess.run(
        list(command or [sys.executable, str(ENTRYPOINT)]),
        cwd=runner.workspace,
        env=runner.env,
        capture_output=True,
        text=True,
        timeout=run_timeout(runner.env),
        check=False,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    return runner.result(completed.returncode, completed.stdout, completed.stderr, elapsed)


def run_action(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> RunResult:
    """Run ``entrypoint.py`` in a subprocess exactly as the runner would, and collect the result.

    ``inputs`` override the ``action.yml`` defaults and the sandbox's connection inputs; every
    value must be a string, as the runner passes them.
    """
    return run_entrypoint(runner_for(sandbox, tmp_path, inputs))


def run_in_process(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> RunResult:
    """Like :func:`run_action`, but through ``escalator.faces.action.main(env, stdout)`` in this
    process: much faster, the same environment; an exception that is not the project's own
    propagates (where the subprocess would print a traceback). ``stderr`` is always empty."""
    from escalator.faces.action import main  # the entrypoint's own import, done as late as it does

    runner = runner_for(sandbox, tmp_path, inputs)
    stdout = io.StringIO()
    started = time.monotonic()
    returncode = main(runner.env, stdout)
    elapsed = time.monotonic() - started
    return runner.result(returncode, stdout.getvalue(), "", elapsed)


def applied(journal: list[dict[str, Any]], method: str, pattern: str) -> list[dict[str, Any]]:
    """The journal entries of ``method`` requests on paths matching ``pattern`` that changed
    the service's state."""
    rule = re.compile(pattern)
    return [
        entry
        for entry in journal
        if entry["method"] == method and rule.fullmatch(entry["path"]) and entry["applied"]
    ]


def run_logs(sandbox: Sandbox, run_id: str = seed.DEMO_RUN_ID) -> list[str]:
    """The messages of a Port run's logs, oldest first, as the sandbox holds them."""
    return [log["message"] for log in sandbox.state()["port"]["run_logs"].get(run_id, [])]


def port_admin(
    sandbox: Sandbox, method: str, path: str, body: Any = None, *, timeout: float = 5
) -> requests.Response:
    """One request to the sandbox's Port as an admin or another tool would send it, with the
    demo credentials' token; the test fails unless Port accepts it."""
    token = requests.post(
        f"{sandbox.port_url}/v1/auth/access_token",
        json={"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET},
        timeout=timeout,
    ).json()["accessToken"]
    answer = requests.request(
        method,
        f"{sandbox.port_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=timeout,
    )
    assert answer.ok, answer.text
    return answer


def longest_chain(entries: list[dict[str, Any]]) -> int:
    """Requests in a row, each started after the one before it ended: the sequential trips."""
    best: dict[int, int] = {}
    for i in sorted(range(len(entries)), key=lambda i: entries[i]["started"]):
        earlier = [best[j] for j in best if entries[j]["ended"] <= entries[i]["started"]]
        best[i] = 1 + max(earlier, default=0)
    return max(best.values(), default=0)


class SkippingClock:
    """The run's clock for tests: real time, except that a retry's wait passes at once (the
    time skipped is added to what the clock reads), so the deadline still sees every wait."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def time(self) -> float:
        return time.time() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.skipped += max(0.0, seconds)
