"""The face the GitHub runner starts: read the environment, build the clients, run, exit.

Only :func:`main` reads the environment. Secrets are masked before anything else happens. The
project's own errors become ``::error::`` with a hint, a job summary and a non-zero exit; any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.context import GitHubContext
from escalator.errors import EscalatorError, InputError
from escalator.http import Deadline
from escalator.http.network import network_env
from escalator.inputs import (
    INPUT_NAMES,
    SECRET_INPUTS,
    ActionInputs,
    PortReporting,
    parse_port_reporting,
)
from escalator.operations import OPERATIONS, parse_inputs
from escalator.report import summary
from escalator.step_files import OutputWriter, SummaryWriter
from escalator.terms import ACTION
from escalator.usecase import wording
from escalator.usecase.outcome import Outcome
from escalator.usecase.runner import Runner
from escalator.workflow import Console

EXIT_OK = 0


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
    )


def run(
    raw: Mapping[str, str],
    console: Console,
    *,
    outputs: OutputWriter,
    job_summary: SummaryWriter,
    github: GitHubContext | None = None,
    insecure_hosts: frozenset[str] = frozenset(),
    on_done: Callable[[Outcome | None, EscalatorError | None], None] | None = None,
) -> int:
    """Validate, run the operation, report; every failure the user can cause ends here."""
    github = github or GitHubContext()
    try:
        inputs = parse_inputs(raw, insecure_http_hosts=insecure_hosts)
    except InputError as error:
        _report_input_error(raw, error, console, insecure_hosts)
        _fail(console, job_summary, error)
        if on_done:
            on_done(None, error)
        return error.exit_code
    runner = build_runner(inputs, console, outputs, github)
    outcome = runner.outcome
    try:
        with console.group(_group_title(inputs)):
            _say_port_scope(inputs, console)
            runner.execute()
    except EscalatorError as error:
        _write_outputs(outputs, summary.port_outputs(outcome))
        _fail(console, job_summary, error, outcome)
        if on_done:
            on_done(outcome, error)
        return error.exit_code
    finally:
        runner.pagerduty.close()
        if runner.port is not None:
            runner.port.close()
    _write_outputs(outputs, summary.port_outputs(outcome))
    job_summary.append(summary.render(outcome, redact=console.redact))
    console.info(wording.result(outcome))
    if on_done:
        on_done(outcome, None)
    return EXIT_OK


def build_runner(
    inputs: ActionInputs, console: Console, outputs: OutputWriter, github: GitHubContext
) -> Runner:
    """The use case with its clients, built here and handed in."""
    deadline = Deadline(inputs.timeout_seconds)
    pagerduty = PagerDutyClient.connect(
        inputs.pagerduty_api_url,
        inputs.pagerduty_token.get_secret_value() if inputs.pagerduty_token else "",
        from_email=inputs.from_email,
        deadline=deadline,
        environ=network_env(os.environ),
    )
    port = _port_client(inputs, console, deadline) if inputs.port_enabled else None
    job_link = None
    if inputs.github_token is not None:
        token = inputs.github_token.get_secret_value()

        def job_link() -> str:
            from escalator.clients.github import find_job_url  # PyGithub only when a token is given

            return find_job_url(github, token, deadline)

    return Runner(
        inputs,
        OPERATIONS[inputs.operation],
        pagerduty=pagerduty,
        port=port,
        console=console,
        deadline=deadline,
        job_link=job_link,
        run_url=github.run_url,
        on_applied=lambda outcome: _write_outputs(outputs, summary.incident_outputs(outcome)),
    )


def _port_client(inputs: PortReporting, console: Console, deadline: Deadline) -> PortClient:
    assert inputs.port_client_id is not None
    assert inputs.port_client_secret is not None
    return PortClient.connect(
        inputs.port_api_url,
        client_id=inputs.port_client_id.get_secret_value(),
        client_secret=inputs.port_client_secret.get_secret_value(),
        deadline=deadline,
        on_token=console.add_secret,
        environ=network_env(os.environ),
    )


def _group_title(inputs: ActionInputs) -> str:
    operation = OPERATIONS[inputs.operation]
    if inputs.incident_id:
        return f"{operation.doing} PagerDuty incident {inputs.incident_id}"
    return f"{operation.doing} a PagerDuty incident"


def _say_port_scope(inputs: ActionInputs, console: Console) -> None:
    """Say what Port will not get, only when that is true and worth knowing."""
    if not inputs.port_enabled:
        console.notice(
            "No Port credentials ({port_client_id}, {port_client_secret}): Port is not updated.",
            title="Port reporting skipped",
        )
    elif inputs.port_context_given and inputs.port_run_id is None:
        console.notice(
            "{port_context} has no run_id: the entity is updated, but no Port run is reported to.",
            title="No Port run",
        )


def _write_outputs(outputs: OutputWriter, values: Mapping[str, str]) -> None:
    for name, value in values.items():
        outputs.set(name, value, redact=name not in summary.PLAIN_OUTPUTS)


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
    raw: Mapping[str, str], error: InputError, console: Console, insecure_hosts: frozenset[str]
) -> None:
    """Tell the Port run why nothing was done, when its id and working credentials are known."""
    reporting = parse_port_reporting(raw, insecure_http_hosts=insecure_hosts)
    if reporting is None:
        return
    assert reporting.port_run_id is not None
    port = _port_client(reporting, console, Deadline(15.0))
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
