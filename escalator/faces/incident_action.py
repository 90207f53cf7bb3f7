"""The action's run of an operation on one incident: its runner and clients, its outputs, its
job summary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from escalator.context import GitHubContext
from escalator.errors import EscalatorError
from escalator.faces.connect import connect, say_port_scope
from escalator.inputs import CommonInputs
from escalator.operations import INCIDENT_OPERATIONS
from escalator.operations.base import Operation
from escalator.report import summary
from escalator.step_files import OutputWriter, SummaryWriter
from escalator.usecase import wording
from escalator.usecase.outcome import Outcome
from escalator.usecase.runner import Runner
from escalator.workflow import Console

EXIT_OK = 0
#: How the face reports a failure: the error on the console and in the job summary.
Fail = Callable[[Console, SummaryWriter, EscalatorError, Outcome | None], None]


def run_incident(
    runner: Runner[Any],
    outputs: OutputWriter,
    job_summary: SummaryWriter,
    on_done: Callable[[Outcome, EscalatorError | None], None] | None = None,
    *,
    fail: Fail,
) -> int:
    """Run an operation on one incident, and report it (a failure through ``fail``)."""
    inputs, console, outcome = runner.inputs, runner.console, runner.outcome
    try:
        with console.group(_group_title(inputs, runner.operation)):
            say_port_scope(inputs, console)
            runner.execute()
    except EscalatorError as error:
        outputs.set_all(summary.port_outputs(outcome), plain=summary.PLAIN_OUTPUTS)
        fail(console, job_summary, error, outcome)
        if on_done:
            on_done(outcome, error)
        return error.exit_code
    finally:
        runner.pagerduty.close()
        if runner.port is not None:
            runner.port.close()
    outputs.set_all(summary.port_outputs(outcome), plain=summary.PLAIN_OUTPUTS)
    job_summary.append(summary.render(outcome, redact=console.redact))
    console.info(wording.result(outcome))
    if on_done:
        on_done(outcome, None)
    return EXIT_OK


def build_runner(
    inputs: CommonInputs,
    console: Console,
    outputs: OutputWriter,
    github: GitHubContext,
    network: Mapping[str, str],
) -> Runner[Any]:
    """The use case with its clients, built here and handed in."""
    deadline, pagerduty, port, job_link = connect(inputs, console, github, network)
    return Runner(
        inputs,
        INCIDENT_OPERATIONS[inputs.operation],
        pagerduty=pagerduty,
        port=port,
        console=console,
        deadline=deadline,
        job_link=job_link,
        run_url=github.run_url,
        on_applied=lambda outcome: outputs.set_all(
            summary.incident_outputs(outcome), plain=summary.PLAIN_OUTPUTS
        ),
    )


def _group_title(inputs: CommonInputs, operation: Operation[Any, Any]) -> str:
    incident_id = operation.incident_to_read(inputs)
    if incident_id:
        return f"{operation.doing} PagerDuty incident {incident_id}"
    return f"{operation.doing} a PagerDuty incident"
