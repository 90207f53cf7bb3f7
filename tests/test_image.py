"""The lock without Docker: requirements.txt in a fresh venv, run as the runner runs it."""

from __future__ import annotations

import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from escalator.sandbox import Sandbox, seed
from tests.e2e import SEED_CASE, run_entrypoint, runner_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_locked_install_runs_the_action_like_the_runner(tmp_path: Path) -> None:
    """A fresh venv with only requirements.txt, /action with the code, run from a workspace."""
    env_dir = tmp_path / "image-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "-r",
            str(ROOT / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    # COPY escalator/ /action/escalator/ and COPY entrypoint.py /action/entrypoint.py
    action_dir = tmp_path / "action"
    shutil.copytree(
        ROOT / "escalator", action_dir / "escalator", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "entrypoint.py", action_dir / "entrypoint.py")
    # RUN python -m compileall -q /action/escalator
    compiled = subprocess.run(
        [str(python), "-m", "compileall", "-q", str(action_dir / "escalator")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    bytecode = sorted(action_dir.rglob("*.pyc"))
    assert bytecode
    with Sandbox() as sandbox:
        runner = runner_for(
            sandbox,
            tmp_path / "github",
            SEED_CASE | {"urgency": "low"},
            extra_env={
                "PYTHONPATH": str(action_dir),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
            },
        )
        run = run_entrypoint(runner, [str(python), str(action_dir / "entrypoint.py")])
        state = sandbox.state()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["escalation_policy_id"] == "PPLATFM"
    assert run.outputs["urgency"] == "low"
    assert state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]["urgency"] == "low"
    assert seed.DEMO_INCIDENT_ID in state["port"]["entities"]["pagerdutyIncident"]
    # Nothing written to the image's code directory, nothing left in the workspace
    assert sorted(action_dir.rglob("*.pyc")) == bytecode
    assert list(runner.workspace.iterdir()) == []
