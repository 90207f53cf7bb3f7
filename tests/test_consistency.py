"""action.yml, the inputs model, the outputs, the command line and the messages agree."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from escalator import terms
from escalator.errors import EscalatorError, InputError, PagerDutyError, ReportingError
from escalator.faces.cli import SECRET_ENV, build_parser
from escalator.faces.cli.options import COMMON, OPTION_FORM
from escalator.hints import HINTS
from escalator.inputs import (
    DEFAULTS,
    INPUT_NAMES,
    SECRET_INPUTS,
    CommonInputs,
)
from escalator.operations import OPERATION_INPUTS, OPERATIONS, parse_inputs
from escalator.report.summary import OUTPUT_NAMES
from escalator.workflow import Console

ROOT = Path(__file__).resolve().parents[1]


def action_yml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return document


def subcommand(name: str) -> argparse.ArgumentParser:
    """The parser of ``escalator <name>``."""
    parser = build_parser()
    commands = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
    found: argparse.ArgumentParser = commands.choices[name]  # type: ignore[attr-defined]
    return found


# --- action.yml and the model ------------------------------------------------------------------


def test_inputs_are_the_models_in_the_same_order() -> None:
    """Every input of action.yml is read by the common model or an operation's, and no other."""
    assert tuple(action_yml()["inputs"]) == INPUT_NAMES
    fields = {field.alias or name for name, field in CommonInputs.model_fields.items()}
    fields |= {name for op in OPERATIONS.values() for name in op.inputs_model.inputs()}
    read_elsewhere = {"port_context", "snooze_duration"}  # parsed into port_* and snooze_seconds
    assert set(INPUT_NAMES) - read_elsewhere <= fields


def test_defaults_agree() -> None:
    """The defaults declared in action.yml are the model's defaults; the new inputs are empty."""
    declared = {
        name: str(spec["default"])
        for name, spec in action_yml()["inputs"].items()
        if str(spec.get("default", ""))
    }
    assert declared == dict(DEFAULTS)


def test_no_input_is_required_by_the_metadata() -> None:
    """No input is required by action.yml: each operation says which it needs (pagerduty_token
    for the REST API, routing_key for the Events API), and the action checks them."""
    required = [name for name, spec in action_yml()["inputs"].items() if spec.get("required")]
    assert required == []
    assert "trigger" in action_yml()["inputs"]["pagerduty_token"]["description"]


def test_outputs_are_the_ones_written() -> None:
    """Every output of action.yml is written by the action, in the same order, each described."""
    outputs = action_yml()["outputs"]
    assert tuple(outputs) == OUTPUT_NAMES
    assert "operation" in outputs
    assert all(spec.get("description") for spec in outputs.values())


def test_every_input_is_described() -> None:
    """Each input has a description for the Marketplace page."""
    assert all(spec.get("description") for spec in action_yml()["inputs"].values())


def test_no_example_policy_is_a_sandbox_incident() -> None:
    """action.yml never shows PT4KHLK (a sandbox incident) as an escalation policy."""
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert "PT4KHLK" not in text
    assert "PPLATFM" in action_yml()["inputs"]["escalation_policy_id"]["description"]


def test_every_operation_and_input_has_a_hint() -> None:
    """The hint table covers every input, and the operation hint lists every operation."""
    assert set(INPUT_NAMES) <= set(HINTS)
    with pytest.raises(InputError) as caught:
        parse_inputs({"operation": "no-such-operation", "pagerduty_token": "pd-token-1234"})
    assert caught.value.input == "operation"
    assert all(operation in caught.value.hint_template for operation in OPERATIONS)


# --- the command line --------------------------------------------------------------------------


def test_every_input_is_an_option_of_some_subcommand_and_secrets_never_are() -> None:
    """Each non-secret input is an option or argument somewhere; secrets are never options."""
    dests: set[str] = set()
    for operation in OPERATIONS:
        dests |= {action.dest for action in subcommand(operation)._actions}
    assert set(INPUT_NAMES) - set(SECRET_INPUTS) - {"operation"} <= dests
    assert not set(SECRET_INPUTS) & dests
    assert set(SECRET_ENV) == set(SECRET_INPUTS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_subcommand_takes_exactly_its_operations_inputs(operation: str) -> None:
    """A subcommand offers the inputs its operation needs or accepts, the shared ones, no other."""
    needed, accepted = OPERATION_INPUTS[operation]
    dests = {action.dest for action in subcommand(operation)._actions} - {"help", "json"}
    shared = {*COMMON, "finish_port_run", "dry_run"}
    extra = set(OPERATIONS[operation].cli_extra)
    # the positional's option form (``note --note``) is the same input, merged after parsing
    option_form = {OPTION_FORM} if OPERATIONS[operation].positional else set()
    assert dests == {*needed, *accepted, *shared, *extra, *option_form}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_flags_hints_name_exist(operation: str) -> None:
    """Each input a hint can name is written as a flag that subcommand accepts (or its argument)."""
    parser = subcommand(operation)
    from escalator.faces.cli.operation import cli_terms

    face = cli_terms(operation)
    for action in parser._actions:
        if action.dest in INPUT_NAMES:
            name = face.name(action.dest)
            assert name in action.option_strings or name == action.metavar, (action.dest, name)


# --- terms -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "action", "cli"),
    [
        ("{from}", "from", "--from"),
        ("{escalation_policy_id}", "escalation_policy_id", "--escalation-policy-id"),
        ("{urgency=high}", "urgency: high", "--urgency high"),
        ("{port_region=us}", "port_region: us", "--port-region us"),
        ("{pagerduty_token}", "pagerduty_token", "PAGERDUTY_TOKEN"),
        ("{port_client_id}", "port_client_id", "PORT_CLIENT_ID"),
        ("{dry_run=true}", "dry_run: true", "--dry-run"),
        ("{finish_port_run=false}", "finish_port_run: false", "--no-finish-port-run"),
        ("{title=Card down}", "title: Card down", "--title 'Card down'"),
        ("{port_context.entity}", "port_context.entity", "entity in --port-context"),
        ("{operation=snooze}", "operation: snooze", "escalator snooze"),
        ('{"entity": "{{.entity.identifier}}"}', '{"entity": "{{.entity.identifier}}"}', None),
        (
            "{nope} {from_email} ${{ github.token }}",
            "{nope} {from_email} ${{ github.token }}",
            None,
        ),
    ],
)
def test_placeholders_render_in_each_face(template: str, action: str, cli: str | None) -> None:
    """Inputs render as the action's names or the CLI's flags and variables; other braces stay."""
    assert terms.ACTION.render(template) == action
    assert terms.CLI.render(template) == (action if cli is None else cli)


