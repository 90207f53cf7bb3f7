"""What the action imports when the runner starts it: nothing the run does not need.

Each test runs ``entrypoint.py`` in a new process, as the runner does, against the sandbox, and
reads ``sys.modules`` from that process once the run is over.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from escalator.sandbox import Sandbox, seed
from tests.e2e import sandbox_inputs

REPO = Path(__file__).resolve().parents[1]

# Runs the entrypoint as __main__ (as `python entrypoint.py` would), then writes the exit code and
# every module loaded to the file named in argv[1].
PROBE = """
import json, os, runpy, sys
out = sys.argv[1]
sys.argv = [sys.argv[2]]
def _exit(code):  # the entrypoint leaves with os._exit: turn it into SystemExit to look around
    raise SystemExit(code)
os._exit = _exit
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
    code = 0
except SystemExit as exc:
    code = exc.code
with open(out, "w") as file:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, file)
"""

IMPORT_ONLY = """
import json, sys
sys.path.insert(0, sys.argv[2])
import escalator.faces.action
with open(sys.argv[1], "w") as file:
    json.dump({"exit": 0, "modules": sorted(sys.modules)}, file)
"""

TEST_ONLY_PACKAGES = ("tests", "pytest", "_pytest", "responses", "hypothesis", "conftest")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def closed_port() -> int:
    """A loopback port nobody listens on: GitHub's API is never reached from a test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def runner_env(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> dict[str, str]:
    """The environment the runner gives the action: inputs and the GitHub files."""
    for name in ("output", "summary"):
        (tmp_path / name).write_text("")
    values = {
        "port_context": json.dumps(
            {
                "blueprint": "pagerdutyIncident",
                "entity": seed.DEMO_INCIDENT_ID,
                "run_id": seed.DEMO_RUN_ID,
                "relations": {},
            }
        ),
        "escalation_policy_id": "PPLATFM",
        "urgency": "low",
        "from": seed.FROM_EMAIL,
        **sandbox_inputs(sandbox),
        "github_token": "",
        **inputs,
    }
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}",
        "GITHUB_REPOSITORY": "example/incident-workflows",
        "GITHUB_RUN_ID": "1000000001",
        "GITHUB_JOB": "escalate-incident",
    }
    env.update({"INPUT_" + name.upper(): value for name, value in values.items()})
    return env


def loaded_modules(script: str, env: dict[str, str], tmp_path: Path, target: str) -> set[str]:
    """Run ``script`` in a new interpreter; the modules it had loaded when it finished."""
    out = tmp_path / "modules.json"
    completed = subprocess.run(
        [sys.executable, "-c", script, str(out), target],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.exists(), completed.stderr
    result = json.loads(out.read_text())
    assert result["exit"] == 0, completed.stdout + completed.stderr
    return set(result["modules"])


def matching(modules: set[str], *packages: str) -> set[str]:
    """The modules that are ``packages`` or lie inside them."""
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)}


def test_a_run_without_github_token_loads_no_pygithub_sandbox_or_test_code(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An escalation without github_token never imports PyGithub, the sandbox, the Port kit or
    test code."""
    sandbox.reset()
    env = runner_env(sandbox, tmp_path)
    modules = loaded_modules(PROBE, env, tmp_path, str(REPO / "entrypoint.py"))
    assert "escalator.usecase.runner" in modules  # the probe did run the action
    assert matching(modules, "github", "escalator.clients.github") == set()
    assert matching(modules, "escalator.sandbox", "escalator.kit") == set()
    assert matching(modules, *TEST_ONLY_PACKAGES) == set()


def test_importing_the_action_loads_no_pygithub(tmp_path: Path) -> None:
    """Loading the action's code, before any input is read, does not import PyGithub."""
    modules = loaded_modules(IMPORT_ONLY, {"PATH": "/usr/bin:/bin"}, tmp_path, str(REPO))
    assert "escalator.faces.action" in modules
    assert matching(modules, "github", "escalator.clients.github", "escalator.sandbox") == set()
    assert matching(modules, "escalator.kit") == set()


def test_a_run_with_github_token_loads_pygithub_when_it_looks_up_the_job(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With github_token, PyGithub is imported by the run itself, to find the job's URL."""
    sandbox.reset()
    env = runner_env(sandbox, tmp_path, github_token="ghs_not-a-real-token")
    modules = loaded_modules(PROBE, env, tmp_path, str(REPO / "entrypoint.py"))
    assert {"github", "escalator.clients.github"} <= modules
    assert matching(modules, "escalator.sandbox", *TEST_ONLY_PACKAGES) == set()
