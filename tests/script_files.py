"""The repository's scripts/ files as tests use them: imported as a module, or run as a command."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import ModuleType

from tests.tools import REPO


def load_script(file: str, name: str) -> ModuleType:
    """scripts/``file`` imported as the module ``name`` (registered, as dataclasses need)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / file)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def run_script(file: str, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/``file`` run with this Python and ``args``, its output captured."""
    return subprocess.run(  # the repository's own script
        [sys.executable, str(REPO / "scripts" / file), *args],
        capture_output=True,
        text=True,
        check=False,
    )
