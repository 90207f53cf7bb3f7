"""The words each face uses for the action's inputs, and messages rendered in them.

A message or hint names an input with a placeholder, never with the bare name:

- ``{from}``: the input itself;
- ``{urgency=high}``: the input given a value;
- ``{port_context.entity}``: a key inside an input's JSON.

The face in use renders them: the GitHub Action writes ``from``, ``urgency: high`` and
``port_context.entity``; the command line writes ``--from``, ``--urgency high``, ``entity in
--port-context``, and a secret input as its environment variable (``PAGERDUTY_TOKEN``). Only the
action's inputs are placeholders: any other text in braces (JSON, Port's ``{{.run.id}}``) is left
alone. A face sets its terms once at the start of a run (:func:`use`, or :func:`using` to restore
them afterwards); :class:`escalator.errors.EscalatorError` renders its message and hint with the
terms in use when they are read.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

#: The action's inputs in ``action.yml`` order (a test keeps action.yml, the model and the README
#: agreed).
INPUT_NAMES: tuple[str, ...] = (
    "port_context",
    "operation",
    "incident_id",
    "escalation_policy_id",
    "escalation_level",
    "urgency",
    "assignees",
    "note",
    "resolution",
    "snooze_duration",
    "priority",
    "title",
    "service_id",
    "details",
    "incident_key",
    "from",
    "pagerduty_token",
    "pagerduty_region",
    "pagerduty_api_url",
    "port_client_id",
    "port_client_secret",
    "port_region",
    "port_api_url",
    "port_blueprint",
    "port_service_blueprint",
    "port_property_mapping",
    "finish_port_run",
    "github_token",
    "dry_run",
    "timeout_seconds",
)

#: Secret inputs and the environment variables the command line reads them from (first wins).
SECRET_ENV: Mapping[str, tuple[str, ...]] = {
    "pagerduty_token": ("PAGERDUTY_TOKEN", "PAGERDUTY_API_KEY"),
    "port_client_id": ("PORT_CLIENT_ID",),
    "port_client_secret": ("PORT_CLIENT_SECRET",),
    "github_token": ("GITHUB_TOKEN",),
}

#: Boolean inputs: a flag on the command line (``--dry-run``, ``--no-dry-run``).
FLAG_INPUTS: tuple[str, ...] = ("finish_port_run", "dry_run")

#: Words that differ by face rather than name an input: ``{machine}`` is where the run happens.
FACE_WORDS: Mapping[str, tuple[str, str]] = {"machine": ("the runner", "this machine")}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)((?:\.[A-Za-z0-9_]+)*)(?:=([^{}\n]*))?\}")


class Terms:
    """How one face names inputs: ``cli`` is False for the GitHub Action, True for a terminal.

    ``positionals`` maps the inputs a command line subcommand takes as a positional argument to
    the argument's name (``{"note": "NOTE"}``).
    """

    __slots__ = ("cli", "positionals")

    def __init__(self, *, cli: bool, positionals: Mapping[str, str] | None = None) -> None:
        self.cli = cli
        self.positionals: Mapping[str, str] = dict(positionals or {})

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


ACTION = Terms(cli=False)
CLI = Terms(cli=True)

_current: list[Terms] = [ACTION]


def current() -> Terms:
    """The terms of the face in use (the GitHub Action's unless a face said otherwise)."""
    return _current[0]


def use(terms: Terms) -> Terms:
    """Make ``terms`` the ones in use; returns the previous ones."""
    previous, _current[0] = _current[0], terms
    return previous


@contextmanager
def using(terms: Terms) -> Iterator[Terms]:
    """Use ``terms`` inside the block, then restore the previous ones."""
    previous = use(terms)
    try:
        yield terms
    finally:
        use(previous)


def render(template: str) -> str:
    """``template`` rendered in the terms in use."""
    return current().render(template)
