"""Isolation for every test: no runner variables leak in from the machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import responses

import escalator.faces.action
from escalator.sandbox import Sandbox


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Clear INPUT_* and GITHUB_* variables and point the runner files at tmp_path."""
    for name in list(os.environ):
        if name.startswith(("INPUT_", "GITHUB_", "RUNNER_", "PAGERDUTY_", "PORT_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ESCALATOR_INSECURE_HTTP_HOSTS", raising=False)
    for name, file in (
        ("GITHUB_OUTPUT", "github_output"),
        ("GITHUB_STEP_SUMMARY", "step_summary.md"),
        ("GITHUB_ENV", "github_env"),
    ):
        path = tmp_path / "runner" / file
        path.parent.mkdir(exist_ok=True)
        path.touch()
        monkeypatch.setenv(name, str(path))
    return


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    """``responses`` on the wire; a request the test expected and the code never sent fails it."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One sandbox for a test module (starting one per test would cost more than the test)."""
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(shared_sandbox: Sandbox) -> Sandbox:
    """The module's sandbox, back to its seed, with no faults and an empty journal."""
    shared_sandbox.clear_faults()
    shared_sandbox.reset()
    shared_sandbox.clear_journal()
    return shared_sandbox


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Mapping[str, str]]:
    """The raw inputs each CLI run hands to escalator.faces.action.run (which then does nothing)."""
    calls: list[Mapping[str, str]] = []

    def record(raw: Mapping[str, str], *args: Any, **kwargs: Any) -> int:
        calls.append(raw)
        return 0

    monkeypatch.setattr(escalator.faces.action, "run", record)
    return calls


#: The modules that read the fault matrix's shared runs (tests/matrix.py): on several workers
#: (pytest-xdist) they go to one, so that each case runs once, not once in each worker. (Not by
#: ``xdist_group`` marks: pytest-xdist 3.8 groups by renaming a test's node ID, which pytest 9.2,
#: whose node IDs are read-only, no longer sees.)
MATRIX_MODULES = ("tests/test_faults.py::", "tests/test_secrets.py::")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` (pytest-xdist's ``--dist load``): each test goes to the next free worker, but
    the matrix's readers all go to one, as the largest unit of work, handed out first."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class MatrixTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "matrix" if nodeid.startswith(MATRIX_MODULES) else nodeid

    return MatrixTogether(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Undo what the Docker tests added to the engine when the session ends, not later."""
    engine = sys.modules.get("tests.engine")
    if engine is not None:
        engine.finish()
