"""Compile, while the image is built, the bytecode of exactly the modules the action's runs import.

Run in the Dockerfile's build stage, with the package and its dependencies under ``ROOT``
(``/action``) and the sandbox still there: the action runs against the sandbox in the cases below,
each as the runner starts it (``entrypoint.py``, every ``INPUT_*``), with ``PYTHONPYCACHEPREFIX``
pointing at a scratch folder. Python writes there the bytecode of every module it imports, so the
scratch folder lists what runs import. Each of those sources is then compiled, with
``unchecked-hash`` invalidation (the image never changes and file times may not survive the copy
into the final stage), and nothing else is: the sources under ``ROOT`` next to themselves, the
others (the standard library's: the official python image ships no bytecode at all) under
``STAGE`` at the same absolute path, for the final stage to copy over the base.

    python scripts/image_bytecode.py ROOT STAGE     # /action /stage in the Dockerfile

Prints the number of modules compiled; exits non-zero when a case does not end as expected (the
build then fails: the image would not work).
"""

from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import subprocess
import sys
import tempfile
from pathlib import Path

from escalator.faces.action import input_env_name
from escalator.inputs import DEFAULTS, INPUT_NAMES
from escalator.sandbox import Sandbox, seed

#: (name, inputs, sandbox faults, expected exit code): together they take every branch that
#: imports something (success, dry run, a level, bad input, a service error, retries, PyGithub).
CASES: list[tuple[str, dict[str, str], list[dict[str, object]], int]] = [
    ("escalate", {"finish_port_run": "true"}, [], 0),
    ("level", {"escalation_policy_id": "", "urgency": "high", "escalation_level": "2"}, [], 0),
    ("dry-run", {"dry_run": "true"}, [], 0),
    ("bad-input", {"urgency": "urgent"}, [], 2),
    ("github-token", {"github_token": "ghs_not-a-real-token"}, [], 0),
    (
        "retries",
        {},
        [
            {"method": "GET", "path": "/pagerduty/incidents/*", "steps": [{"fault": "reset"}]},
            {
                "method": "POST",
                "path": "/port/v1/blueprints/*/entities",
                "steps": [{"status": 503}],
            },
        ],
        0,
    ),
    (
        "port-refuses",
        {},
        [{"method": "POST", "path": "/port/v1/blueprints/*/entities", "steps": [{"status": 404}]}],
        1,
    ),
]


def case_env(sandbox: Sandbox, inputs: dict[str, str], workspace: Path) -> dict[str, str]:
    """The runner's environment for one case of the seed incident."""
    values = dict(DEFAULTS) | {
        "port_context": json.dumps({"entity": seed.DEMO_INCIDENT_ID, "run_id": seed.DEMO_RUN_ID}),
        "escalation_policy_id": "PPLATFM",
        "urgency": "low",
        "from": seed.FROM_EMAIL,
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "pagerduty_api_url": sandbox.pagerduty_url,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "port_api_url": sandbox.port_url,
        "timeout_seconds": "20",
    }
    values |= inputs
    env = {input_env_name(name): values.get(name, "") for name in INPUT_NAMES}
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"):
        path = workspace / name.lower()
        path.touch()
        env[name] = str(path)
    return env | {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": sandbox.url + "/github",
        "GITHUB_REPOSITORY": "example-org/incident-workflows",
        "GITHUB_RUN_ID": "4242",
    }


def run_cases(root: Path, prefix: Path) -> None:
    """Run every case; raise SystemExit when one ends otherwise than expected."""
    for name, inputs, faults, expected in CASES:
        with Sandbox(faults=faults or None) as sandbox, tempfile.TemporaryDirectory() as folder:
            env = case_env(sandbox, inputs, Path(folder))
            env["PYTHONPYCACHEPREFIX"] = str(prefix)
            run = subprocess.run(
                [sys.executable, str(root / "entrypoint.py")],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        if run.returncode != expected or "Traceback" in run.stderr:
            raise SystemExit(f"case {name}: exit {run.returncode}\n{run.stdout}\n{run.stderr}")


def imported_sources(prefix: Path) -> list[Path]:
    """Every source file whose bytecode the runs wrote under ``prefix`` (which mirrors the
    absolute paths of the sources)."""
    tag = sys.implementation.cache_tag
    sources = []
    for cached in prefix.rglob(f"*.{tag}.pyc"):
        folder = Path("/") / cached.parent.relative_to(prefix)
        source = folder / (cached.name.removesuffix(f".{tag}.pyc") + ".py")
        if source.is_file():
            sources.append(source)
    return sorted(sources)


def compile_into(source: Path, root: Path, stage: Path) -> None:
    """Compile ``source`` to its usual ``__pycache__`` place: in place under ``root``, else under
    ``stage`` (the base image's own files, the standard library's, are not changed)."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    if not source.is_relative_to(root):
        cached = stage / cached.relative_to(cached.anchor)
    cached.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(
        str(source),
        cfile=str(cached),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "/action").resolve()
    stage = Path(argv[2] if len(argv) > 2 else "/stage").resolve()
    with tempfile.TemporaryDirectory() as scratch:
        prefix = Path(scratch)
        run_cases(root, prefix)
        sources = imported_sources(prefix)
    for source in sources:
        compile_into(source, root, stage)
    inside = sum(source.is_relative_to(root) for source in sources)
    print(f"compiled the {len(sources)} modules runs import: {inside} under {root}, the others")
    print(f"(the standard library's) under {stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
