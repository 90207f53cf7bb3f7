"""The action end to end: entrypoint.py run as the GitHub runner runs it, against the sandbox."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from escalator.sandbox import Sandbox, seed
from tests.contract import request_problems
from tests.e2e import SEED_PORT_CONTEXT, RunResult, run_action

ACK_HIGH = "Q0RIJJZL24RC6W"  # acknowledged, high urgency, policy PPLATFM at level 2
TRIGGERED_LOW = "PT4KHLK"  # triggered, low urgency, policy PPAYMNT
RESOLVED = "Q1HS8Y7W3BZLRD"


@dataclass
class Run:
    """What one run of the action left behind, and what the sandbox held afterwards."""

    result: RunResult
    journal: list[dict[str, Any]]
    state: dict[str, Any]

    @property
    def code(self) -> int:
        return self.result.returncode

    @property
    def stdout(self) -> str:
        return self.result.stdout

    @property
    def stderr(self) -> str:
        return self.result.stderr

    @property
    def outputs(self) -> dict[str, str]:
        return self.result.outputs

    @property
    def summary(self) -> str:
        return self.result.summary

    def requests(self, method: str, fragment: str) -> list[dict[str, Any]]:
        return [e for e in self.journal if e["method"] == method and fragment in e["path"]]

    def incident(self, incident_id: str = seed.DEMO_INCIDENT_ID) -> dict[str, Any]:
        incidents: dict[str, Any] = self.state["pagerduty"]["incidents"]
        return dict(incidents[incident_id])

    def run_logs(self, run_id: str = seed.DEMO_RUN_ID) -> list[str]:
        return [log["message"] for log in self.state["port"]["run_logs"].get(run_id, [])]

    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error")]


@pytest.fixture
def action(sandbox: Sandbox, tmp_path: Path) -> Any:
    """Runs entrypoint.py (through tests.e2e) with the seed's Port context, the demo user and
    ``overrides``; ``port=False`` leaves the Port credentials out; the sandbox starts fresh."""

    def run(*, port: bool = True, before: Any = None, **overrides: str) -> Run:
        inputs = {
            "port_context": json.dumps(SEED_PORT_CONTEXT),
            "from": seed.FROM_EMAIL,
            "timeout_seconds": "20",
        }
        if not port:
            inputs |= {"port_client_id": "", "port_client_secret": ""}
        inputs.update(overrides)
        if before is not None:
            before()
        sandbox.clear_journal()
        result = run_action(sandbox, tmp_path, **inputs)
        return Run(result, sandbox.journal(), sandbox.state())

    return run


def test_seed_case_policy_and_urgency(action: Any) -> None:
    """The guide's case: reassign to another policy; Port gets logs, the entity and the link."""
    run = action(escalation_policy_id="PPLATFM", urgency="high")
    assert run.code == 0, run.stdout + run.stderr
    incident = run.incident()
    assert incident["escalation_policy"]["id"] == "PPLATFM"
    assert incident["assignments"][0]["assignee"]["summary"] == "Dave Lindqvist"
    assert run.outputs["changed"] == "true"
    assert run.outputs["escalation_policy_id"] == "PPLATFM"
    assert run.outputs["escalation_policy"] == "Platform Escalation"
    assert run.outputs["responder"] == "Dave Lindqvist"
    assert run.outputs["port_entity_identifier"] == seed.DEMO_INCIDENT_ID
    assert run.outputs["port_run_id"] == seed.DEMO_RUN_ID
    assert json.loads(run.outputs["incident"])["id"] == seed.DEMO_INCIDENT_ID
    # urgency is already high: one update, the policy alone
    puts = run.requests("PUT", "/incidents/")
    assert [p["body"]["incident"] for p in puts] == [
        {
            "type": "incident_reference",
            "escalation_policy": {"id": "PPLATFM", "type": "escalation_policy_reference"},
        }
    ]
    assert puts[0]["headers"]["From"] == seed.FROM_EMAIL
    entity = run.state["port"]["entities"]["pagerdutyIncident"][seed.DEMO_INCIDENT_ID]
    assert entity["properties"]["escalation_policy"] == "Platform Escalation"
    assert entity["properties"]["responder"] == "Dave Lindqvist"
    assert entity["properties"]["url"].startswith("https://")
    assert entity["relations"]["pagerdutyService"] == ["PSVCPAY"]
    upsert = run.requests("POST", "/entities")[0]
    assert upsert["query"]["run_id"] == [seed.DEMO_RUN_ID]
    assert upsert["query"]["upsert"] == ["true"]
    assert upsert["query"]["merge"] == ["true"]
    port_run = run.state["port"]["runs"][seed.DEMO_RUN_ID]
    assert port_run["status"] == "IN_PROGRESS"  # finish_port_run is false by default
    assert port_run["statusLabel"] == "Escalated to Platform Escalation"
    job = "https://github.com/example-org/incident-workflows/actions/runs/4242424242"
    assert job in port_run["link"]
    logs = run.run_logs()
    assert logs[0].startswith("Escalating PagerDuty incident Q2LAR4ADCXC8IB")
    said = (
        "Incident #1042 (Q2LAR4ADCXC8IB) escalated: escalation policy PPLATFM; urgency already high"
    )
    assert said in logs[-1]
    assert len(run.requests("POST", "/auth/access_token")) == 1
    assert "| Escalation policy | Payments On\\-Call" in run.summary


