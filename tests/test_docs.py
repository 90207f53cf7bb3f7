"""The README and docs/ agree with action.yml, the registry of operations, the kit and the code."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from escalator.operations import OPERATION_INPUTS, OPERATIONS, parse_inputs
from tests.script_files import load_script, run_script

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCS = REPO / "docs"
INPUTS_PAGE = DOCS / "inputs.md"
OPERATIONS_PAGE = DOCS / "operations.md"
KIT = REPO / "escalator" / "kit" / "data"
WORKFLOW = REPO / "examples" / "pagerduty-incident.yml"
PAGES = [
    README,
    *sorted(DOCS.glob("*.md")),
    REPO / "examples" / "README.md",
    REPO / "CONTRIBUTING.md",
    REPO / "SECURITY.md",
]


def action_metadata() -> dict[str, Any]:
    metadata: dict[str, Any] = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    return metadata


def table(path: Path, heading: str) -> list[list[str]]:
    """The first table under ``heading`` (any level) of ``path``: its header, then its rows."""
    text = path.read_text(encoding="utf-8")
    section = re.search(rf"^#+ {heading}\n(.*?)(?=^#+ |\Z)", text, flags=re.S | re.M)
    assert section, f"{path.name} has no '{heading}' section"
    lines = section.group(1).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), len(lines))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    assert len(rows) > 2, f"{path.name}'s {heading} section has no table"
    assert set("".join(rows[1])) <= set("-: "), "second row must be the separator"
    return [rows[0], *rows[2:]]


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^ *```{language}\n(.*?)^ *```$", text, flags=re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^ *```.*?^ *```$", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {anchor(heading) for heading in re.findall(r"^#+ (.+)$", text, flags=re.M)}


# --- the inputs and outputs page -----------------------------------------------------------------


def test_inputs_table_matches_action_yml() -> None:
    """docs/inputs.md lists action.yml's inputs in order, with required, default and description."""
    header, *rows = table(INPUTS_PAGE, "Inputs")
    assert header == ["Input", "Required", "Default", "Description"]
    inputs = action_metadata()["inputs"]
    assert [row[0] for row in rows] == [f"`{name}`" for name in inputs]
    for row, (name, spec) in zip(rows, inputs.items(), strict=True):
        assert row[1] == ("yes" if spec.get("required") else "no"), name
        default = str(spec.get("default", ""))
        if default:
            assert row[2] == f"`{default}`", name
        elif name != "operation":
            assert row[2] == "—", name
        assert row[3] == " ".join(spec["description"].split()), name


def test_inputs_table_says_what_an_empty_operation_runs() -> None:
    """The operation row's default is the operation a run with an empty operation input runs."""
    rows = {row[0]: row for row in table(INPUTS_PAGE, "Inputs")[1:]}
    shown = re.fullmatch(r"`([a-z-]+)` \(when empty\)", rows["`operation`"][2])
    assert shown, rows["`operation`"]
    raw = {"operation": "", "pagerduty_token": "pd-token-1234", "incident_id": "PABC123"}
    inputs = parse_inputs({**raw, "urgency": "high"})
    assert inputs.operation == shown.group(1)


def test_outputs_table_matches_action_yml() -> None:
    """docs/inputs.md lists action.yml's outputs in order, each with its description."""
    header, *rows = table(INPUTS_PAGE, "Outputs")
    assert header == ["Output", "Description"]
    outputs = action_metadata()["outputs"]
    assert [row[0] for row in rows] == [f"`{name}`" for name in outputs]
    for row, spec in zip(rows, outputs.values(), strict=True):
        assert row[1] == " ".join(spec["description"].split())


def test_inputs_page_is_what_the_script_writes() -> None:
    """scripts/inputs_doc.py --check passes: the page's tables are action.yml's."""
    result = run_script("inputs_doc.py", "--check")
    assert result.returncode == 0, result.stderr


def test_inputs_script_rewrites_only_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script replaces a stale table between its markers, keeps the rest, and --check fails
    on the stale page."""
    script = load_script("inputs_doc.py", "inputs_doc")
    page = tmp_path / "inputs.md"
    stale = f"# Head\n\n{script.BEGIN}\n| stale |\n{script.END}\n\nTail.\n"
    page.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(script, "PAGE", page)
    assert script.main(["--check"]) == 1
    assert script.main([]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Head\n\n")
    assert text.endswith("\n\nTail.\n")
    assert "| stale |" not in text
    assert "| `pagerduty_token` | no | — |" in text  # each operation says whether it needs it
    assert script.main(["--check"]) == 0


# --- operations ----------------------------------------------------------------------------------


def test_every_operation_has_its_row_in_docs_operations() -> None:
    """docs/operations.md has one row per operation of the registry, in its order, naming the
    inputs the operation requires, and no row for an operation the registry lacks."""
    header, *rows = table(OPERATIONS_PAGE, "Operations")
    assert header[0] == "operation"
    assert [row[0] for row in rows] == [f"`{name}`" for name in OPERATIONS]
    for row in rows:
        needs, _ = OPERATION_INPUTS[row[0].strip("`")]
        for name in (n for n in needs if n not in ("incident_id", "from")):
            assert f"`{name}`" in row[1], (row[0], name)


def test_every_operation_is_in_the_readme() -> None:
    """The README's operations table names every operation of the registry, in its order."""
    header, *rows = table(README, "Operations")
    assert header == ["Operation", "What it does"]
    assert [row[0] for row in rows] == [f"`{name}`" for name in OPERATIONS]


# --- the README's shape --------------------------------------------------------------------------


