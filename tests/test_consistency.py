"""action.yml, the inputs model, the outputs writer and the command line agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from escalator.cli import SECRET_ENV, build_parser
from escalator.inputs import DEFAULTS, INPUT_NAMES, SECRET_INPUTS
from escalator.summary import OUTPUT_NAMES

ROOT = Path(__file__).resolve().parents[1]


def action_yml() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return document


def test_inputs_are_the_models_in_the_same_order() -> None:
    """Every input of action.yml is read by the model, in the same order, and no other."""
    assert tuple(action_yml()["inputs"]) == INPUT_NAMES


def test_defaults_agree() -> None:
    """The defaults declared in action.yml are the model's defaults."""
    declared = {
        name: str(spec["default"])
        for name, spec in action_yml()["inputs"].items()
        if str(spec.get("default", ""))
    }
    assert declared == dict(DEFAULTS)


def test_only_the_token_is_required() -> None:
    """pagerduty_token is the one required input; everything else has a default or is optional."""
    required = [name for name, spec in action_yml()["inputs"].items() if spec.get("required")]
    assert required == ["pagerduty_token"]


def test_outputs_are_the_ones_written() -> None:
    """Every output of action.yml is written by the action, in the same order, each described."""
    outputs = action_yml()["outputs"]
    assert tuple(outputs) == OUTPUT_NAMES
    assert all(spec.get("description") for spec in outputs.values())


def test_every_input_is_described() -> None:
    """Each input has a description for the Marketplace page."""
    assert all(spec.get("description") for spec in action_yml()["inputs"].values())


def test_command_line_has_an_option_per_input_and_env_per_secret() -> None:
    """The CLI takes every non-secret input as an option and every secret from the environment."""
    parser = build_parser()
    escalate = parser._subparsers._group_actions[0].choices["escalate"]  # type: ignore[union-attr]
    dests = {action.dest for action in escalate._actions}
    assert set(INPUT_NAMES) - set(SECRET_INPUTS) <= dests
    assert not set(SECRET_INPUTS) & dests
    assert set(SECRET_ENV) == set(SECRET_INPUTS)
