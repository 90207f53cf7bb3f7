"""The package's layer rules, read from its source: operation names, sizes, imports, globals,
module state.

The sandbox is apart (it is PagerDuty's and Port's fake, with its own words), as are the argument
tables of the command lines.
"""

from __future__ import annotations

import ast
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from escalator import errors, terms
from escalator.operations import INCIDENT_OPERATIONS, OPERATIONS

PACKAGE = Path(__file__).resolve().parents[1] / "escalator"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
#: Functions that are argument tables (one add_argument per option), kept whole on purpose.
ARGUMENT_TABLES = {("kit/cli.py", "build_parser")}
#: Still over the limits, to be split; this list may only shrink.
NOT_YET_SPLIT: set[tuple[str, str]] = set()
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


#: The operation interface: the protocols an operation meets and the use case calls, by module.
INTERFACE = {
    "operations/base.py": ("Described", "Operation", "Gather"),
    "operations/target.py": ("TargetOperation", "TargetReads"),
}


def loose_annotations(tree: ast.Module, classes: tuple[str, ...]) -> list[str]:
    """Where a signature or attribute of ``classes`` in ``tree`` says ``Any`` or ``object``, as
    ``Class.member``; each class must be there."""
    found, seen = [], set()
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in classes:
            continue
        seen.add(node.name)
        for member in node.body:
            annotations: list[ast.expr | None] = []
            if isinstance(member, ast.AnnAssign):
                annotations, name = [member.annotation], getattr(member.target, "id", "")
            elif isinstance(member, ast.FunctionDef):
                args = member.args
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
                annotations = [a.annotation for a in every if a is not None] + [member.returns]
                name = member.name
            for annotation in filter(None, annotations):
                words = {getattr(n, "id", getattr(n, "attr", "")) for n in ast.walk(annotation)}
                if words & {"Any", "object"}:
                    found.append(f"{node.name}.{name}")
    assert seen == set(classes)
    return found


def test_the_operation_interface_says_no_any_or_object() -> None:
    """The protocols an operation meets (its words, its gather and plan, its reads) have no
    ``Any`` or ``object`` in their signatures; and this check finds one."""
    found = []
    for relative, classes in INTERFACE.items():
        tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
        found += loose_annotations(tree, classes)
    assert found == []
    mistake = ast.parse(
        "class Operation(Protocol):\n"
        "    kind: ClassVar[object]\n"
        "    def gather(self, inputs: I, *args: Any) -> R: ...\n"
        "    def plan(self, request: R) -> Plan: ...\n"
    )
    assert loose_annotations(mistake, ("Operation",)) == ["Operation.kind", "Operation.gather"]


@pytest.mark.parametrize("name", sorted(INCIDENT_OPERATIONS))
def test_an_incident_operation_plans_on_the_request_it_gathers(name: str) -> None:
    """Each incident operation declares its request type: what ``gather`` returns is what its
    plan takes, and neither is ``Any``."""
    operation = type(INCIDENT_OPERATIONS[name])
    planner = operation.plan_on if hasattr(operation, "plan_on") else operation.plan
    gathered = typing.get_type_hints(operation.gather)["return"]
    planned = typing.get_type_hints(planner)["request"]
    assert gathered == planned
    assert gathered is not typing.Any


def test_no_global_statement() -> None:
    """No module of the package (sandbox included) rebinds module state with ``global``."""
    found = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Global)
    ]
    assert found == []


#: Methods that change a list, dict or set in place.
MUTATORS = {"append", "extend", "insert", "pop", "popitem", "clear", "update", "setdefault"}
MUTATORS |= {"add", "remove", "discard", "sort", "reverse", "__setitem__", "__delitem__"}
#: Calls that build a mutable container.
MUTABLE_CALLS = {"list", "dict", "set", "defaultdict", "deque", "OrderedDict", "Counter"}


