"""Write the inputs and outputs tables of ``docs/inputs.md`` from ``action.yml``, their one source.

The tables sit between two marker lines of the page; everything else on it is written by hand.
Each input's row holds its name, whether it is required, its default and its description, as
``action.yml`` declares them; an empty ``operation`` runs the registry's first operation, and the
table says which.

Usage: ``.venv/bin/python scripts/inputs_doc.py [--check]``. ``--check`` changes nothing and exits
1 when the page's tables are not what ``action.yml`` gives.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
PAGE = ROOT / "docs" / "inputs.md"
BEGIN = "<!-- The tables below are written by scripts/inputs_doc.py from action.yml. -->"
END = "<!-- End of the tables written by scripts/inputs_doc.py. -->"


def default_operation() -> str:
    """The operation an empty ``operation`` input runs: the first of the registry."""
    sys.path.insert(0, str(ROOT))
    from escalator.operations import OPERATIONS

    return next(iter(OPERATIONS))


def cell(text: Any) -> str:
    """One table cell: the text on one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def tables(action: dict[str, Any], operation_default: str) -> str:
    """The Markdown of both tables, in ``action.yml``'s order."""
    lines = ["## Inputs", "", "| Input | Required | Default | Description |", "|---|---|---|---|"]
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        shown = f"`{default}`" if default else "—"
        if name == "operation" and not default:
            shown = f"`{operation_default}` (when empty)"
        required = "yes" if spec.get("required") else "no"
        lines.append(f"| `{name}` | {required} | {shown} | {cell(spec['description'])} |")
    lines += ["", "## Outputs", "", "| Output | Description |", "|---|---|"]
    for name, spec in action["outputs"].items():
        lines.append(f"| `{name}` | {cell(spec['description'])} |")
    return "\n".join(lines)


def rendered(page: str, action: dict[str, Any], operation_default: str) -> str:
    """``page`` with the text between its markers replaced by the tables."""
    head, begin, rest = page.partition(BEGIN + "\n")
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise SystemExit(f"{PAGE.relative_to(ROOT)} lacks the marker lines:\n{BEGIN}\n{END}")
    return f"{head}{BEGIN}\n\n{tables(action, operation_default)}\n\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Check or write the page; 0 when its tables are (now) action.yml's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report a difference, change nothing")
    args = parser.parse_args(argv)
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    page = PAGE.read_text(encoding="utf-8")
    wanted = rendered(page, action, default_operation())
    if args.check:
        if wanted != page:
            print("docs/inputs.md differs from action.yml.", file=sys.stderr)
            print("Run: .venv/bin/python scripts/inputs_doc.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(wanted, encoding="utf-8")
    print("docs/inputs.md: the inputs and outputs tables written from action.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
