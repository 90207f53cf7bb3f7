"""trigger and change-event end to end against the sandbox, as a Port user runs them: the issue's
"Done when", the run without a REST token, the dry run, the command line, the request budget,
every request against PagerDuty's and Port's specifications, and the routing key nowhere."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from escalator.faces.cli import main as cli_main
from escalator.sandbox import Sandbox, seed
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from tests.contract import request_problems
from tests.e2e import RunResult, run_action, run_in_process, run_logs
from tests.secret_scan import captured, leaks, service_side

KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")
#: A key of the right shape that no integration holds.
UNKNOWN_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SERVICE_CONTEXT = {
    "blueprint": "pagerdutyService",
    "entity": "PSVCPAY",
    "run_id": seed.DEMO_RUN_ID,
    "relations": {},
}
RUN_KEY = f"port-{seed.DEMO_RUN_ID}"
ENQUEUE = "/events/v2/enqueue"
CHANGE = "/events/v2/change/enqueue"


def context(run_id: str = seed.DEMO_RUN_ID) -> str:
    return json.dumps(SERVICE_CONTEXT | {"run_id": run_id})


def run(sandbox: Sandbox, tmp_path: Path, operation: str = "trigger", **inputs: str) -> RunResult:
    """Run an Events operation in process from the demo run on the payments-api service."""
    inputs.setdefault("routing_key", KEY)
    inputs.setdefault("port_context", context())
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


def holding(sandbox: Sandbox, key: str) -> list[dict[str, Any]]:
    """The incidents the sandbox holds with ``key``."""
    incidents = sandbox.state()["pagerduty"]["incidents"].values()
    return [incident for incident in incidents if incident["incident_key"] == key]


def sent(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    return [entry for entry in sandbox.journal() if entry["path"] == path]


def contract_problems(journal: list[dict[str, Any]]) -> list[str]:
    """How the journal's requests break the Events API's, PagerDuty's or Port's specification."""
    problems: list[str] = []
    for entry in journal:
        service = entry["path"].split("/")[1]
        prefix = "/events/v2" if service == "events" else "/" + service
        path = entry["path"].removeprefix(prefix)
        problems += request_problems(
            service, entry["method"], path, entry["query"], entry["headers"], entry["body"]
        )
    return problems


def nowhere(sandbox: Sandbox, result: RunResult, secret: str = KEY) -> list[str]:
    """Where the routing key shows up: the run's log, outputs, summary, and what it sent."""
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    return leaks([secret], places)


@pytest.fixture
def sandbox() -> Any:
    with Sandbox() as running:
        yield running


# --- the "Done when" ----------------------------------------------------------------


def test_trigger_from_a_service_opens_one_incident(sandbox: Sandbox, tmp_path: Path) -> None:
    """The entrypoint, as the runner starts it: one incident keyed port-<run id>, its outputs,
    the Port run told, the incident upserted into Port, every request as the specs say."""
    result = run_action(
        sandbox,
        tmp_path,
        operation="trigger",
        routing_key=KEY,
        title="Card payments failing",
        severity="critical",
        port_context=context(),
    )
    assert result.returncode == 0, result.stdout
    [incident] = holding(sandbox, RUN_KEY)
    assert (incident["service"]["id"], incident["urgency"]) == ("PSVCPAY", "high")
    assert result.outputs["dedup_key"] == RUN_KEY
    assert result.outputs["incident_id"] == incident["id"]
    assert result.outputs["incident_status"] == "triggered"
    assert result.outputs["changed"] == "true"
    entities = sandbox.state()["port"]["entities"]["pagerdutyIncident"]
    assert entities[incident["id"]]["properties"]["status"] == "triggered"
    assert result.outputs["port_entity_identifier"] == incident["id"]
    assert sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]["statusLabel"].startswith(
        "Alert triggered: incident #"
    )
    assert any(RUN_KEY in log for log in run_logs(sandbox))
    assert contract_problems(sandbox.journal()) == []
    assert nowhere(sandbox, result) == []


