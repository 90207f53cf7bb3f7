"""Create-service: its pure plan, and the action run end to end against the sandbox as a Port user
would run it (entrypoint.py as the GitHub runner starts it, and the command line): one service and
one Events API v2 integration, a re-run that creates nothing, two runs at once that end with one
service, and a routing key that reaches the step output masked and nowhere else."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from escalator.clients.models import Reference
from escalator.clients.services import Integration, Service
from escalator.demo_service import run_service_demo
from escalator.errors import Refusal
from escalator.faces.cli import main as cli_main
from escalator.operations.create_service import ServiceRequest, plan
from escalator.operations.service_writes import AddEventsIntegration, CreateService, ServiceState
from escalator.sandbox import Sandbox, seed
from tests.contract import request_problems
from tests.e2e import (
    REAL_SHAPED_CREDENTIALS,
    RunResult,
    port_admin,
    run_action,
    run_in_process,
)
from tests.secret_scan import captured, leaks, service_side

NAME = "Payments"
POLICY = "PPAYMNT"
PD = "/pagerduty"


def found(policy: str = POLICY, *, key: str | None = "k" * 32) -> ServiceState:
    """A found service on ``policy``, with an Events integration holding ``key`` (None: none)."""
    service = Service(
        id="PSVC001",
        name=NAME,
        status="active",
        escalation_policy=Reference(id=policy, type="escalation_policy_reference"),
    )
    integration = (
        Integration(id="PINT001", type="events_api_v2_inbound_integration", integration_key=key)
        if key
        else None
    )
    return ServiceState(service, integration)


def test_plan_creates_the_service_then_its_integration() -> None:
    """Nothing found: the create, then the integration on the service it makes."""
    made = plan(ServiceRequest(NAME, POLICY, "Card payments"))
    assert made.before is None
    assert made.writes == (CreateService(NAME, POLICY, "Card payments"), AddEventsIntegration())
    assert made.writes[0].body() == {
        "service": {
            "type": "service",
            "name": NAME,
            "escalation_policy": {"id": POLICY, "type": "escalation_policy_reference"},
            "description": "Card payments",
        }
    }
    assert [change.needed for change in made.changes] == [True, True]


def test_plan_sends_nothing_for_a_service_with_an_integration() -> None:
    """Found with an Events integration: no write, both changes said to hold."""
    made = plan(ServiceRequest(NAME, POLICY, found=found()))
    assert made.writes == ()
    assert [change.needed for change in made.changes] == [False, False]


def test_plan_adds_only_the_integration_a_found_service_lacks() -> None:
    """Found without an Events integration (a run that failed after the create): only it."""
    made = plan(ServiceRequest(NAME, POLICY, found=found(key=None)))
    assert made.writes == (AddEventsIntegration("PSVC001"),)


def test_plan_refuses_a_name_on_another_policy() -> None:
    """A service of that name on another policy is not the one asked for: refused, named."""
    with pytest.raises(Refusal) as caught:
        plan(ServiceRequest(NAME, POLICY, found=found("POTHER1")))
    assert caught.value.input == "service_name"
    assert "POTHER1" in caught.value.message_template


# --- end to end ----------------------------------------------------------------------------------


def inputs(run_id: str | None = None, **more: str) -> dict[str, str]:
    """The inputs the kit's Create Service action sends (with a Port run when ``run_id``)."""
    values = {
        "operation": "create-service",
        "service_name": NAME,
        "escalation_policy_id": POLICY,
        "timeout_seconds": "20",
        **REAL_SHAPED_CREDENTIALS,
    }
    if run_id:
        values["port_context"] = json.dumps({"blueprint": "pagerdutyService", "run_id": run_id})
    return values | more


def start_run(sandbox: Sandbox) -> str:
    """Start a run of the kit's Create Service action, as a click in Port does."""
    path = "/v1/actions/pagerdutyService_create_service/runs"
    body = {"properties": {"service_name": NAME}}
    answer = port_admin(sandbox, "POST", path, body, timeout=10)
    sandbox.clear_journal()
    return str(answer.json()["run"]["id"])


def services_named(sandbox: Sandbox, name: str = NAME) -> list[dict[str, Any]]:
    return [
        s
        for s in sandbox.state()["pagerduty"]["services"].values()
        if s["name"].lower() == name.lower()
    ]


