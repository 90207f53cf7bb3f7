#!/usr/bin/env python3
"""How long the action takes to import, here and at an older commit, alternating runs.

Each run is a fresh interpreter that imports the action's entry module the way entrypoint.py
does (with its environment) and reports the wall and CPU time of that import alone. Runs of the
two trees alternate, so a busy machine slows both alike; the figures are medians. Both trees are
compiled first, as the image compiles the package: otherwise a tree whose bytecode is missing or
stale (a fresh worktree, or ``PYTHONDONTWRITEBYTECODE`` set) pays for compiling its modules on
every run, and the comparison measures that instead.

    .venv/bin/python scripts/import_time.py [--against REV] [--runs N]

Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROBE = """
import os, sys, time, json, gc
gc.disable()
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__") if {plugins_off} else None
sys.path.insert(0, {root!r})
wall, cpu = time.perf_counter(), time.process_time()
import importlib
importlib.import_module({module!r})
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def entry_module(root: Path) -> str:
    """The module entrypoint.py imports its main from, in that tree."""
    for line in (root / "entrypoint.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("from escalator") and " import main" in line:
            return line.split()[1]
    raise SystemExit(f"{root}/entrypoint.py imports no main")


#: The floor no change of this project's code can go below: the runtime dependencies it must use.
FLOOR = "requests, pydantic, pydantic.main"


def once(root: Path | None) -> tuple[float, float]:
    """One fresh interpreter's import of ``root``'s action (None: the dependencies alone):
    (wall, cpu) seconds."""
    if root is None:
        code = PROBE.format(root=str(REPO), module="pydantic.main", plugins_off=True)
        code = code.replace("importlib.import_module('pydantic.main')", f"import {FLOOR}")
    else:
        plugins_off = "PYDANTIC_DISABLE_PLUGINS" in (root / "entrypoint.py").read_text("utf-8")
        code = PROBE.format(root=str(root), module=entry_module(root), plugins_off=plugins_off)
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    out = subprocess.run(  # this interpreter, our own probe
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    wall, cpu = json.loads(out)
    return float(wall), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="", help="an older commit to compare with")
    parser.add_argument("--runs", type=int, default=15, help="runs per tree (15)")
    args = parser.parse_args()
    trees: dict[str, Path | None] = {"this tree": REPO, f"floor ({FLOOR})": None}
    with tempfile.TemporaryDirectory(prefix="import-time-") as tmp:
        if args.against:
            old = Path(tmp) / "old"
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(old),
                 args.against],
                check=True,
            )  # fmt: skip
            trees[args.against] = old
        try:
            for root in trees.values():
                if root is not None:
                    compileall.compile_dir(root / "escalator", quiet=1)
            figures: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
            for _ in range(args.runs):
                for name, root in trees.items():
                    figures[name].append(once(root))
        finally:
            if args.against:
                older = str(trees[args.against])
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", older])
    print(f"import of the action, median of {args.runs} fresh interpreters (wall / CPU):")
    width = max(len(name) for name in figures)
    medians = {}
    for name, runs in figures.items():
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        medians[name] = wall
        print(f"  {name:{width}} {wall * 1000:6.1f} ms / {cpu * 1000:6.1f} ms")
    if args.against:
        print(f"  ratio this/older (wall): {medians['this tree'] / medians[args.against]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
