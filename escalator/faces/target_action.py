"""The action's run of an operation on a target other than an incident: its clients, its outputs
(the common ones and those the operation declares; its secret outputs masked and written as is),
its job summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from escalator.clients.events import EventsClient
from escalator.context import GitHubContext
from escalator.errors import ErrorText, EscalatorError
from escalator.faces.connect import connect, say_port_scope
from escalator.http import Deadline
from escalator.inputs import CommonInputs
from escalator.operations import TARGET_OPERATIONS
from escalator.operations.target import Clients
from escalator.report import summary, target_summary
from escalator.step_files import OutputWriter, SummaryWriter
from escalator.usecase.target_outcome import TargetOutcome
from escalator.usecase.target_runner import TargetRunner
from escalator.workflow import Console

EXIT_OK = 0


def run_target(
    runner: TargetRunner[Any, Any],
    outputs: OutputWriter,
    job_summary: SummaryWriter,
    on_done: Callable[[TargetOutcome[Any], EscalatorError | None], None] | None = None,
) -> int:
    """Run an operation on a target other than an incident, and report it."""
    outcome, console = runner.outcome, runner.console
    error: EscalatorError | None = None
    text: ErrorText | None = None
    try:
        with console.group(f"{runner.operation.doing} {runner.operation.subject(runner.inputs)}"):
            say_port_scope(runner.inputs, console)
            runner.execute()
    except EscalatorError as caught:
        error, text = caught, caught.render(console.terms)
        console.error(
            text.message + (f"\nHow to fix: {text.hint}" if text.hint else ""), title=text.title
        )
    finally:
        runner.clients.close()
        if runner.port is not None:
            runner.port.close()
    outputs.set_all(target_summary.target_port_outputs(outcome), plain=summary.PLAIN_OUTPUTS)
    job_summary.append(target_summary.render_target(outcome, redact=console.redact, error=text))
    if error is None:
        console.info(outcome.result())
    if on_done:
        on_done(outcome, error)
    return error.exit_code if error is not None else EXIT_OK


def build_target_runner(
    inputs: CommonInputs,
    console: Console,
    outputs: OutputWriter,
    github: GitHubContext,
    network: Mapping[str, str],
) -> TargetRunner[Any, Any]:
    """The use case of an operation on another target, with its clients."""
    deadline, pagerduty, port, job_link = connect(inputs, console, github, network)
    operation = TARGET_OPERATIONS[inputs.operation]
    plain = summary.PLAIN_OUTPUTS | set(operation.secret_outputs)  # a secret is masked already

    def on_applied(outcome: TargetOutcome[Any]) -> None:
        outputs.set_all(target_summary.target_outputs(outcome), plain=plain)

    return TargetRunner(
        inputs,
        operation,
        clients=Clients(pagerduty=pagerduty, events=events_client(inputs, deadline, network)),
        port=port,
        console=console,
        deadline=deadline,
        job_link=job_link,
        run_url=github.run_url,
        on_applied=on_applied,
    )


def events_client(
    inputs: CommonInputs, deadline: Deadline, network: Mapping[str, str]
) -> EventsClient | None:
    """The Events API v2 client, for an operation given a routing key (None otherwise)."""
    if inputs.routing_key is None or inputs.pagerduty_events_url is None:
        return None
    return EventsClient.connect(inputs.pagerduty_events_url, deadline=deadline, environ=network)
