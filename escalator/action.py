"""The one exit path of a run, shared by the GitHub Action and the command line.

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

from escalator import summary
from escalator.errors import EscalatorError, InputError
from escalator.escalation import Escalation, GitHubContext, Outcome
from escalator.http import Deadline
from escalator.inputs import INPUT_NAMES, SECRET_INPUTS, parse_inputs, parse_port_reporting
from escalator.port import PortClient
from escalator.workflow import Console, OutputWriter, SummaryWriter, md

EXIT_OK = 0
EXIT_FAILED = 1


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
    console = Console(
        stdout,
        github=env.get("GITHUB_ACTIONS") == "true",
        debug=env.get("RUNNER_DEBUG") == "1",
    )
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
    """Validate, escalate, report; every failure the user can cause ends here with a hint."""
    try:
        inputs = parse_inputs(raw, insecure_http_hosts=insecure_hosts)
    except InputError as error:
        _report_input_error(raw, error, console, insecure_hosts)
        _fail(console, job_summary, error)
        if on_done:
            on_done(None, error)
        return EXIT_FAILED

    def write_incident_outputs(outcome: Outcome) -> None:
        for name, value in summary.incident_outputs(outcome).items():
            outputs.set(name, value)

    escalation = Escalation(inputs, console, github=github, on_escalated=write_incident_outputs)
    outcome = escalation.outcome
    try:
        with console.group(f"Escalating PagerDuty incident {inputs.incident_id}"):
            escalation.run()
            escalation.finish()
    except EscalatorError as error:
        escalation.fail(error)
        escalation.close()
        for name, value in summary.port_outputs(outcome).items():
            outputs.set(name, value)
        _fail(console, job_summary, error, outcome)
        if on_done:
            on_done(outcome, error)
        return EXIT_FAILED
    escalation.close()
    for name, value in summary.port_outputs(outcome).items():
        outputs.set(name, value)
    job_summary.append(summary.render(outcome))
    after = outcome.after
    if after is not None:
        verb = (
            "would change" if inputs.dry_run else ("escalated" if outcome.changed else "unchanged")
        )
        link = f" {after.html_url}" if after.html_url else ""
        console.info(f"Incident {after.id} {verb}: {inputs.describe_change()}.{link}")
    if on_done:
        on_done(outcome, None)
    return EXIT_OK


def _fail(
    console: Console,
    job_summary: SummaryWriter,
    error: EscalatorError,
    outcome: Outcome | None = None,
) -> None:
    text = error.message + (f"\nHow to fix: {error.hint}" if error.hint else "")
    console.error(text, title=error.title)
    if outcome is None:
        job_summary.append(
            f"## ❌ Escalation failed: {md(error.title)}\n\n"
            f"**Error:** {md(error.message)}\n\n"
            + (f"**How to fix:** {md(error.hint)}\n" if error.hint else "")
        )
    else:
        job_summary.append(summary.render(outcome, error))


def _report_input_error(
    raw: Mapping[str, str], error: InputError, console: Console, insecure_hosts: frozenset[str]
) -> None:
    """Tell the Port run why nothing was done, when its id and working credentials are known."""
    reporting = parse_port_reporting(raw, insecure_http_hosts=insecure_hosts)
    if reporting is None:
        return
    assert reporting.port_client_id is not None
    assert reporting.port_client_secret is not None
    assert reporting.port_run_id is not None
    port = PortClient.connect(
        reporting.port_api_url,
        client_id=reporting.port_client_id.get_secret_value(),
        client_secret=reporting.port_client_secret.get_secret_value(),
        deadline=Deadline(15.0),
        on_token=console.add_secret,
    )
    try:
        port.add_run_log(
            reporting.port_run_id,
            f"Escalation not started: {error.message}"
            + (f" Fix: {error.hint}" if error.hint else ""),
        )
    except EscalatorError as exc:
        console.warning(f"Could not tell the Port run why: {exc}")
    finally:
        port.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