def test_clicking_again_in_the_same_run_opens_none(sandbox: Sandbox, tmp_path: Path) -> None:
    """The same Port run sends the same key: PagerDuty groups it, no second incident; the run
    says the incident was already open."""
    first = run(sandbox, tmp_path / "1", title="Card payments failing")
    again = run(sandbox, tmp_path / "2", title="Card payments failing")
    assert (first.returncode, again.returncode) == (0, 0)
    assert len(holding(sandbox, RUN_KEY)) == 1
    assert again.outputs["incident_id"] == first.outputs["incident_id"]
    assert "status already triggered" in again.stdout
    keys = [entry["body"]["dedup_key"] for entry in sent(sandbox, ENQUEUE)]
    assert keys == [RUN_KEY, RUN_KEY]


def test_resolve_with_the_key_resolves_it(sandbox: Sandbox, tmp_path: Path) -> None:
    """Acknowledge, then resolve, with the trigger's key from another Port run."""
    run(sandbox, tmp_path / "t", title="Card payments failing")
    [incident] = holding(sandbox, RUN_KEY)
    other = json.dumps({"blueprint": "pagerdutyService", "entity": "PSVCPAY"})  # no Port run
    acked = run(
        sandbox, tmp_path / "a", event_action="acknowledge", dedup_key=RUN_KEY, port_context=other
    )
    assert acked.returncode == 0, acked.stdout
    assert acked.outputs["incident_status"] == "acknowledged"
    resolved = run(
        sandbox, tmp_path / "r", event_action="RESOLVE", dedup_key=RUN_KEY, port_context=other
    )
    assert resolved.returncode == 0, resolved.stdout
    assert sandbox.state()["pagerduty"]["incidents"][incident["id"]]["status"] == "resolved"
    assert resolved.outputs["incident_status"] == "resolved"
    assert "payload" not in sent(sandbox, ENQUEUE)[-1]["body"]


