"""The face the GitHub runner starts: read the environment, build the clients, run, exit.

Only :func:`main` reads the environment. Secrets are masked before anything else happens. The
project's own errors become ``::error::`` with a hint, a job summary and a non-zero exit; any other
exception is a bug and keeps its traceback. The run itself is
:mod:`escalator.faces.incident_action`'s or :mod:`escalator.faces.target_action`'s: a run
imports the one its operation takes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from escalator.context import GitHubContext
from escalator.errors import EscalatorError, InputError
from escalator.faces.connect import port_client
from escalator.http import Deadline
from escalator.http.network import network_env
from escalator.inputs import INPUT_NAMES, SECRET_INPUTS, parse_port_reporting
from escalator.operations import TARGET_OPERATIONS, parse_inputs
from escalator.report import summary
from escalator.step_files import OutputWriter, SummaryWriter
from escalator.terms import ACTION
from escalator.workflow import Console

if TYPE_CHECKING:
    from escalator.usecase.outcome import Outcome
    from escalator.usecase.target_outcome import TargetOutcome


def input_env_name(name: str) -> str:
    """The variable the runner sets for an input: ``INPUT_`` + the name upper-cased."""
    return "INPUT_" + name.replace(" ", "_").upper()


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """The raw inputs as the runner passes them."""
    return {name: env.get(input_env_name(name), "") for name in INPUT_NAMES}


def github_context(env: Mapping[str, str]) -> GitHubContext:
    """The workflow run the action is in, from the runner's environment."""
    return GitHubContext(
        server_url=env.get("GITHUB_SERVER_URL", ""),
        api_url=env.get("GITHUB_API_URL", ""),
        repository=env.get("GITHUB_REPOSITORY", ""),
        run_id=env.get("GITHUB_RUN_ID", ""),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
        job=env.get("GITHUB_JOB", ""),
        runner_name=env.get("RUNNER_NAME", ""),
    )


def insecure_http_hosts(env: Mapping[str, str]) -> frozenset[str]:
    """Hosts allowed over plain http besides loopback (``ESCALATOR_INSECURE_HTTP_HOSTS``)."""
    raw = env.get("ESCALATOR_INSECURE_HTTP_HOSTS", "")
    return frozenset(host.strip() for host in raw.split(",") if host.strip())


def main(env: Mapping[str, str] | None = None, stdout: TextIO | None = None) -> int:
    """Run the action as the GitHub runner starts it; returns the exit code."""
    env = os.environ if env is None else env
    console = Console(stdout, github=env.get("GITHUB_ACTIONS") == "true", terms=ACTION)
    raw = read_inputs(env)
    for name in SECRET_INPUTS:
        console.add_secret(raw.get(name))
    output_path = env.get("GITHUB_OUTPUT")
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    return run(
        raw,
        console,
        outputs=OutputWriter(Path(output_path) if output_path else None, console),
        job_summary=SummaryWriter(Path(summary_path) if summary_path else None, console),
        github=github_context(env),
        insecure_hosts=insecure_http_hosts(env),
        network=network_env(env),
    )


def run(
    raw: Mapping[str, str],
    console: Console,
    *,
    outputs: OutputWriter,
    job_summary: SummaryWriter,
    github: GitHubContext | None = None,
    insecure_hosts: frozenset[str] = frozenset(),
    network: Mapping[str, str] | None = None,
    on_done: Callable[[Outcome | TargetOutcome[Any] | None, EscalatorError | None], None]
    | None = None,
) -> int:
    """Validate, run the operation, report; every failure the user can cause ends here."""
    github = github or GitHubContext()
    network = network or {}
    try:
        inputs = parse_inputs(raw, insecure_http_hosts=insecure_hosts)
    except InputError as error:
        _report_input_error(raw, error, console, insecure_hosts, network)
        _fail(console, job_summary, error)
        if on_done:
            on_done(None, error)
        return error.exit_code
    # each path's modules are imported by the runs that take it
    if inputs.operation in TARGET_OPERATIONS:
        from escalator.faces.target_action import build_target_runner, run_target

        target = build_target_runner(inputs, console, outputs, github, network)
        return run_target(target, outputs, job_summary, on_done)
    from escalator.faces.incident_action import build_runner, run_incident

    runner = build_runner(inputs, console, outputs, github, network)
    return run_incident(runner, outputs, job_summary, on_done, fail=_fail)


def _fail(
    console: Console,
    job_summary: SummaryWriter,
    error: EscalatorError,
    outcome: Outcome | None = None,
) -> None:
    said = error.render(console.terms)
    text = said.message + (f"\nHow to fix: {said.hint}" if said.hint else "")
    console.error(text, title=said.title)
    job_summary.append(summary.render_failure(outcome, said, redact=console.redact))


def _report_input_error(
    raw: Mapping[str, str],
    error: InputError,
    console: Console,
    insecure_hosts: frozenset[str],
    network: Mapping[str, str],
) -> None:
    """Tell the Port run why nothing was done, when its id and working credentials are known."""
    reporting = parse_port_reporting(raw, insecure_http_hosts=insecure_hosts)
    if reporting is None:
        return
    assert reporting.port_run_id is not None
    port = port_client(reporting, console, Deadline(15.0), network)
    try:
        said = error.render(console.terms)
        message = f"Not started: {said.message}" + (f" Fix: {said.hint}" if said.hint else "")
        port.add_run_log(reporting.port_run_id, console.redact(message))
    except EscalatorError as exc:
        console.warning(f"Could not tell the Port run why: {exc.render(console.terms)}")
    finally:
        port.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