def pd_requests(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in journal if entry["path"].startswith(PD + "/")]


def contract_problems(journal: list[dict[str, Any]]) -> list[str]:
    """How the requests sent break PagerDuty's and Port's specifications."""
    problems: list[str] = []
    for entry in journal:
        service = "pagerduty" if entry["path"].startswith(PD) else "port"
        path = entry["path"].removeprefix("/" + service)
        problems += request_problems(
            service, entry["method"], path, entry["query"], entry["headers"], entry["body"]
        )
    return problems


def routing_key(result: RunResult) -> str:
    """The routing key the run output, checked to be a 32-character key masked before output."""
    key = result.outputs["routing_key"]
    assert len(key) == 32
    assert f"::add-mask::{key}" in result.lines
    first_mask = result.lines.index(f"::add-mask::{key}")
    shown = [n for n, line in enumerate(result.lines) if key in line and "add-mask" not in line]
    assert all(n > first_mask for n in shown)
    return key


def assert_key_nowhere_else(result: RunResult, sandbox: Sandbox, key: str) -> None:
    """The key is in no log line, summary, other output, error, Port log, run, entity or request
    the run sent."""
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    outputs = dict(result.outputs)
    assert outputs.pop("routing_key") == key
    places["outputs"] = json.dumps(outputs)
    assert leaks([key], places) == []