def test_policy_and_urgency_go_in_one_update(action: Any) -> None:
    """A policy and an urgency change are sent together, in one PUT."""
    run = action(escalation_policy_id="PPLATFM", urgency="low")
    assert run.code == 0
    (put,) = run.requests("PUT", "/incidents/")
    assert put["body"]["incident"]["urgency"] == "low"
    assert run.incident()["urgency"] == "low"
    assert run.outputs["urgency"] == "low"


def test_urgency_only(action: Any) -> None:
    """Only the urgency changes; the policy and the assignee stay."""
    run = action(urgency="low")
    assert run.code == 0
    assert run.incident()["escalation_policy"]["id"] == "PPAYMNT"
    assert run.incident()["urgency"] == "low"
    assert run.state["port"]["runs"][seed.DEMO_RUN_ID]["statusLabel"] == "Urgency set to low"


def test_level_only_escalates_within_the_policy(action: Any) -> None:
    """escalation_level 2 assigns the policy's second level, after reading the policy."""
    run = action(escalation_level="2")
    assert run.code == 0, run.stdout
    assert run.state["pagerduty"]["escalation_levels"][seed.DEMO_INCIDENT_ID] == 2
    assert run.outputs["responder"] == "Carol Okafor"
    assert len(run.requests("GET", "/escalation_policies/PPAYMNT")) == 1
    (put,) = run.requests("PUT", "/incidents/")
    assert put["body"]["incident"] == {"type": "incident_reference", "escalation_level": 2}


def test_policy_then_level_are_separate_updates(action: Any) -> None:
    """A policy change and a level change go as two updates, the policy first."""
    run = action(escalation_policy_id="PPLATFM", escalation_level="2")
    assert run.code == 0, run.stdout
    bodies = [p["body"]["incident"] for p in run.requests("PUT", "/incidents/")]
    assert [sorted(b) for b in bodies] == [
        ["escalation_policy", "type"],
        ["escalation_level", "type"],
    ]
    assert run.outputs["responder"] == "Erin Walsh"


def test_already_as_requested_writes_nothing(action: Any) -> None:
    """When the incident already is as asked, PagerDuty gets no write and changed is false."""
    run = action(escalation_policy_id="PPAYMNT", urgency="high")
    assert run.code == 0
    assert run.requests("PUT", "/incidents/") == []
    assert run.outputs["changed"] == "false"
    assert run.state["port"]["runs"][seed.DEMO_RUN_ID]["statusLabel"] == "Already as requested"


