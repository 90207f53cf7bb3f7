"""Refresh ``examples/port/`` from the kit's packaged data, the one source of the Port JSON.

``escalator/kit/data/*.json`` is what ``escalator port-setup`` and the sandbox use; the files in
``examples/port/`` are byte-for-byte copies of them for people who set Port up by hand. This
copies every kit file there and removes any file the kit no longer has.

Usage: ``.venv/bin/python scripts/kit_examples.py [--check]``. ``--check`` changes nothing and
exits 1 when ``examples/port/`` differs from the kit, naming each file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "escalator" / "kit" / "data"
EXAMPLES = ROOT / "examples" / "port"


def differences() -> list[str]:
    """One line per file of ``examples/port/`` that is missing, different or not the kit's."""
    kit = {path.name: path.read_bytes() for path in KIT.glob("*.json")}
    examples = {path.name: path.read_bytes() for path in EXAMPLES.glob("*") if path.is_file()}
    lines = [f"missing: examples/port/{name}" for name in sorted(kit.keys() - examples.keys())]
    lines += [f"not in the kit: examples/port/{name}" for name in sorted(examples.keys() - kit)]
    lines += [
        f"differs from the kit: examples/port/{name}"
        for name in sorted(kit.keys() & examples.keys())
        if kit[name] != examples[name]
    ]
    return lines


def refresh() -> None:
    """Make ``examples/port/`` an exact copy of the kit's files."""
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for stale in EXAMPLES.glob("*"):
        if stale.is_file() and not (KIT / stale.name).is_file():
            stale.unlink()
    for path in KIT.glob("*.json"):
        (EXAMPLES / path.name).write_bytes(path.read_bytes())


def main(argv: list[str]) -> int:
    """Check or refresh; 0 when ``examples/port/`` is (now) the kit's copy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report differences, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        lines = differences()
        for line in lines:
            print(line, file=sys.stderr)
        if lines:
            print("Run: .venv/bin/python scripts/kit_examples.py", file=sys.stderr)
        return 1 if lines else 0
    refresh()
    print(f"examples/port/: {len(list(KIT.glob('*.json')))} files copied from escalator/kit/data/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
