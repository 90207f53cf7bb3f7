"""The action in-process against mocked real hosts: service regions, and the GitHub job link."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
import responses
from responses import matchers

from escalator.faces.action import main

INCIDENT = {
    "id": "PABC123",
    "type": "incident",
    "incident_number": 3,
    "title": "EU incident",
    "status": "triggered",
    "urgency": "high",
    "html_url": "https://acme.eu.pagerduty.com/incidents/PABC123",
    "escalation_policy": {"id": "POLD", "type": "escalation_policy_reference", "summary": "Old"},
    "assignments": [],
}
BLUEPRINT = {
    "identifier": "pagerdutyIncident",
    "schema": {"properties": {"status": {"type": "string"}, "urgency": {"type": "string"}}},
    "relations": {},
}


def env_for(tmp_path: Path, **inputs: str) -> dict[str, str]:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "out"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_REPOSITORY": "acme/ops",
        "GITHUB_RUN_ID": "99",
        "GITHUB_JOB": "escalate",
        "RUNNER_NAME": "runner-7",
        "INPUT_PAGERDUTY_TOKEN": "pd-key-eu-000111",
        "INPUT_INCIDENT_ID": "PABC123",
        "INPUT_URGENCY": "low",
        "INPUT_FROM": "me@example.com",
        "INPUT_PORT_CONTEXT": json.dumps({"run_id": "r_eu1"}),
    }
    env.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
    return env


def mock_run(wire: responses.RequestsMock, pd: str, port: str) -> None:
    wire.post(f"{port}/v1/auth/access_token", json={"ok": True, "accessToken": "at-xyz-123"})
    wire.get(f"{pd}/incidents/PABC123", json={"incident": INCIDENT})
    wire.put(f"{pd}/incidents/PABC123", json={"incident": {**INCIDENT, "urgency": "low"}})
    wire.get(f"{port}/v1/blueprints/pagerdutyIncident", json={"ok": True, "blueprint": BLUEPRINT})
    wire.post(f"{port}/v1/blueprints/pagerdutyIncident/entities", status=201, json={"ok": True})
    wire.add(responses.POST, f"{port}/v1/actions/runs/r_eu1/logs", status=201, json={"ok": True})


@pytest.mark.parametrize(
    ("regions", "pd", "port"),
    [
        ({}, "https://api.pagerduty.com", "https://api.port.io"),
        (
            {"pagerduty_region": "eu", "port_region": "us"},
            "https://api.eu.pagerduty.com",
            "https://api.us.port.io",
        ),
    ],
)
def test_regions_choose_the_hosts(
    tmp_path: Path, regions: dict[str, str], pd: str, port: str
) -> None:
    """pagerduty_region and port_region send every call to that region's API host."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as wire:
        mock_run(wire, pd, port)
        wire.patch(f"{port}/v1/actions/runs/r_eu1", json={"ok": True})
        code = main(
            env_for(tmp_path, port_client_id="cid", port_client_secret="cs-999", **regions),
            io.StringIO(),
        )
        hosts = {call.request.url.split("/")[2] for call in wire.calls}
    assert code == 0
    assert hosts == {pd.split("/")[2], port.split("/")[2]}


def test_github_token_links_the_port_run_to_this_job(tmp_path: Path) -> None:
    """With github_token the run's link is this job's page, found by runner name."""
    pd, port = "https://api.pagerduty.com", "https://api.port.io"
    job_url = "https://github.com/acme/ops/actions/runs/99/job/555"
    with responses.RequestsMock(assert_all_requests_are_fired=True) as wire:
        mock_run(wire, pd, port)
        wire.get(
            re.compile(r"https://api\.github\.com(:443)?/repos/acme/ops/actions/runs/99$"),
            json={
                "id": 99,
                "url": "https://api.github.com/repos/acme/ops/actions/runs/99",
                "jobs_url": "https://api.github.com/repos/acme/ops/actions/runs/99/jobs",
            },
        )
        wire.get(
            re.compile(r"https://api\.github\.com(:443)?/repos/acme/ops/actions/runs/99/jobs"),
            json={
                "total_count": 2,
                "jobs": [
                    {
                        "id": 554,
                        "name": "escalate",
                        "status": "completed",
                        "runner_name": "runner-1",
                        "html_url": "https://wrong",
                    },
                    {
                        "id": 555,
                        "name": "escalate",
                        "status": "in_progress",
                        "runner_name": "runner-7",
                        "html_url": job_url,
                    },
                ],
            },
        )
        wire.patch(
            f"{port}/v1/actions/runs/r_eu1",
            json={"ok": True},
            match=[
                matchers.json_params_matcher({"statusLabel": "Urgency set to low", "link": job_url})
            ],
        )
        log = io.StringIO()
        code = main(
            env_for(
                tmp_path,
                port_client_id="cid",
                port_client_secret="cs-999",
                github_token="ghs_faketoken123456",
            ),
            log,
        )
        assert code == 0, log.getvalue()


def test_pygithub_is_not_imported_without_a_token(tmp_path: Path) -> None:
    """A run without github_token never loads PyGithub."""
    sys.modules.pop("github", None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as wire:
        wire.get("https://api.pagerduty.com/incidents/PABC123", json={"incident": INCIDENT})
        wire.put("https://api.pagerduty.com/incidents/PABC123", json={"incident": INCIDENT})
        assert main(env_for(tmp_path), io.StringIO()) == 0
    assert "github" not in sys.modules