def test_readme_leads_with_what_it_is_the_two_commands_and_the_contents() -> None:
    """The README is under 400 lines; its first 40 say what it is, give the demo and test
    commands, and hold the table of contents."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) < 400
    first = "\n".join(lines[:40])
    for words in ("GitHub Action", "PagerDuty", "Port", "bash scripts/demo", "bash scripts/test"):
        assert words in first, words
    assert "## Contents" in first


def test_readme_contents_link_every_section() -> None:
    """Every section of the README is in its table of contents, and every entry has a section."""
    text = README.read_text(encoding="utf-8")
    contents = re.search(r"^## Contents\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert contents
    linked = re.findall(r"\]\(#([^)]+)\)", contents.group(1))
    sections = [anchor(h) for h in re.findall(r"^## (.+)$", text, flags=re.M) if h != "Contents"]
    assert sorted(linked) == sorted(sections)


def test_readme_walks_through_the_sandbox_before_the_steps_that_need_accounts() -> None:
    """The no-account walkthrough comes before the setup that needs Port and PagerDuty."""
    headings = re.findall(r"^## (.+)$", README.read_text(encoding="utf-8"), flags=re.M)
    assert headings.index("Try it without an account") < headings.index("Use it in your repository")


def test_readme_says_how_to_use_the_action_before_a_release() -> None:
    """The README says to pin a commit SHA before any release, and links how to cut the first."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Before the first release.*?\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert section
    assert re.search(r"uses: [\w-]+/escalate-action@[0-9a-f]{40}\b", section.group(1))
    assert "image: Dockerfile" in section.group(1)
    assert "docs/releasing.md#the-first-release" in section.group(1)
    assert "the-first-release" in anchors(DOCS / "releasing.md")


@pytest.mark.parametrize("page", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_resolve(page: Path) -> None:
    """Each relative link of the page names a file of the repository, and its #anchor a heading."""
    text = re.sub(r"^ *```.*?^ *```$", "", page.read_text(encoding="utf-8"), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), (page.name, target)
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved), (page.name, target)


@pytest.mark.parametrize(
    ("topic", "where"),
    [
        ("Inputs", "docs/inputs.md"),
        ("Outputs", "docs/inputs.md"),
        ("Using the outputs in later steps", "docs/inputs.md"),
        ("Operations", "docs/operations.md"),
        ("Command line", "docs/command-line.md"),
        ("Port setup", "docs/port-setup.md"),
        ("Port by hand", "docs/port.md"),
        ("Troubleshooting", None),
        ("Secrets", None),
        ("Regions", None),
        ("Security", None),
        ("Migrating from the chained workflows", None),
        ("Releases and the prebuilt image", "docs/releasing.md"),
        ("Non-goals", None),
        ("Development", "CONTRIBUTING.md"),
    ],
)
def test_readme_leads_to_each_topic(topic: str, where: str | None) -> None:
    """Each topic a user looks for is a README heading, or the README links the page holding it."""
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    if where is None:
        assert any(heading.startswith(topic) for heading in headings), topic
    else:
        assert f"]({where}" in text, (topic, where)
        assert (REPO / where).exists()


# --- copies of the kit and the workflow ----------------------------------------------------------


def test_documents_link_the_kit_rather_than_copy_it() -> None:
    """A Port action shown in any document is the kit's file as it is, and a step that uses the
    action passes only inputs action.yml declares; the README links the workflow, not a copy."""
    kit = {
        data["identifier"]: data
        for path in KIT.glob("*-action.json")
        if isinstance(data := json.loads(path.read_text(encoding="utf-8")), dict)
    }
    inputs = set(action_metadata()["inputs"])
    steps = 0
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in fenced_blocks(text, "json"):
            data = json.loads(block)
            if isinstance(data, dict) and "invocationMethod" in data:
                assert data == kit[data["identifier"]], page.name
        for block in fenced_blocks(text, "yaml"):
            for step in uses_of_the_action(yaml.safe_load(block)):
                assert set(step.get("with") or {}) <= inputs, (page.name, step)
                steps += 1
    assert steps >= 2
    readme = README.read_text(encoding="utf-8")
    assert "](examples/pagerduty-incident.yml)" in readme
    assert WORKFLOW.read_text(encoding="utf-8") not in readme


def uses_of_the_action(node: Any) -> list[dict[str, Any]]:
    """Every mapping under ``node`` whose ``uses`` names the action."""
    found = []
    if isinstance(node, dict):
        if re.match(r"[\w-]+/escalate-action@", str(node.get("uses", ""))):
            found.append(node)
        for value in node.values():
            found += uses_of_the_action(value)
    elif isinstance(node, list):
        for value in node:
            found += uses_of_the_action(value)
    return found


# --- troubleshooting -----------------------------------------------------------------------------


def code_messages() -> list[str]:
    """The string literals of the action's code (sandbox and docstrings left out), each piece of
    an f-string apart, with inputs rendered as the action names them."""
    from escalator import terms

    texts = []
    for path in sorted((REPO / "escalator").rglob("*.py")):
        if "sandbox" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        texts += [
            terms.ACTION.render(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ]
    return texts


def test_readme_troubleshooting_quotes_messages_the_code_writes() -> None:
    """Each message quoted in the README's troubleshooting table is written by the code: every
    piece between the `...` and `<...>` gaps, past a leading input name, is in a literal."""
    header, *rows = table(README, "Troubleshooting")
    assert header[0] == "The action says"
    inputs = set(action_metadata()["inputs"])
    corpus = code_messages()
    checked = 0
    for row in rows:
        for quoted in re.findall(r"`([^`]+)`", row[0]):
            for piece in re.split(r"\.\.\.|<[^>]+>", quoted):
                name, colon, rest = piece.lstrip().partition(": ")
                text = (rest if colon and name in inputs else piece).strip()
                if len(text) >= 6:
                    assert any(text in message for message in corpus), (quoted, text)
                    checked += 1
    assert checked >= len(rows)