def test_a_positional_renders_as_its_argument() -> None:
    """A subcommand's positional input is named as its argument, and a value as the value."""
    face = terms.Terms(cli=True, positionals={"snooze_duration": "DURATION"})
    assert face.render("{snooze_duration}; {snooze_duration=30m}") == "DURATION; 30m"


def test_errors_render_in_the_terms_given_and_keep_their_template() -> None:
    """message and hint render in the terms the printer passes; the templates stay as written,
    and str() is the text as written, for a console to render."""
    error = InputError("urgency", '"x" is not an urgency.', hint="Add {urgency=high}.")
    said = error.render(terms.ACTION)
    assert (said.message, said.hint) == ('urgency: "x" is not an urgency.', "Add urgency: high.")
    said = error.render(terms.CLI)
    assert said.message == '--urgency: "x" is not an urgency.'
    assert said.hint == "Add --urgency high."
    assert str(said) == '--urgency: "x" is not an urgency. Add --urgency high.'
    assert said.title == "Invalid input"
    assert error.message_template == '{urgency}: "x" is not an urgency.'
    assert error.hint_template == "Add {urgency=high}."
    assert str(error) == '{urgency}: "x" is not an urgency. Add {urgency=high}.'
    assert error.render(terms.ACTION).message == 'urgency: "x" is not an urgency.'


def test_a_wrapped_error_renders_its_cause_in_the_terms_given() -> None:
    """ReportingError keeps its cause's placeholders, so both faces render them."""
    cause = PagerDutyError("the key was rejected.", status=401, hint="Check {pagerduty_token}.")
    wrapped = ReportingError(cause, not_done="the Port entity was not updated")
    assert wrapped.render(terms.CLI).hint == "Check PAGERDUTY_TOKEN."
    assert wrapped.render(terms.ACTION).hint == "Check pagerduty_token."


def test_errors_keep_their_templates_and_cannot_be_rewritten() -> None:
    """A hint is a template rendered by whoever prints it; an error's templates cannot be
    assigned, nor the text rendered from them (a new error is raised from it instead)."""
    error = EscalatorError("failed.", hint="Set {from}.")
    said = error.render(terms.CLI)
    assert said.hint == "Set --from."
    with pytest.raises(AttributeError):
        error.hint_template = "Set {urgency}."
    with pytest.raises(AttributeError):
        error.message_template = "other."
    with pytest.raises(AttributeError):
        said.hint = "Set {urgency}."  # type: ignore[misc]
    with pytest.raises(AttributeError):
        said.message = "other."  # type: ignore[misc]
    assert error.hint_template == "Set {from}."
    assert error.render(terms.CLI) == said


def test_a_console_renders_in_the_terms_it_was_built_with(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two consoles, one process: each writes inputs in its own face's terms, in any order."""
    action = Console(None, github=True, terms=terms.ACTION)
    cli = Console(None, github=False, terms=terms.Terms(cli=True, positionals={"note": "NOTE"}))
    for console in (cli, action, cli):
        console.error("{note} is empty.", title="Invalid input")
    assert capsys.readouterr().out.splitlines() == [
        "error: Invalid input: NOTE is empty.",
        "::error title=Invalid input::note is empty.",
        "error: Invalid input: NOTE is empty.",
    ]


INPUT_WORDS = re.compile(
    r"(?<![{\w.])(" + "|".join(name for name in INPUT_NAMES if "_" in name) + r")(?![\w}=.])"
)


def message_literals(path: Path) -> list[str]:
    """The string literals of ``path`` that read as messages (docstrings left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and " " in node.value
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "escalator" / "inputs").glob("*.py")), ids=lambda path: path.name
)
def test_input_messages_name_inputs_with_placeholders(path: Path) -> None:
    """No message or hint of the inputs names an input bare: each is a {placeholder}."""
    for text in [*message_literals(path), *(f"{h.what} {h.fix}" for h in HINTS.values())]:
        assert not INPUT_WORDS.search(text), text
