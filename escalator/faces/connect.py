"""The clients of one run, built from its inputs and the network variables the face read from its
environment (``network``: proxies and CA bundles), and what the run says about Port before it
starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from escalator.clients.pagerduty import PagerDutyClient
from escalator.clients.port import PortClient
from escalator.context import GitHubContext
from escalator.http import Deadline
from escalator.inputs import CommonInputs, PortReporting
from escalator.workflow import Console


def connect(
    inputs: CommonInputs, console: Console, github: GitHubContext, network: Mapping[str, str]
) -> tuple[Deadline, PagerDutyClient, PortClient | None, Callable[[], str] | None]:
    """The run's deadline and its clients: PagerDuty, Port (when reported to), the job link."""
    deadline = Deadline(inputs.timeout_seconds)
    pagerduty = PagerDutyClient.connect(
        inputs.pagerduty_api_url,
        inputs.pagerduty_token.get_secret_value() if inputs.pagerduty_token else "",
        from_email=inputs.from_email,
        deadline=deadline,
        environ=network,
    )
    port = port_client(inputs, console, deadline, network) if inputs.port_enabled else None
    job_link = None
    if inputs.github_token is not None:
        token = inputs.github_token.get_secret_value()

        def job_link() -> str:
            from escalator.clients.github import find_job_url  # PyGithub only when a token is given

            return find_job_url(github, token, deadline)

    return deadline, pagerduty, port, job_link


def port_client(
    inputs: PortReporting, console: Console, deadline: Deadline, network: Mapping[str, str]
) -> PortClient:
    assert inputs.port_client_id is not None
    assert inputs.port_client_secret is not None
    return PortClient.connect(
        inputs.port_api_url,
        client_id=inputs.port_client_id.get_secret_value(),
        client_secret=inputs.port_client_secret.get_secret_value(),
        deadline=deadline,
        on_token=console.add_secret,
        environ=network,
    )


def say_port_scope(inputs: CommonInputs, console: Console) -> None:
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