def is_mutable(value: ast.expr | None) -> bool:
    """Whether ``value`` builds a list, dict or set (a display, a comprehension or a call)."""
    displays = ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp | ast.SetComp
    if isinstance(value, displays):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name in MUTABLE_CALLS
    return False


def module_state(tree: ast.Module) -> set[str]:
    """The names a module binds, at its top level, to a list, dict or set."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and is_mutable(node.value):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names |= {node.target.id} if is_mutable(node.value) else set()
    return names


def mutated_in_functions(tree: ast.Module, names: set[str]) -> list[str]:
    """Where a function of ``tree`` changes one of ``names`` in place (item set or deleted, or
    a mutating method called), as ``function:line``."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            target = None
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
                target = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = node.func.value if node.func.attr in MUTATORS else None
            if isinstance(target, ast.Name) and target.id in names:
                found.append(f"{function.name}:{node.lineno}")
    return found


def test_no_function_changes_module_level_state() -> None:
    """No function of the package (sandbox included) changes a module-level list, dict or set:
    what a run says cannot depend on what ran before it in the process."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        places = mutated_in_functions(tree, module_state(tree))
        found += [f"{path.relative_to(PACKAGE)} {place}" for place in places]
    assert found == []


def test_the_check_of_module_state_finds_a_face_switch() -> None:
    """The module-state check catches terms kept in a module-level list and switched by a call."""
    tree = ast.parse(
        "_current = [ACTION]\n"
        "def use(terms):\n"
        "    previous, _current[0] = _current[0], terms\n"
        "def forget():\n"
        "    _current.clear()\n"
    )
    assert module_state(tree) == {"_current"}
    assert mutated_in_functions(tree, {"_current"}) == ["use:3", "forget:5"]


def test_the_terms_are_passed_never_held() -> None:
    """``escalator.terms`` has no terms in use to switch or read (no ``_current``, ``current``,
    ``use``, ``using`` or module-level ``render``), its terms cannot change, and an error has no
    text rendered by itself: the face that prints passes its terms."""
    for name in ("_current", "current", "use", "using", "render"):
        assert not hasattr(terms, name), name
    with pytest.raises(AttributeError):
        terms.CLI.cli = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        terms.Terms(cli=True).positionals["note"] = "NOTE"  # type: ignore[index]
    error = errors.InputError("from", "is not an e-mail address.")
    assert not hasattr(error, "message")
    assert not hasattr(error, "hint")
    assert error.render(terms.CLI).message == "--from: is not an e-mail address."


def caught_errors(handler: ast.ExceptHandler) -> set[str]:
    """The project's error classes (:mod:`escalator.errors`) an ``except`` clause names."""
    named = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = {node.id if isinstance(node, ast.Name) else getattr(node, "attr", "") for node in named}
    return {name for name in names if isinstance(getattr(errors, name, None), type)}


def unrendered_errors(tree: ast.Module) -> list[int]:
    """Lines where an error caught by ``except <project error> as name`` becomes text as it is
    (``f"{name}"``, ``str(name)``), placeholders unrendered, rather than by ``name.render``."""
    found = []
    for handler in ast.walk(tree):
        if not isinstance(handler, ast.ExceptHandler) or not handler.name:
            continue
        if not caught_errors(handler):
            continue
        for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
            if isinstance(node, ast.FormattedValue):
                value = node.value
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "str":
                value = node.args[0] if node.args else None
            else:
                continue
            if isinstance(value, ast.Name) and value.id == handler.name:
                found.append(node.lineno)
    return found


def test_a_caught_error_is_rendered_in_the_face_terms() -> None:
    """No module makes text of a caught project error without rendering it in the terms of the
    face that prints it (``error.render(console.terms)``); and this check finds the mistake."""
    found = [
        f"{relative}:{line}" for relative, tree, _ in modules() for line in unrendered_errors(tree)
    ]
    assert found == []
    mistake = ast.parse(
        "try:\n    go()\nexcept (InputError, KeyError) as exc:\n    warn(f'failed: {exc}')\n"
    )
    assert unrendered_errors(mistake) == [4]


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