def test_resolve_with_no_open_alert_says_pagerduty_drops_it(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A resolve whose key holds no open incident is still 202; the run says none was open."""
    result = run(sandbox, tmp_path, event_action="resolve", dedup_key="never-triggered")
    assert result.returncode == 0
    assert "no open incident holds it" in result.stdout
    assert sandbox.state()["pagerduty"]["events"][-1]["outcome"] == "dropped"
    assert "incident_id" not in result.outputs
    reads = [e for e in sandbox.journal() if e["path"] == "/pagerduty/incidents"]
    assert len(reads) == 1  # before only: nothing to read after a dropped event


@pytest.mark.parametrize(
    ("key", "reaches_pagerduty"),
    [("not-a-key-" + KEY[10:], False), (UNKNOWN_KEY, True)],
    ids=["malformed", "unknown"],
)
def test_an_invalid_key_names_routing_key_and_appears_nowhere(
    sandbox: Sandbox, tmp_path: Path, key: str, reaches_pagerduty: bool
) -> None:
    """A key of the wrong shape fails before anything is sent, an unknown one on PagerDuty's
    400 (not retried); both name routing_key, and the key is in no log, output, summary, Port
    run log, entity or request PagerDuty could keep."""
    result = run(sandbox, tmp_path, routing_key=key, title="Card payments failing")
    assert result.returncode == (1 if reaches_pagerduty else 2)
    assert "routing_key" in result.stdout
    assert len(sent(sandbox, ENQUEUE)) == (1 if reaches_pagerduty else 0)
    assert holding(sandbox, RUN_KEY) == []
    assert nowhere(sandbox, result, key) == []


def test_a_deploy_posts_one_change_event_with_links(sandbox: Sandbox, tmp_path: Path) -> None:
    """change-event posts one event on the service with its details and the GitHub run's link;
    no REST request, no entity."""
    result = run(
        sandbox,
        tmp_path,
        operation="change-event",
        title="Deployed payments-api 2.4.1",
        details='{"version": "2.4.1"}',
        pagerduty_token="",
    )
    assert result.returncode == 0, result.stdout
    [event] = sandbox.state()["pagerduty"]["change_events"]
    assert (event["service"], event["summary"]) == ("PSVCPAY", "Deployed payments-api 2.4.1")
    assert event["custom_details"] == {"version": "2.4.1"}
    assert event["source"] == "PSVCPAY"
    assert [link["text"] for link in event["links"]] == ["GitHub Actions run"]
    assert not [e for e in sandbox.journal() if e["path"].startswith("/pagerduty")]
    assert sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]["statusLabel"] == "Change event sent"
    assert contract_problems(sandbox.journal()) == []
    assert nowhere(sandbox, result) == []


# --- without a REST token, dry run, budget --------------------------------------------------------


def test_without_a_rest_token_the_event_is_sent_and_nothing_read(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With no pagerduty_token the trigger needs no From either: one request to PagerDuty, the
    dedup key output, and no entity (the incident is not looked up)."""
    result = run(sandbox, tmp_path, title="Card payments failing", pagerduty_token="")
    assert result.returncode == 0, result.stdout
    pagerduty = [e for e in sandbox.journal() if not e["path"].startswith("/port")]
    assert [(e["method"], e["path"]) for e in pagerduty] == [("POST", ENQUEUE)]
    assert result.outputs["dedup_key"] == RUN_KEY
    assert "incident_id" not in result.outputs
    assert result.outputs["port_entity_identifier"] == ""
    assert len(holding(sandbox, RUN_KEY)) == 1


def test_with_a_rest_token_the_budget_is_one_read_one_event_one_read(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The REST reads are the key's incident before and after (found on the first read here)."""
    result = run(sandbox, tmp_path, title="Card payments failing")
    assert result.returncode == 0
    pagerduty = [e for e in sandbox.journal() if not e["path"].startswith("/port")]
    assert [(e["method"], e["path"]) for e in pagerduty] == [
        ("GET", "/pagerduty/incidents"),
        ("POST", ENQUEUE),
        ("GET", "/pagerduty/incidents"),
    ]


def test_dry_run_shows_the_event_without_the_key_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The dry run shows the exact body (the routing key masked) and sends no event."""
    result = run(sandbox, tmp_path, title="Card payments failing", dry_run="true")
    assert result.returncode == 0, result.stdout
    assert sent(sandbox, ENQUEUE) == []
    line = next(line for line in result.lines if "Dry run: would send POST /v2/enqueue" in line)
    assert f'"dedup_key": "{RUN_KEY}"' in line
    assert '"routing_key": "***"' in line
    assert "Would send to PagerDuty" in result.summary
    assert nowhere(sandbox, result) == []


def test_acknowledge_needs_the_triggers_key(sandbox: Sandbox, tmp_path: Path) -> None:
    """acknowledge without dedup_key is an input error naming it; nothing is sent."""
    result = run(sandbox, tmp_path, event_action="acknowledge")
    assert result.returncode == 2
    assert "dedup_key" in result.stdout
    assert [e for e in sandbox.journal() if not e["path"].startswith("/port")] == []
    assert any("dedup_key" in log for log in run_logs(sandbox))  # the Port run is told why


def test_details_that_look_like_json_must_be_json(sandbox: Sandbox, tmp_path: Path) -> None:
    """details opening with { that is not JSON is an input error naming details."""
    result = run(sandbox, tmp_path, title="T", details="{version: 2}")
    assert result.returncode == 2
    assert "details" in result.stdout
    assert sent(sandbox, ENQUEUE) == []


# --- the command line -------------------------------------------------------------------------


def test_the_command_line_triggers_with_the_key_from_the_environment(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """escalator trigger reads PAGERDUTY_ROUTING_KEY, prints the dedup key in --json, never the
    key."""
    argv = [
        "trigger",
        "--service",
        "PSVCPAY",
        "--title",
        "Disk full",
        "--dedup-key",
        "cli-disk-1",
        "--pagerduty-events-url",
        sandbox.events_url,
        "--json",
    ]
    code = cli_main(argv, env={"PAGERDUTY_ROUTING_KEY": KEY})
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["dedup_key"] == "cli-disk-1"
    assert len(holding(sandbox, "cli-disk-1")) == 1
    assert leaks([KEY], {"stdout": out, "stderr": err}) == []


def test_a_hostile_summary_starts_no_workflow_command_nor_forges_an_output(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A title holding workflow commands and a forged output line is shown inert: no line of it
    starts a command, the outputs are the operation's own, the Port run logs hold it on one line."""
    title = "::error::pwned\n::set-output name=changed::false\n##[error]old\ndedup_key=FORGED"
    result = run(sandbox, tmp_path, title=title)
    assert result.returncode == 0, result.stdout
    for line in result.lines:
        assert not line.lstrip().startswith(("::error::pwned", "::set-output", "##[error]"))
    assert result.outputs["dedup_key"] == RUN_KEY
    assert "FORGED" not in result.outputs_text
    logs = [log for log in run_logs(sandbox) if "pwned" in log]
    assert logs
    assert all("\n" not in log for log in logs)
