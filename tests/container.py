"""Build the action's image in a real Docker engine and run it the way the GitHub runner does.

The engine and the base image come from :mod:`tests.engine` (any running engine; the pinned base,
``ESCALATOR_TEST_BASE_IMAGE``, or the engine tool's stand-in), which also removes at the end
what a run added: :func:`build_image` builds the image under a tag of its own and records it,
and its build stage, for removal.
:func:`run_container` runs one case of :mod:`tests.e2e` in a container (its environment made by
:func:`tests.e2e.runner_for`, its result read by the same module) as the runner runs a Docker
action: ``--workdir /github/workspace``, the workspace, home, workflow and file-command folders
mounted under ``/github/``, every ``INPUT_*`` (empty ones included) and the ``GITHUB_*``
and ``RUNNER_*`` variables passed with ``-e NAME``, and ``--network host`` so that the container
reaches the sandbox on loopback (the engine here has no bridge network). Unlike the runner, it
keeps the container until it has listed the files the run added (``docker diff``), it unsets
``PYTHONDONTWRITEBYTECODE`` so that a module compiled at run time would show among them, and it
does not mount the engine's socket (the action has no use for it).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from escalator.sandbox import Sandbox
from tests import engine
from tests.e2e import RunResult, run_timeout, runner_for

REPO = engine.REPO
#: The built image's tag, of this process alone (removed when it ends).
IMAGE = f"escalate-action-test:{engine.RUN_ID}"
#: Seconds a container may take to start and stop, beyond the run's own timeout_seconds.
CONTAINER_MARGIN = 20.0

#: The runner's variables besides the inputs, as a GitHub-hosted runner sets them for a Docker
#: action (paths as the container sees them); empty ones are passed too.
RUNNER_CONTEXT = {
    "CI": "true",
    "HOME": "/github/home",
    "GITHUB_WORKSPACE": "/github/workspace",
    "GITHUB_EVENT_PATH": "/github/workflow/event.json",
    "GITHUB_EVENT_NAME": "workflow_dispatch",
    "GITHUB_API_URL": "https://api.github.com",
    "GITHUB_GRAPHQL_URL": "https://api.github.com/graphql",
    "GITHUB_ACTION": "escalate",
    "GITHUB_ACTION_REPOSITORY": "",
    "GITHUB_ACTION_REF": "",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_TRIGGERING_ACTOR": "octocat",
    "GITHUB_JOB": "escalate-incident",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_REF_PROTECTED": "false",
    "GITHUB_HEAD_REF": "",
    "GITHUB_BASE_REF": "",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_REPOSITORY_OWNER": "example-org",
    "GITHUB_RUN_NUMBER": "7",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_RETENTION_DAYS": "90",
    "GITHUB_WORKFLOW": "Escalate PagerDuty Incident",
    "RUNNER_OS": "Linux",
    "RUNNER_ARCH": "X64",
    "RUNNER_NAME": "GitHub Actions 2",
    "RUNNER_ENVIRONMENT": "github-hosted",
    "RUNNER_TEMP": "/home/runner/work/_temp",
    "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
    "RUNNER_WORKSPACE": "/home/runner/work/incident-workflows",
}
#: The runner's file commands: (variable, file name in the mounted file_commands folder).
FILE_COMMANDS = {
    "GITHUB_OUTPUT": "github_output",
    "GITHUB_STEP_SUMMARY": "step_summary.md",
    "GITHUB_ENV": "github_env",
    "GITHUB_PATH": "github_path",
    "GITHUB_STATE": "github_state",
}


engine_required = engine.required
engine_unavailable = engine.engine_unavailable
base_image = engine.base_image


def start_engine() -> None:
    """A running engine (see :func:`tests.engine.ensure_engine`)."""
    engine.ensure_engine()


def build_image(tag: str = IMAGE) -> str:
    """Build the repository's Dockerfile as ``tag`` FROM :func:`base_image`; returns ``tag``.

    The image, and the build stage the engine's classic builder keeps as an untagged image, are
    removed when the process ends. A failing build is a ``RuntimeError``."""
    base = base_image()
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    pinned = engine.pinned_base()
    with tempfile.TemporaryDirectory(prefix="escalate-action-build-") as scratch:
        path = Path(scratch) / "Dockerfile"
        path.write_text(dockerfile.replace(f"FROM {pinned}", f"FROM {base}", 1), encoding="utf-8")
        before = set(_docker("image", "ls", "--all", "--quiet", "--no-trunc").stdout.split())
        completed = _docker("build", "--network", "host", "-f", str(path), "-t", tag,
                            "--label", f"{engine.LABEL}={engine.RUN_ID}", str(REPO),
                            timeout=engine.ENGINE_TIMEOUT)  # fmt: skip
    engine.remove_at_exit(tag)
    for short in re.findall(r"^ ---> ([0-9a-f]{12})$", completed.stdout, re.MULTILINE):
        if not any(image.startswith(f"sha256:{short}") for image in before):
            engine.remove_at_exit(short)
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-30:])
        raise RuntimeError(f"docker build of the Dockerfile failed:\n{tail}")
    return tag


_docker = engine.docker_run


def docker(*args: str, timeout: float = 60) -> str:
    """``docker ARGS``'s standard output; raises ``RuntimeError`` when it fails."""
    completed = _docker(*args, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout


@dataclass
class ContainerRun:
    """One run of the image: the result as :mod:`tests.e2e` reads it, and the files it added."""

    result: RunResult
    #: paths the run added or changed inside the container (``docker diff``)
    changed: list[str]

    @property
    def bytecode_written(self) -> list[str]:
        """The ``.pyc`` files the run wrote."""
        return [path for path in self.changed if path.endswith(".pyc")]


def container_command(name: str, image: str, env: Mapping[str, str], folder: Path) -> list[str]:
    """The ``docker run`` command line the runner would use for ``env`` (values not included:
    each variable is passed by name, its value coming from the ``docker`` process's environment,
    as the runner does)."""
    mounts = {
        folder / "workspace": "/github/workspace",
        folder / "runner": "/github/file_commands",
        folder / "home": "/github/home",
        folder / "workflow": "/github/workflow",
    }
    command = ["docker", "run", "--name", name, "--label", "escalate-action-test"]
    command += ["--workdir", "/github/workspace", "--network", "host"]
    for variable in env:
        command += ["-e", variable]
    for source, target in mounts.items():
        command += ["-v", f"{source}:{target}"]
    return [*command, image]


def run_container(
    image: str,
    sandbox: Sandbox,
    tmp_path: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    **inputs: str,
) -> ContainerRun:
    """Run ``image`` with ``inputs`` (as for :func:`tests.e2e.run_action`) against ``sandbox``."""
    runner = runner_for(sandbox, tmp_path, inputs)
    (tmp_path / "workflow").mkdir(exist_ok=True)
    (tmp_path / "workflow" / "event.json").write_text(json.dumps({"inputs": {}}), encoding="utf-8")
    for variable, file in FILE_COMMANDS.items():
        path = tmp_path / "runner" / file
        path.touch()
        runner.files.setdefault(variable, path)
    env = {name: value for name, value in runner.env.items() if name.startswith("INPUT_")}
    env |= {name: value for name, value in runner.env.items() if name.startswith("GITHUB_")}
    env |= RUNNER_CONTEXT
    env |= {name: f"/github/file_commands/{file}" for name, file in FILE_COMMANDS.items()}
    env |= {"GITHUB_ACTIONS": "true", "PYTHONDONTWRITEBYTECODE": ""}
    env |= dict(extra_env or {})
    runner.env = env
    name = f"escalate-action-test-{uuid.uuid4().hex[:12]}"
    timeout = run_timeout(env) + CONTAINER_MARGIN
    command = container_command(name, image, env, tmp_path)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        elapsed = time.monotonic() - started
        changed = [line.split(" ", 1)[1] for line in docker("diff", name).splitlines()]
    finally:
        _docker("rm", "--force", name)
    result = runner.result(completed.returncode, completed.stdout, completed.stderr, elapsed)
    return ContainerRun(result, changed)
