"""The package's layer rules, read from its source: operation names, sizes, imports, globals.

The sandbox is apart (it is PagerDuty's and Port's fake, with its own words), as are the argument
tables of the command lines.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from escalator.operations import OPERATIONS

PACKAGE = Path(__file__).resolve().parents[1] / "escalator"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
#: Functions that are argument tables (one add_argument per option), kept whole on purpose.
ARGUMENT_TABLES = {("kit/cli.py", "build_parser"), ("faces/cli/options.py", "_add_operation")}
#: Still over the limits, to be split; this list may only shrink.
NOT_YET_SPLIT = {
    ("http/transport.py", ""),
    ("http/transport.py", "_attempt"),
    ("http/transport.py", "request"),
    ("clients/port.py", ""),
    ("faces/action.py", "run"),
    ("faces/cli/operation.py", "run_operation"),
    ("report/entity.py", "build_entity"),
}
#: Operation names that are also input names or PagerDuty fields: counted only in comparisons.
SHARED_WORDS = {"note", "priority"}


def modules() -> Iterator[tuple[str, ast.Module, str]]:
    """Each module of the package outside the sandbox: its path, its tree, its source."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith("sandbox/"):
            source = path.read_text(encoding="utf-8")
            yield relative, ast.parse(source), source


def own_module(name: str) -> str:
    """The package path of the module defining operation ``name``."""
    module = sys.modules[type(OPERATIONS[name]).__module__]
    assert module.__file__ is not None
    return Path(module.__file__).relative_to(PACKAGE).as_posix()


def literal_modules(name: str) -> set[str]:
    """The modules holding ``name`` as a string literal."""
    return {
        relative
        for relative, tree, _ in modules()
        if any(isinstance(n, ast.Constant) and n.value == name for n in ast.walk(tree))
    }


def compared_in(name: str) -> set[str]:
    """The modules comparing a value with ``name`` (==, !=, in, not in)."""
    found = set()
    for relative, tree, _ in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                for part in parts:
                    items = (
                        part.elts if isinstance(part, ast.Tuple | ast.List | ast.Set) else [part]
                    )
                    if any(isinstance(i, ast.Constant) and i.value == name for i in items):
                        found.add(relative)
    return found


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - SHARED_WORDS))
def test_an_operation_name_is_written_in_three_modules_at_most(name: str) -> None:
    """An operation's name appears as a literal in its own module and at most two others."""
    found = literal_modules(name)
    assert own_module(name) in found
    assert len(found) <= 3, sorted(found)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_only_its_own_module_compares_with_an_operation_name(name: str) -> None:
    """No module but the operation's own compares a value with its name."""
    assert compared_in(name) <= {own_module(name)}


def test_no_global_statement() -> None:
    """No module of the package (sandbox included) rebinds module state with ``global``."""
    found = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Global)
    ]
    assert found == []


def test_modules_and_functions_fit_their_limits() -> None:
    """No module over 300 lines, no function over 40, but the argument tables and the listed
    modules still to split (and the list holds nothing that already fits)."""
    over = set()
    for relative, tree, source in modules():
        if len(source.splitlines()) > MAX_MODULE_LINES:
            over.add((relative, ""))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                if node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                    over.add((relative, node.name))
    assert over - ARGUMENT_TABLES == NOT_YET_SPLIT


def imports_of(tree: ast.Module) -> set[str]:
    """The modules ``tree`` imports, absolute names."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_requests_is_imported_only_in_the_http_layer() -> None:
    """``requests`` is imported by escalator/http/ only (the sandbox apart)."""
    users = {
        relative
        for relative, tree, _ in modules()
        if any(name == "requests" or name.startswith("requests.") for name in imports_of(tree))
    }
    assert users
    assert {user for user in users if not user.startswith("http/")} == set()


def test_the_environment_is_read_by_the_faces_only() -> None:
    """``os.environ`` and ``os.getenv`` are used in escalator/faces/ only (the sandbox apart)."""
    users = set()
    for relative, tree, _ in modules():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                users.add(relative)
    assert users
    assert {user for user in users if not user.startswith("faces/")} == set()


def test_no_import_circle_between_package_modules() -> None:
    """The package's modules import each other without a circle (imports under TYPE_CHECKING
    and inside functions count too)."""
    names = {
        relative.removesuffix(".py").removesuffix("/__init__").replace("/", "."): tree
        for relative, tree, _ in modules()
    }
    graph = {
        name: {
            imported.removeprefix("escalator.")
            for imported in imports_of(tree)
            if imported.startswith("escalator.")
        }
        & set(names)
        for name, tree in names.items()
    }
    assert find_circle(graph) == []


def find_circle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of ``graph`` (a list of nodes), or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (circle := visit(node)):
            return circle
    return []
