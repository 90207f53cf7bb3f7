"""The sandbox command line and PagerDuty's official Python client against the sandbox."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pagerduty
import pytest
import requests

from escalator.sandbox import Sandbox
from escalator.sandbox.cli import main
from escalator.sandbox.seed import DEMO_INCIDENT_ID, DEMO_RUN_ID, FROM_EMAIL, PAGERDUTY_TOKEN

REPO = Path(__file__).resolve().parents[2]


def start_cli(*args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``python -m escalator.sandbox``; return it with its banner lines."""
    process = subprocess.Popen(
        [sys.executable, "-m", "escalator.sandbox", *args],
        cwd=REPO,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    while lines[-1] and not lines[-1].startswith("Press Ctrl+C"):
        lines.append(process.stdout.readline())
    return process, lines


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signal(tmp_path: Path, signum: signal.Signals) -> None:
    """The command prints URLs and credentials, serves, and exits 0 on SIGTERM or SIGINT."""
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"faults": [{"path": "/port/*", "steps": [{"status": 503}]}]}))
    process, banner = start_cli(
        "--faults", str(faults), "--blueprint-shape", "integration", "--priorities", "disabled"
    )
    url = banner[0].rsplit(" ", 1)[-1].strip()
    try:
        answer = requests.get(f"{url}/port/v1/blueprints", timeout=5)
        assert answer.status_code == 503
        priorities = requests.get(
            f"{url}/pagerduty/priorities",
            headers={"Authorization": f"Token token={PAGERDUTY_TOKEN}"},
            timeout=5,
        )
        assert priorities.status_code == 402
        state = requests.get(f"{url}/__sandbox/state", timeout=5).json()
        assert state["port"]["blueprint_shape"] == "integration"
    finally:
        process.send_signal(signum)
        out, _ = process.communicate(timeout=10)
    out = "".join(banner) + out
    assert process.returncode == 0
    assert PAGERDUTY_TOKEN in out
    assert DEMO_INCIDENT_ID in out
    assert DEMO_RUN_ID in out


def test_cli_refuses_non_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    """A non-loopback host without --allow-remote exits 2 with a clear message."""
    assert main(["--host", "0.0.0.0"]) == 2  # noqa: S104
    assert "--allow-remote" in capsys.readouterr().err


def test_cli_refuses_bad_faults_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A faults file that breaks the format exits 2 and says why."""
    bad = tmp_path / "faults.json"
    bad.write_text('[{"path": "/x", "steps": [{"fault": "explode"}]}]')
    assert main(["--faults", str(bad)]) == 2
    assert "explode" in capsys.readouterr().err


def test_official_client_creates_updates_and_reads(sandbox: Sandbox) -> None:
    """PagerDuty's official client creates, escalates and reads an incident in the sandbox."""
    client = pagerduty.RestApiV2Client(PAGERDUTY_TOKEN, default_from=FROM_EMAIL)
    # The client's setter insists on https://; the sandbox is plain HTTP on loopback.
    client._url = sandbox.pagerduty_url
    try:
        check_official_client(client, sandbox)
    finally:
        client.close()


def check_official_client(client: pagerduty.RestApiV2Client, sandbox: Sandbox) -> None:
    """Create, escalate and read an incident through ``client``."""
    created = client.rpost(
        "/incidents",
        json={
            "incident": {
                "type": "incident",
                "title": "Queue backlog",
                "service": {"id": "PSVCPLT", "type": "service_reference"},
            }
        },
    )
    updated = client.rput(
        f"/incidents/{created['id']}",
        json={"incident": {"type": "incident_reference", "escalation_level": 2}},
    )
    assert updated["assignments"][0]["assignee"]["summary"] == "Erin Walsh"
    read = client.rget(f"/incidents/{created['id']}")
    assert read["id"] == created["id"]
    assert sandbox.state()["pagerduty"]["escalation_levels"][created["id"]] == 2


def test_official_client_finds_the_exact_user_among_near_misses(sandbox: Sandbox) -> None:
    """The official client's exact search by email picks the one user among near misses."""
    client = pagerduty.RestApiV2Client(PAGERDUTY_TOKEN, default_from=FROM_EMAIL)
    client._url = sandbox.pagerduty_url
    try:
        found = client.find("users", "alice@example.com", attribute="email")
        near = client.find("users", "malice@example.com", attribute="email")
    finally:
        client.close()
    assert found is not None
    assert near is not None
    assert (found["id"], near["id"]) == ("PXPGF42", "PMA7LCE")


def test_cli_serves_the_events_api() -> None:
    """The banner names the Events API URL and a routing key; --events-rate-limit applies."""
    process, banner = start_cli("--events-rate-limit", "1")
    try:
        events_url = next(line for line in banner if "Events API v2" in line).split()[3]
        key = next(line for line in banner if "Events routing keys" in line).split()[3]
        event = {
            "routing_key": key,
            "event_action": "trigger",
            "dedup_key": "cli-check",
            "payload": {"summary": "CLI check", "source": "test", "severity": "info"},
        }
        statuses = [
            requests.post(f"{events_url}/v2/enqueue", json=event, timeout=5).status_code
            for _ in range(2)
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
    assert events_url.endswith("/events")
    assert statuses == [202, 429]