def test_dry_run_writes_nothing_anywhere(action: Any) -> None:
    """A dry run reads and validates, prints the plan, and writes to neither service."""
    run = action(escalation_policy_id="PPLATFM", urgency="low", dry_run="true")
    assert run.code == 0
    writes = [e for e in run.journal if e["method"] in ("PUT", "PATCH", "DELETE")]
    writes += [e for e in run.journal if e["method"] == "POST" and "access_token" not in e["path"]]
    assert writes == []
    assert run.incident()["escalation_policy"]["id"] == "PPAYMNT"
    assert "would send PUT /incidents/Q2LAR4ADCXC8IB" in run.stdout
    assert run.outputs["changed"] == "false"
    assert "Dry run" in run.summary


def test_without_port_credentials_escalates_and_skips_port(action: Any) -> None:
    """No Port credentials: PagerDuty is escalated, Port is not called, a notice says so."""
    run = action(port=False, escalation_policy_id="PPLATFM")
    assert run.code == 0
    assert [e for e in run.journal if e["path"].startswith("/port")] == []
    assert run.incident()["escalation_policy"]["id"] == "PPLATFM"
    assert any(
        line.startswith("::notice title=Port reporting skipped") for line in run.stdout.splitlines()
    )
    assert run.outputs["port_entity_identifier"] == ""


@pytest.mark.parametrize(
    "context",
    [
        {"runId": seed.DEMO_RUN_ID, "entity": seed.DEMO_INCIDENT_ID},
        {"context": {"runId": seed.DEMO_RUN_ID, "entity": seed.DEMO_INCIDENT_ID}},
        {
            "run_id": seed.DEMO_RUN_ID,
            "entity": {
                "identifier": seed.DEMO_INCIDENT_ID,
                "blueprint": "pagerdutyIncident",
                "relations": {"pagerdutyService": ["PSVCPAY"]},
            },
        },
    ],
)
def test_each_port_context_spelling(action: Any, context: dict[str, Any]) -> None:
    """Every port_context spelling reaches the same incident and the same Port run."""
    run = action(port_context=json.dumps(context), urgency="low")
    assert run.code == 0, run.stdout
    assert run.incident()["urgency"] == "low"
    assert len(run.run_logs()) == 2


def test_incident_not_found(action: Any) -> None:
    """An unknown incident fails with a 404 hint about the id, before any write; Port hears why."""
    run = action(incident_id="PNOSUCH1", urgency="low")
    assert run.code == 1
    assert run.requests("PUT", "/incidents/") == []
    (error,) = run.errors()
    assert "incident was not found" in error
    assert "PagerDuty IDs are case-sensitive" in error
    assert any("Escalation failed" in log for log in run.run_logs())
    assert "How to fix" in run.summary


def test_from_missing(action: Any) -> None:
    """Without From, PagerDuty's 400 is explained: set the from input."""
    run = action(**{"from": ""}, urgency="low")
    assert run.code == 1
    (error,) = run.errors()
    assert "to the email of a PagerDuty user" in error


def test_from_unknown(action: Any) -> None:
    """An email that is no PagerDuty user gets the 1008 explanation."""
    run = action(**{"from": "nobody@example.com"}, urgency="low")
    assert run.code == 1
    (error,) = run.errors()
    assert "no PagerDuty user has the email" in error
    assert "1008" in error


