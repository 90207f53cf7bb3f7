"""Run one operation from the command line: options and environment in, the action's run out.

The options become the same raw input strings the GitHub runner passes (``raw_inputs``), so the
command line and the action validate, run and fail alike; only the terms of the messages differ
(``--from`` rather than ``from``, :mod:`escalator.terms`): the console is built with the
subcommand's, and every message is rendered in them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from escalator.errors import EscalatorError
from escalator.inputs import INPUT_NAMES
from escalator.operations import OPERATIONS
from escalator.terms import SECRET_ENV, Terms
from escalator.usecase.outcome import Outcome
from escalator.usecase.target_outcome import TargetOutcome

if TYPE_CHECKING:
    from escalator.workflow import Console


def cli_terms(operation: str) -> Terms:
    """The command line's terms for ``operation``, naming its positional argument as shown."""
    positional = OPERATIONS[operation].positional
    names = {"operation": f"escalator {operation}"}
    if positional:
        names[positional.input] = positional.metavar
    return Terms(cli=True, positionals=names)


def raw_inputs(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """Every input as the string the runner would pass: options, flags and secrets from ``env``."""
    raw = {}
    for name in INPUT_NAMES:
        value = getattr(args, name, None)
        if name in SECRET_ENV:
            value = next((env[var] for var in SECRET_ENV[name] if env.get(var)), "")
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = "\n".join(value)
        raw[name] = "" if value is None else str(value)
    raw["operation"] = args.command
    return raw


def run_operation(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the operation of ``args`` as the action would, with tokens from the environment."""
    from escalator.faces.action import insecure_http_hosts, run
    from escalator.http.network import network_env
    from escalator.step_files import OutputWriter, SummaryWriter
    from escalator.workflow import Console

    raw = raw_inputs(args, env)
    if not raw["pagerduty_token"] and OPERATIONS[args.command].needs_rest_token:
        print(
            "escalator: set PAGERDUTY_TOKEN to a PagerDuty REST API key "
            "(tokens are read from the environment, never from options).",
            file=sys.stderr,
        )
        return 2
    stream = sys.stderr if args.json else sys.stdout
    console = Console(stream, github=False, terms=cli_terms(args.command))
    for name in SECRET_ENV:
        console.add_secret(raw[name])
    outputs = OutputWriter(None, console)
    errors: list[EscalatorError] = []

    def done(outcome: Outcome | TargetOutcome[Any] | None, error: EscalatorError | None) -> None:
        errors.extend([error] if error else [])
        if args.json:
            document = json_document(args, outputs.written, console, outcome, error)
            print(console.redact(json.dumps(document, indent=2, sort_keys=True)))

    status = run(
        raw,
        console,
        outputs=outputs,
        job_summary=SummaryWriter(None, console),
        insecure_hosts=insecure_http_hosts(env),
        network=network_env(env),
        on_done=done,
    )
    return errors[0].exit_code if errors else status


def json_document(
    args: argparse.Namespace,
    written: Mapping[str, str],
    console: Console,
    outcome: Outcome | TargetOutcome[Any] | None,
    error: EscalatorError | None,
) -> dict[str, object]:
    """What ``--json`` prints: the step outputs ``written``, typed, with the run's warnings and
    its error (rendered in the console's terms); the caller redacts it."""
    from escalator.report.summary import OUTPUT_NAMES

    document: dict[str, object] = {name: written.get(name, "") for name in OUTPUT_NAMES}
    document |= {k: v for k, v in written.items() if k not in document}
    document["incident"] = json.loads(written.get("incident") or "null")
    document["changed"] = written.get("changed") == "true"
    document["ok"] = error is None
    document["operation"] = args.command
    document["dry_run"] = bool(args.dry_run)
    document["warnings"] = outcome.warnings if outcome else []
    if error is not None:
        said = error.render(console.terms)
        document["error"] = {"title": said.title, "message": said.message, "hint": said.hint}
    return document