def test_create_service_makes_one_service_and_one_integration(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """As a Port user: one service, one Events integration, the entity at once, the run told,
    the routing key in the step output only, masked first; three PagerDuty requests."""
    run_id = start_run(sandbox)
    result = run_action(sandbox, tmp_path, **inputs(run_id, description="Card payments"))
    assert result.returncode == 0, result.stdout
    (service,) = services_named(sandbox)
    assert len(service["integrations"]) == 1
    assert result.outputs["service_id"] == service["id"]
    assert result.outputs["changed"] == "true"
    key = routing_key(result)
    assert_key_nowhere_else(result, sandbox, key)
    journal = sandbox.journal()
    assert [(e["method"], e["path"]) for e in pd_requests(journal)] == [
        ("GET", f"{PD}/services"),
        ("POST", f"{PD}/services"),
        ("POST", f"{PD}/services/{service['id']}/integrations"),
    ]
    assert contract_problems(journal) == []
    entity = sandbox.state()["port"]["entities"]["pagerdutyService"][service["id"]]
    assert entity["title"] == NAME
    assert entity["properties"]["status"] == "active"
    assert entity["properties"]["url"] == service["html_url"]
    run = sandbox.state()["port"]["runs"][run_id]
    assert service["id"] in json.dumps(sandbox.state()["port"]["run_entities"][run_id])
    assert run["statusLabel"] == f"Created service {NAME}"


def test_a_rerun_creates_nothing_and_gives_the_same_id_and_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The same name again (another case): nothing created, the same ID and key, one request."""
    first = run_in_process(sandbox, tmp_path / "1", **inputs(start_run(sandbox)))
    sandbox.clear_journal()
    again = run_in_process(
        sandbox, tmp_path / "2", **inputs(start_run(sandbox), service_name="PAYMENTS")
    )
    assert again.returncode == 0, again.stdout
    assert again.outputs["service_id"] == first.outputs["service_id"]
    assert routing_key(again) == routing_key(first)
    assert again.outputs["changed"] == "false"
    assert len(services_named(sandbox)) == 1
    assert [e["method"] for e in pd_requests(sandbox.journal())] == ["GET"]
    assert_key_nowhere_else(again, sandbox, routing_key(again))


def test_a_name_that_only_contains_another_is_created(sandbox: Sandbox, tmp_path: Path) -> None:
    """'payments' is part of the seeded payments-api: it is still created (query is a substring)."""
    result = run_in_process(sandbox, tmp_path, **inputs(service_name="payments"))
    assert result.returncode == 0, result.stdout
    assert result.outputs["service_id"] != "PSVCPAY"
    assert len(services_named(sandbox, "payments")) == 1


def test_two_runs_at_once_end_with_one_service(sandbox: Sandbox, tmp_path: Path) -> None:
    """Both look the name up before either creates (the creates are slowed down so both are
    sent): one 201 and one 400 read as found, one service and one integration, the same ID and
    key from both, and only the run that created it says changed."""
    sandbox.set_faults(
        [
            {
                "method": "POST",
                "path": f"{PD}/services",
                "steps": [{"pass": True}],
                "repeat_last": True,
                "latency": 3,
            }
        ]
    )
    results: dict[int, RunResult] = {}

    def run(number: int) -> None:
        results[number] = run_action(sandbox, tmp_path / str(number), **inputs())

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.returncode for r in results.values()] == [0, 0]
    (service,) = services_named(sandbox)
    assert {r.outputs["service_id"] for r in results.values()} == {service["id"]}
    creates = [
        e for e in sandbox.journal() if (e["method"], e["path"]) == ("POST", f"{PD}/services")
    ]
    assert sorted(e["status"] for e in creates) == [201, 400]
    assert len(service["integrations"]) == 1
    assert len({routing_key(result) for result in results.values()}) == 1
    assert sorted(r.outputs["changed"] for r in results.values()) == ["false", "true"]
    for result in results.values():
        assert_key_nowhere_else(result, sandbox, routing_key(result))


def test_dry_run_shows_the_bodies_and_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """A dry run prints the create's body and sends no write."""
    result = run_in_process(sandbox, tmp_path, **inputs(dry_run="true", description="Cards"))
    assert result.returncode == 0, result.stdout
    assert "Dry run: would send POST /services" in result.stdout
    assert '"description": "Cards"' in result.stdout
    assert [e["method"] for e in pd_requests(sandbox.journal())] == ["GET"]
    assert not services_named(sandbox)


@pytest.mark.parametrize(
    ("more", "input_name", "code"),
    [
        ({"escalation_policy_id": "PNOSUCH"}, "escalation_policy_id", 1),
        ({"service_name": "x" * 256}, "service_name", 2),
        ({"escalation_policy_id": "PPLATFM", "service_name": "payments-api"}, "service_name", 1),
    ],
    ids=["unknown-policy", "name-too-long", "name-on-another-policy"],
)
def test_errors_name_the_input_and_create_nothing(
    sandbox: Sandbox, tmp_path: Path, more: dict[str, str], input_name: str, code: int
) -> None:
    """An unknown policy, a name too long, a name taken on another policy: the error names the
    input, the exit code is as for every operation, and no service is made."""
    before = len(sandbox.state()["pagerduty"]["services"])
    result = run_in_process(sandbox, tmp_path, **inputs(**more))
    assert result.returncode == code
    assert input_name in result.error_text
    assert len(sandbox.state()["pagerduty"]["services"]) == before


def test_the_command_line_creates_then_finds(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """`escalator create-service NAME -p POLICY --json` twice: one service, the same ID."""
    env = {
        "PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN,
        "PATH": "/usr/bin:/bin",
    }
    argv = [
        "create-service",
        NAME,
        "-p",
        POLICY,
        "--pagerduty-api-url",
        sandbox.pagerduty_url,
        "--json",
    ]
    assert cli_main(argv, env) == 0
    shown = capsys.readouterr()
    first = json.loads(shown.out)
    assert first["routing_key"]
    assert first["routing_key"] not in shown.err
    assert cli_main(argv, env) == 0
    again = json.loads(capsys.readouterr().out)
    assert first["service_id"] == again["service_id"] == services_named(sandbox)[0]["id"]
    assert first["routing_key"] == again["routing_key"]
    assert (first["changed"], again["changed"]) == (True, False)


def test_the_demo_creates_then_finds_and_shows_the_key_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`escalator demo --create-service`: both runs succeed, the second creates nothing, and the
    routing key is shown only as masked."""
    assert run_service_demo() == 0
    shown = capsys.readouterr().out
    assert "Step 2: job log (exit code 0)" in shown
    outputs = re.findall(r"^  (changed|routing_key) +(.+)$", shown, flags=re.M)
    assert outputs == [
        ("changed", "true"),
        ("routing_key", "*** (masked)"),
        ("changed", "false"),
        ("routing_key", "*** (masked)"),
    ]
    assert not re.search(r"\b[0-9a-f]{32}\b", shown)
