"""The words each face uses for the action's inputs, and messages rendered in them.

A message or hint names an input with a placeholder, never with the bare name:

- ``{from}``: the input itself;
- ``{urgency=high}``: the input given a value;
- ``{port_context.entity}``: a key inside an input's JSON.

The face that prints renders them with its own :class:`Terms`: the GitHub Action (:data:`ACTION`)
writes ``from``, ``urgency: high`` and ``port_context.entity``; the command line (:data:`CLI`, or
a subcommand's own) writes ``--from``, ``--urgency high``, ``entity in --port-context``, and a
secret input as its environment variable (``PAGERDUTY_TOKEN``). Only the action's inputs are
placeholders: any other text in braces (JSON, Port's ``{{.run.id}}``) is left alone. Terms are
immutable and held by no module: a face builds its console with them
(:class:`escalator.workflow.Console`) and renders an error with them
(:meth:`escalator.errors.EscalatorError.render`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from escalator.hints import HINTS

#: The action's inputs in ``action.yml`` order: those :data:`escalator.hints.HINTS` gives a
#: hint of their own, in its order (a test keeps action.yml, the model and docs/inputs.md agreed).
INPUT_NAMES: tuple[str, ...] = tuple(name for name in HINTS if "." not in name)

#: Secret inputs and the environment variables the command line reads them from (first wins).
SECRET_ENV: Mapping[str, tuple[str, ...]] = {
    "pagerduty_token": ("PAGERDUTY_TOKEN", "PAGERDUTY_API_KEY"),
    "port_client_id": ("PORT_CLIENT_ID",),
    "port_client_secret": ("PORT_CLIENT_SECRET",),
    "github_token": ("GITHUB_TOKEN",),
    "routing_key": ("PAGERDUTY_ROUTING_KEY",),
}

#: Boolean inputs: a flag on the command line (``--dry-run``, ``--no-dry-run``).
FLAG_INPUTS: tuple[str, ...] = ("finish_port_run", "dry_run")

#: Words that differ by face rather than name an input: ``{machine}`` is where the run happens.
FACE_WORDS: Mapping[str, tuple[str, str]] = {"machine": ("the runner", "this machine")}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)((?:\.[A-Za-z0-9_]+)*)(?:=([^{}\n]*))?\}")


@dataclass(frozen=True, kw_only=True)
class Terms:
    """How one face names inputs: ``cli`` is False for the GitHub Action, True for a terminal.

    ``positionals`` maps the inputs a command line subcommand takes as a positional argument to
    the argument's name (``{"note": "NOTE"}``). Immutable: a face that names inputs otherwise
    builds terms of its own.
    """

    cli: bool
    positionals: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # a read-only copy: the caller's dict changing later does not change these terms
        object.__setattr__(self, "positionals", MappingProxyType(dict(self.positionals)))

    def name(self, input_name: str) -> str:
        """What the user types or reads for the input."""
        if not self.cli:
            return input_name
        if input_name in SECRET_ENV:
            return SECRET_ENV[input_name][0]
        if input_name in self.positionals:
            return self.positionals[input_name]
        if input_name == "operation":
            return "the subcommand"
        return "--" + input_name.replace("_", "-")

    def given(self, input_name: str, value: str) -> str:
        """The input set to ``value``, written as the user would write it."""
        if not self.cli:
            return f"{input_name}: {value}"
        if input_name in FLAG_INPUTS and value.lower() in ("true", "false"):
            prefix = "--" if value.lower() == "true" else "--no-"
            return prefix + input_name.replace("_", "-")
        quoted = shlex.quote(value)
        if input_name == "operation":
            return f"escalator {quoted}"
        if input_name in SECRET_ENV:
            return f"{self.name(input_name)}={quoted}"
        if input_name in self.positionals:
            return quoted
        return f"{self.name(input_name)} {quoted}"

    def key(self, input_name: str, path: str) -> str:
        """A key inside the input's JSON (``path`` is dotted: ``relations.service``)."""
        if not self.cli:
            return f"{input_name}.{path}"
        return f"{path} in {self.name(input_name)}"

    def render(self, template: str) -> str:
        """``template`` with every input placeholder written in these terms."""

        def replace(match: re.Match[str]) -> str:
            name, path, value = match.group(1), match.group(2), match.group(3)
            if name in FACE_WORDS and not path and value is None:
                return FACE_WORDS[name][self.cli]
            if name not in INPUT_NAMES:
                return match.group(0)
            if value is not None:
                return self.given(name, value)
            if path:
                return self.key(name, path[1:])
            return self.name(name)

        return _PLACEHOLDER.sub(replace, template)


#: The GitHub Action's terms: the inputs as action.yml names them.
ACTION = Terms(cli=False)
#: The command line's terms, for a command without positional arguments.
CLI = Terms(cli=True)
