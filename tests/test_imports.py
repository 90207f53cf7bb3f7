"""What the action imports when the runner starts it: nothing the run does not need.

Each test runs ``entrypoint.py`` in a new process, as the runner does, against the sandbox, and
reads ``sys.modules`` from that process once the run is over.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from escalator.operations import OPERATIONS
from escalator.sandbox import Sandbox
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from tests.e2e import SEED_CASE, Runner, run_entrypoint, runner_for

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


def closed_port() -> int:
    """A loopback port nobody listens on: GitHub's API is never reached from a test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_runner(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> Runner:
    """The runner's side of the seed case (urgency low), GitHub's API on a closed port."""
    api = {"GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}", "GITHUB_JOB": "escalate"}
    return runner_for(sandbox, tmp_path, SEED_CASE | {"urgency": "low"} | inputs, extra_env=api)


def loaded_modules(script: str, runner: Runner, target: str) -> set[str]:
    """Run ``script`` in a new interpreter with the runner's environment, through the harness;
    the modules it had loaded when it finished."""
    out = runner.workspace.parent / "modules.json"
    completed = run_entrypoint(runner, [sys.executable, "-c", script, str(out), target])
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
    runner = seed_runner(sandbox, tmp_path)
    modules = loaded_modules(PROBE, runner, str(REPO / "entrypoint.py"))
    assert "escalator.usecase.runner" in modules  # the probe did run the action
    assert matching(modules, "github", "escalator.clients.github") == set()
    assert matching(modules, "escalator.sandbox", "escalator.kit") == set()
    assert matching(modules, *TEST_ONLY_PACKAGES) == set()


#: The modules of the operations themselves (the registry names them), not their shared parts.
OPERATION_MODULES = {
    f"escalator.operations.{place.partition(':')[0].lstrip('.')}"
    for place in OPERATIONS.places.values()
}


def test_a_run_loads_its_own_operation_and_no_other(sandbox: Sandbox, tmp_path: Path) -> None:
    """An escalation imports escalate's module and no other operation's; importing the action
    alone imports none."""
    runner = seed_runner(sandbox, tmp_path)
    ran = loaded_modules(PROBE, runner, str(REPO / "entrypoint.py"))
    assert "escalator.usecase.runner" in ran  # the probe did run the action
    assert ran & OPERATION_MODULES == {"escalator.operations.escalate"}
    imported = loaded_modules(IMPORT_ONLY, seed_runner(sandbox, tmp_path / "2"), str(REPO))
    assert imported & OPERATION_MODULES == set()


def test_a_run_with_an_input_of_another_operation_loads_them_to_say_whose(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An input that is not the operation's own makes the parse read every operation's inputs,
    to name which operations take it; the run fails before any request."""
    runner = seed_runner(sandbox, tmp_path, schedule_id="PSC7PAY")
    out = runner.workspace.parent / "modules.json"
    completed = run_entrypoint(
        runner, [sys.executable, "-c", PROBE, str(out), str(REPO / "entrypoint.py")]
    )
    result = json.loads(out.read_text())
    assert result["exit"] == 2, completed.stdout  # an input error
    assert "schedule_id: does not apply to operation: escalate" in completed.stdout
    assert "it is for oncall, override, remove-override" in completed.stdout
    assert set(result["modules"]) >= OPERATION_MODULES


def test_a_run_loads_the_path_of_its_own_kind_of_operation(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An escalation loads the incident path and not the one of schedules, services and events
    (their runner, their faces, the Events API client)."""
    ran = loaded_modules(PROBE, seed_runner(sandbox, tmp_path), str(REPO / "entrypoint.py"))
    assert "escalator.faces.incident_action" in ran
    other = ("escalator.faces.target_action", "escalator.usecase.target_runner")
    assert matching(ran, *other, "escalator.clients.events", "escalator.operations.target") == set()


def test_an_event_loads_neither_the_incident_path_nor_another_operation(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A trigger without a REST token loads its own module and the path of events, not the
    incident runner nor any other operation's module."""
    key = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")
    inputs = {"escalation_policy_id": "", "urgency": "", "pagerduty_token": ""}
    runner = seed_runner(
        sandbox, tmp_path, operation="trigger", title="Disk full", routing_key=key, **inputs
    )
    ran = loaded_modules(PROBE, runner, str(REPO / "entrypoint.py"))
    assert "escalator.usecase.target_runner" in ran  # the probe did run the action
    assert ran & OPERATION_MODULES == {"escalator.operations.trigger"}
    assert matching(ran, "escalator.faces.incident_action", "escalator.usecase.runner") == set()


def test_importing_the_action_loads_no_pygithub(sandbox: Sandbox, tmp_path: Path) -> None:
    """Loading the action's code, before any input is read, does not import PyGithub."""
    modules = loaded_modules(IMPORT_ONLY, seed_runner(sandbox, tmp_path), str(REPO))
    assert "escalator.faces.action" in modules
    assert matching(modules, "github", "escalator.clients.github", "escalator.sandbox") == set()
    assert matching(modules, "escalator.kit") == set()


def test_a_run_with_github_token_loads_pygithub_when_it_looks_up_the_job(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With github_token, PyGithub is imported by the run itself, to find the job's URL."""
    runner = seed_runner(sandbox, tmp_path, github_token="ghs_not-a-real-token")
    modules = loaded_modules(PROBE, runner, str(REPO / "entrypoint.py"))
    assert {"github", "escalator.clients.github"} <= modules
    assert matching(modules, "escalator.sandbox", *TEST_ONLY_PACKAGES) == set()


LAZY_MODELS = """
import json, sys
sys.path.insert(0, sys.argv[2])
import escalator.faces.action
from escalator.clients import models
from escalator.inputs import model
found = [*vars(models).items(), *vars(model).items()]
built = {name: cls.__pydantic_complete__ for name, cls in found
         if isinstance(cls, type) and hasattr(cls, "__pydantic_complete__")}
with open(sys.argv[1], "w") as file:
    json.dump({"exit": 0, "modules": [name for name, done in built.items() if done],
               "checked": len(built)}, file)
"""


def test_importing_the_action_builds_no_pydantic_model(sandbox: Sandbox, tmp_path: Path) -> None:
    """The answer and input models are built when a run first uses them, not at import."""
    runner = seed_runner(sandbox, tmp_path)
    assert loaded_modules(LAZY_MODELS, runner, str(REPO)) == set()