def test_port_credentials_rejected_stop_before_any_write(action: Any) -> None:
    """Rejected Port credentials stop the run before PagerDuty is changed."""
    run = action(port_client_secret="wrong-secret-value", escalation_policy_id="PPLATFM")
    assert run.code == 1
    assert run.requests("PUT", "/incidents/") == []
    assert run.incident()["escalation_policy"]["id"] == "PPAYMNT"
    (error,) = run.errors()
    assert "port_client_secret" in error
    assert "port_region" in error
    shown = [line for line in run.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert "wrong-secret-value" not in "\n".join(shown) + run.stderr


def test_invalid_input_sends_nothing_to_pagerduty_and_tells_port(action: Any) -> None:
    """An invalid input fails before any PagerDuty request, and the Port run gets a log why."""
    run = action(urgency="urgent")
    assert run.code == 2
    assert [e for e in run.journal if e["path"].startswith("/pagerduty")] == []
    (error,) = run.errors()
    assert 'urgency: "urgent" is not an urgency' in error
    assert "high or low" in error
    assert any("Not started" in log for log in run.run_logs())


def test_level_on_low_urgency_is_refused_before_writing(action: Any) -> None:
    """A level on a low-urgency incident is refused up front, with the fix (urgency: high)."""
    run = action(port=False, incident_id=TRIGGERED_LOW, escalation_level="2")
    assert run.code == 1
    assert run.requests("PUT", "/incidents/") == []
    assert "urgency: high" in run.errors()[0]


def test_level_with_urgency_high_on_low_incident(action: Any) -> None:
    """Raising the urgency first makes the level possible: two updates, both applied."""
    run = action(port=False, incident_id=TRIGGERED_LOW, escalation_level="2", urgency="high")
    assert run.code == 0, run.stdout
    assert len(run.requests("PUT", "/incidents/")) == 2
    assert run.incident(TRIGGERED_LOW)["urgency"] == "high"
    assert run.state["pagerduty"]["escalation_levels"][TRIGGERED_LOW] == 2


def test_level_beyond_the_policy_is_refused(action: Any) -> None:
    """A level the policy does not have is refused before any write, naming the range."""
    run = action(port=False, escalation_level="7")
    assert run.code == 1
    assert run.requests("PUT", "/incidents/") == []
    assert "from 1 to 3" in run.errors()[0]


def test_resolved_incident_cannot_be_escalated_to_a_level(action: Any) -> None:
    """A resolved incident gets a clear refusal, not a half-done change."""
    run = action(port=False, incident_id=RESOLVED, escalation_level="2")
    assert run.code == 1
    assert run.requests("PUT", "/incidents/") == []
    assert "resolved" in run.errors()[0]


def test_finish_port_run_sets_the_final_status(action: Any) -> None:
    """With finish_port_run: true the run ends SUCCESS after the entity and the logs."""
    run = action(escalation_policy_id="PPLATFM", finish_port_run="true")
    assert run.code == 0, run.stdout
    assert run.state["port"]["runs"][seed.DEMO_RUN_ID]["status"] == "SUCCESS"
    patch = run.requests("PATCH", "/actions/runs/")[-1]
    last_log = run.requests("POST", "/logs")[-1]
    upsert = run.requests("POST", "/entities")[-1]
    assert patch["started"] >= last_log["ended"]
    assert patch["started"] >= upsert["ended"]


def test_finished_run_explains_finish_port_run(action: Any) -> None:
    """Reporting to an ended run says PagerDuty was escalated and suggests finish_port_run."""
    context = {"run_id": seed.ENDED_RUN_ID, "entity": seed.DEMO_INCIDENT_ID}
    run = action(port_context=json.dumps(context), escalation_policy_id="PPLATFM")
    assert run.code == 1
    assert run.incident()["escalation_policy"]["id"] == "PPLATFM"
    assert run.outputs["changed"] == "true"  # the outputs tell the truth about PagerDuty
    (error,) = run.errors()
    assert "escalated in PagerDuty, but" in error
    assert "let Port end the run" in error


def test_a_rerun_on_an_ended_run_with_nothing_to_change_only_warns(action: Any) -> None:
    """A re-run of the job after Port ended its run: nothing to change in PagerDuty, so the step
    passes with a warning, and the entity is still updated (without the tie to the run)."""
    context = {"run_id": seed.ENDED_RUN_ID, "entity": seed.DEMO_INCIDENT_ID}
    run = action(port_context=json.dumps(context), escalation_policy_id="PPAYMNT")
    assert run.code == 0, run.stdout
    assert run.outputs["changed"] == "false"
    assert run.errors() == []
    assert any("has already ended" in line for line in run.stdout.splitlines())
    upserts = run.requests("POST", "/entities")
    assert [u["query"].get("run_id") for u in upserts] == [[seed.ENDED_RUN_ID], None]
    assert seed.DEMO_INCIDENT_ID in run.state["port"]["entities"]["pagerdutyIncident"]


def test_integration_blueprint_gets_the_integration_shape(action: Any, sandbox: Sandbox) -> None:
    """Against the integration blueprint the entity has assignees and one service relation."""
    sandbox.set_blueprint_shape("integration")
    try:
        run = action(escalation_policy_id="PPLATFM")
    finally:
        sandbox.set_blueprint_shape("guide")
    assert run.code == 0, run.stdout
    entity = run.state["port"]["entities"]["pagerdutyIncident"][seed.DEMO_INCIDENT_ID]
    assert entity["properties"]["assignees"] == ["dave@example.com"]
    assert entity["properties"]["priority"] == "P1"
    assert "responder" not in entity["properties"]
    assert entity["relations"]["pagerdutyService"] == "PSVCPAY"


def test_custom_property_mapping(action: Any, sandbox: Sandbox) -> None:
    """port_property_mapping fills a customised property and leaves another out."""
    run = action(
        escalation_policy_id="PPLATFM",
        port_property_mapping=json.dumps(
            {"responder": None, "escalation_policy": "service.summary"}
        ),
    )
    assert run.code == 0, run.stdout
    upsert = run.requests("POST", "/entities")[0]
    assert "responder" not in upsert["body"]["properties"]
    assert upsert["body"]["properties"]["escalation_policy"] == "payments-api"


def test_unknown_blueprint_names_it_and_how_to_create_it(action: Any) -> None:
    """A blueprint Port does not have gets an error naming it and the ways to create it."""
    run = action(escalation_policy_id="PPLATFM", port_blueprint="pdIncidentX")
    assert run.code == 1
    (error,) = run.errors()
    assert "pdIncidentX" in error
    assert "port-setup" in error


def test_every_request_matches_the_official_specifications(action: Any) -> None:
    """Each request of a full run matches the PagerDuty and Port OpenAPI request schemas."""
    run = action(escalation_policy_id="PPLATFM", urgency="low")
    assert run.code == 0
    problems = []
    for entry in run.journal:
        service = "pagerduty" if entry["path"].startswith("/pagerduty") else "port"
        path = entry["path"].removeprefix("/" + service)
        problems += request_problems(
            service, entry["method"], path, entry["query"], entry["headers"], entry["body"]
        )
    assert problems == []


def test_customised_blueprint_with_a_mapping(action: Any, sandbox: Sandbox) -> None:
    """A blueprint with its own property is filled through port_property_mapping."""
    import requests

    port = sandbox.port_url + "/v1"
    token = requests.post(
        f"{port}/auth/access_token",
        json={"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET},
        timeout=5,
    ).json()["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}

    def customise() -> None:
        current = requests.get(f"{port}/blueprints/pagerdutyIncident", headers=auth, timeout=5)
        definition = current.json()["blueprint"]
        definition["schema"]["properties"]["team"] = {"type": "string", "title": "Team"}
        for key in ("createdAt", "createdBy", "updatedAt", "updatedBy"):
            definition.pop(key, None)
        answer = requests.put(
            f"{port}/blueprints/pagerdutyIncident", json=definition, headers=auth, timeout=5
        )
        assert answer.status_code == 200, answer.text

    run = action(
        escalation_policy_id="PPLATFM",
        port_property_mapping=json.dumps({"team": "service.summary"}),
        before=customise,
    )
    assert run.code == 0, run.stdout
    entity = run.state["port"]["entities"]["pagerdutyIncident"][seed.DEMO_INCIDENT_ID]
    assert entity["properties"]["team"] == "payments-api"
    assert entity["properties"]["responder"] == "Dave Lindqvist"
