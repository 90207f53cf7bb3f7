"""The image, for real: built in a Docker engine and run in a container as the runner runs it.

Every case runs the built image against the module's sandbox (``--network host``) through
:func:`tests.container.run_container`, with ``PYTHONDONTWRITEBYTECODE`` unset so that each run
also proves the image compiled, at build time, every module the run imports. Without an engine or
a base image (see :mod:`tests.engine`) the tests skip and say why; under ``CI=true`` that is a
failure instead.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from escalator.sandbox import Sandbox, seed
from tests import container, engine
from tests.e2e import SEED_CASE, applied

pytestmark = pytest.mark.slow

TIMEOUT = 8
#: Slack for starting and removing a container on a busy two-core machine.
START_MARGIN = 10.0


def _unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail where these tests must run (under ``CI=true``)."""
    if container.engine_required():
        pytest.fail(f"the container tests must run under CI=true, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from the repository on any running engine (removed when the tests end)."""
    try:
        container.start_engine()
        container.base_image()
    except engine.Unavailable as exc:
        _unavailable(str(exc))
    # From here a failure is the image's own: an error, not a skip.
    return container.build_image()


def assert_clean(run: container.ContainerRun) -> None:
    """No traceback, nothing written to stderr, no bytecode compiled at run time."""
    assert "Traceback" not in run.result.stderr, run.result.stderr
    assert run.result.stderr == "", run.result.stderr
    assert run.bytecode_written == [], run.bytecode_written


def test_escalation_demo_case(image: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """The seed case escalates in the sandbox and writes the step outputs and the summary."""
    run = container.run_container(image, sandbox, tmp_path, **SEED_CASE)
    result = run.result
    assert result.returncode == 0, result.stdout
    assert_clean(run)
    assert result.outputs["changed"] == "true"
    assert result.outputs["incident_id"] == seed.DEMO_INCIDENT_ID
    assert result.outputs["escalation_policy_id"] == "PPLATFM"
    assert result.outputs["urgency"] == "high"
    assert result.outputs["port_entity_identifier"] == seed.DEMO_INCIDENT_ID
    assert result.outputs["port_run_id"] == seed.DEMO_RUN_ID
    assert json.loads(result.outputs["incident"])["escalation_policy"]["id"] == "PPLATFM"
    assert "PPLATFM" in result.summary
    state = sandbox.state()
    incident = state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    assert incident["escalation_policy"]["id"] == "PPLATFM"
    assert seed.DEMO_INCIDENT_ID in state["port"]["entities"]["pagerdutyIncident"]


def test_dry_run_changes_nothing(image: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """A dry run reads the incident, reports what would change, and writes to no service."""
    before = sandbox.state()["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    run = container.run_container(image, sandbox, tmp_path, **SEED_CASE | {"dry_run": "true"})
    assert run.result.returncode == 0, run.result.stdout
    assert_clean(run)
    assert run.result.outputs["changed"] == "false"
    assert sandbox.state()["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID] == before
    journal = sandbox.journal()
    assert applied(journal, "PUT", r"/pagerduty/.*") == []
    assert applied(journal, "POST", r"/port/v1/blueprints/.*") == []


def test_hostile_input_is_a_clean_error(image: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """A from that would split the request's headers ends on one ::error naming the input,
    a non-zero exit, no traceback and nothing sent to PagerDuty."""
    hostile = SEED_CASE | {"from": "alice@example.com\r\nX-Injected: 1"}
    run = container.run_container(image, sandbox, tmp_path, **hostile)
    assert run.result.returncode != 0
    assert_clean(run)
    assert len(run.result.errors) == 1, run.result.stdout
    assert run.result.error_text.startswith("from: ")
    assert [entry for entry in sandbox.journal() if entry["path"].startswith("/pagerduty")] == []


def test_port_failure_after_the_escalation_keeps_the_outputs(
    image: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Port failing after PagerDuty changed: exit 1 naming Port, and the incident outputs are
    written all the same."""
    sandbox.set_faults(
        [
            {
                "method": "POST",
                "path": "/port/v1/blueprints/*/entities",
                "steps": [{"status": 500}],
                "repeat_last": True,
            }
        ]
    )
    case = SEED_CASE | {"timeout_seconds": str(TIMEOUT)}
    run = container.run_container(image, sandbox, tmp_path, **case)
    assert run.result.returncode == 1, run.result.stdout
    assert_clean(run)
    assert "Port entity was not updated" in run.result.error_text
    assert run.result.outputs["changed"] == "true"
    assert run.result.outputs["escalation_policy_id"] == "PPLATFM"
    incident = sandbox.state()["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]
    assert incident["escalation_policy"]["id"] == "PPLATFM"


def test_timeout_seconds_holds_when_pagerduty_hangs(
    image: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """PagerDuty never answering: the run ends at its timeout_seconds with an error saying so."""
    hang = {"fault": "hang", "seconds": 60}
    sandbox.set_faults(
        [
            {
                "method": "GET",
                "path": "/pagerduty/incidents/*",
                "steps": [hang],
                "repeat_last": True,
            }
        ]
    )
    case = SEED_CASE | {"timeout_seconds": str(TIMEOUT)}
    run = container.run_container(image, sandbox, tmp_path, **case)
    assert run.result.returncode == 1, run.result.stdout
    assert_clean(run)
    assert "timeout_seconds" in run.result.error_text, run.result.error_text
    assert run.result.elapsed < TIMEOUT + START_MARGIN, run.result.elapsed


# --- the github_token path, without cryptography -------------------------------------------------

JOB_URL = "https://github.com/example-org/incident-workflows/actions/runs/4242424242/job/555"


class _GitHubJobs(BaseHTTPRequestHandler):
    """GitHub's two answers the job lookup needs: the workflow run, and its jobs."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        base = f"http://{self.headers['Host']}/repos/example-org/incident-workflows/actions/runs"
        path = self.path.split("?")[0]
        if path.endswith("/actions/runs/4242424242"):
            body: dict[str, Any] = {"id": 4242424242, "jobs_url": f"{base}/4242424242/jobs"}
        elif path.endswith("/actions/runs/4242424242/jobs"):
            job = {"id": 555, "name": "escalate-incident", "status": "in_progress"}
            job |= {"runner_name": "GitHub Actions 2", "html_url": JOB_URL}
            body = {"total_count": 1, "jobs": [job]}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def github_api() -> Iterator[str]:
    """A loopback stand-in for the GitHub API's workflow run and jobs endpoints."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GitHubJobs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_github_token_links_the_job_without_cryptography(
    image: str, sandbox: Sandbox, tmp_path: Path, github_api: str
) -> None:
    """With github_token, PyGithub (imported without cryptography, which the image leaves out)
    finds this job and the Port run links to it."""
    case = SEED_CASE | {"github_token": "ghs_not-a-real-token", "finish_port_run": "true"}
    run = container.run_container(
        image, sandbox, tmp_path, extra_env={"GITHUB_API_URL": github_api}, **case
    )
    assert run.result.returncode == 0, run.result.stdout
    assert_clean(run)
    assert not [line for line in run.result.commands if line.startswith("::warning")]
    assert sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]["link"] in (JOB_URL, [JOB_URL])


# --- what the image holds ---------------------------------------------------------------------

CONTENTS_PROBE = r"""
import sys
before = set(sys.modules)
import escalator.faces.action, escalator.clients.github, github, nacl.public
imported = [module for name, module in sys.modules.items() if name not in before]
import importlib.util, json, os
def bytecode(module):
    # "unchecked-hash" (flags 1) is how the build compiles; neither base image writes it
    origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
    if not origin.endswith(".py"):
        return None
    try:
        with open(importlib.util.cache_from_source(origin), "rb") as file:
            return int.from_bytes(file.read(16)[4:8], "little")
    except OSError:
        return -1
compiled = {module.__name__: bytecode(module) for module in imported}
found = {name: importlib.util.find_spec(name) is not None for name in (
    "escalator.sandbox", "escalator.kit", "escalator.demo", "escalator.port_setup",
    "escalator.faces.cli", "cryptography", "pycparser", "pytest", "tests")}
paths = []
for folder, dirs, files in os.walk("/action"):
    paths += [os.path.join(folder, name) for name in dirs + files]
home = os.path.expanduser("~")
print(json.dumps({"found": found, "paths": paths, "compiled": compiled,
                  "home": os.listdir(home) if os.path.isdir(home) else []}))
"""


def test_image_holds_only_what_the_action_runs(image: str) -> None:
    """The entrypoint's modules import, each (the standard library's too) with bytecode compiled
    at build time; no sandbox, demo, CLI, tests, cryptography, pip cache, console scripts or
    bytecode without its source; one layer on top of the base."""
    shown = json.loads(
        container.docker(
            "run", "--rm", "--entrypoint", "/usr/local/bin/python", image, "-c", CONTENTS_PROBE
        )
    )
    assert not any(shown["found"].values()), shown["found"]
    compiled = {name: flags for name, flags in shown["compiled"].items() if flags is not None}
    assert {"escalator.faces.action", "github", "pydantic", "requests", "json"} <= set(compiled)
    assert {name for name, flags in compiled.items() if flags != 1} == set()
    paths: list[str] = shown["paths"]
    assert not [path for path in paths if "/tests/" in path or path.endswith("/tests")]
    assert not [path for path in paths if "/.cache" in path or "/bin/" in path]
    assert ".cache" not in shown["home"]
    bytecode = [path for path in paths if path.endswith(".pyc")]
    assert any(path.startswith("/action/escalator/faces/__pycache__/action.") for path in bytecode)
    for path in bytecode:
        folder, name = os.path.split(path)
        source = os.path.join(os.path.dirname(folder), name.split(".")[0] + ".py")
        assert source in paths, path
    # pydantic's v1 compatibility layer is never imported: it gets no bytecode
    assert not [path for path in bytecode if path.startswith("/action/deps/pydantic/v1/")]
    label = container.docker(
        "image", "inspect", "--format", f'{{{{index .Config.Labels "{engine.LABEL}"}}}}', image
    )
    assert label.strip() == engine.RUN_ID  # what the run removes at its end, and nothing else
    layers = container.docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", image)
    base = container.docker(
        "image", "inspect", "--format", "{{json .RootFS.Layers}}", container.base_image()
    )
    assert json.loads(layers)[: len(json.loads(base))] == json.loads(base)
    assert len(json.loads(layers)) == len(json.loads(base)) + 1
