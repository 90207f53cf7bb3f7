"""A test run leaves the Docker engine's images, and everything outside the clone, as it found them.

The Docker tests (a container build and run, a release and its re-run, the self-test) run in a
child pytest, on a copy of the clone in a folder of its own, with a run label of their own.
Afterwards the engine holds no image with that label (every image those tests build carries it,
and the images pulled back from their registries carry the same configuration), no tag under
``escalate-action-test``, and the copy's folder holds nothing but the copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests import engine, release_env

pytestmark = pytest.mark.slow

CHILD_TESTS = (
    "tests/test_container.py::test_image_holds_only_what_the_action_runs",
    "tests/test_release.py::test_self_test_fails_on_the_platform_whose_image_fails",
    "tests/test_release.py::test_release_then_rerun_finishes_only_what_is_missing",
)


def copy_clone(target: Path) -> None:
    """Copy the files git knows of (as they are in the working tree) to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=engine.REPO, capture_output=True, check=True,
    )  # fmt: skip
    for name in listed.stdout.decode().split("\0"):
        source = engine.REPO / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_docker_tests_leave_no_image_and_no_file_outside_the_clone(tmp_path: Path) -> None:
    """After the container and release tests, their images are gone and nothing was written
    beside the clone."""
    release_env.ensure_docker_engine()
    try:
        base = engine.base_image()
    except engine.Unavailable as exc:
        release_env.unavailable(str(exc))
    parent = tmp_path / "parent"
    clone = parent / "escalate-action"
    copy_clone(clone)
    run_id = f"cleanup-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CI": "true", "ESCALATOR_TEST_RUN": run_id,
           engine.BASE_VARIABLE: base}  # fmt: skip
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--basetemp", str(tmp_path / "basetemp"), *CHILD_TESTS],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-2000:]
    assert f"{len(CHILD_TESTS)} passed" in child.stdout, child.stdout[-1000:]
    left = engine.docker_run(
        "image", "ls", "--all", "--quiet", "--filter", f"label={engine.LABEL}={run_id}"
    )
    assert left.returncode == 0, left.stderr
    assert left.stdout.split() == []
    assert [name for name in engine.references("escalate-action-test") if run_id in name] == []
    assert sorted(path.name for path in parent.iterdir()) == ["escalate-action"]


def test_the_engine_is_refused_on_several_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """On several pytest-xdist workers no Docker test starts, asks or stops an engine: the
    refusal says to run them without -n, as scripts/test does."""
    asked: list[tuple[str, ...]] = []

    def record(*args: str, **options: object) -> str:
        asked.append(args)
        return ""

    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    monkeypatch.setattr(engine, "tool", record)
    monkeypatch.setattr(engine, "docker_run", record)
    with pytest.raises(engine.Unavailable, match=r"not on 2 workers \(-n\).*without -n"):
        engine.ensure_engine()
    assert asked == []
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    monkeypatch.setattr(engine, "answers", lambda: True)
    engine.ensure_engine()  # one worker is one process: the engine that answers is used
