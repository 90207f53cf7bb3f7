"""An operation whose target is not an incident, run end to end through the action and the sandbox.

``Tally`` exists only here (it is registered for each test, then removed): its target is the notes
of an incident's service desk, a state of its own; it reads them beside the Port token, adds one
mark with a lost-answer check, outputs the count and upserts a ``pagerdutyService`` entity shaped
by the blueprint. It is what an on-call, service or events operation is built like
(CONTRIBUTING.md, "Adding an operation").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from escalator.clients.bodies import NoteBody
from escalator.errors import PagerDutyError
from escalator.faces.cli import main as cli_main
from escalator.inputs import CommonInputs
from escalator.operations import OPERATIONS, TARGET_OPERATIONS
from escalator.operations.base import Change, Field, Positional
from escalator.operations.target import (
    Clients,
    EntityDraft,
    TargetPlan,
    TargetReads,
)
from escalator.sandbox import Sandbox, seed
from tests.e2e import SEED_PORT_CONTEXT, RunResult, applied, run_in_process, run_logs

INCIDENT = seed.DEMO_INCIDENT_ID
PD = "/pagerduty"
MARK = "Tallied"


@dataclass(frozen=True)
class Tally:
    """The target: an incident's notes, and the service it belongs to."""

    incident_id: str
    service_id: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class AddMark:
    """``POST /incidents/{id}/notes`` with the mark; landed when the notes hold one more."""

    incident_id: str

    @property
    def request_line(self) -> str:
        return f"POST /incidents/{self.incident_id}/notes"

    def body(self) -> NoteBody:
        return {"note": {"content": MARK}}

    def send(self, clients: Clients, current: Tally | None) -> Tally | None:
        assert current is not None  # planned from what was read
        clients.pagerduty.add_note(self.incident_id, self.body())
        return Tally(current.incident_id, current.service_id, (*current.notes, MARK))

    def rechecks(self, error: PagerDutyError) -> bool:
        return False

    def landed(self, clients: Clients, current: Tally | None) -> Tally | None:
        assert current is not None
        notes = tuple(n.content for n in clients.pagerduty.list_notes(self.incident_id))
        if notes.count(MARK) > current.notes.count(MARK):
            return Tally(current.incident_id, current.service_id, notes)
        return None


class TallyInputs(CommonInputs):
    """Its inputs: the incident whose notes it tallies."""

    incident_id: str


class TallyOperation:
    """Adds a mark to an incident's notes and reports the count on its service's entity."""

    name: ClassVar[str] = "tally"
    noun: ClassVar[str] = "Tally"
    doing: ClassVar[str] = "Tallying"
    done: ClassVar[str] = "tallied"
    target: ClassVar[str] = "tally"
    secret_outputs: ClassVar[tuple[str, ...]] = ()
    inputs_model: ClassVar[type[CommonInputs]] = TallyInputs
    runs_on_service: ClassVar[bool] = False
    needs_rest_token: ClassVar[bool] = True
    description: ClassVar[str] = "Add a mark to an incident's notes."
    example: ClassVar[str] = "escalator tally -i Q1"
    positional: ClassVar[Positional | None] = None
    cli_extra: ClassVar[tuple[str, ...]] = ()
    kit_action: ClassVar[str] = "tally-action.json"

    def check_inputs(self, inputs: TallyInputs) -> None:
        return None

    def subject(self, inputs: TallyInputs) -> str:
        return f"the notes of PagerDuty incident {inputs.incident_id}"

    def asked(self, inputs: TallyInputs) -> str:
        return "one mark"

    def gather(self, inputs: TallyInputs, reads: TargetReads) -> Tally:
        incident_id = inputs.incident_id
        notes = reads.submit(reads.clients.pagerduty.list_notes, incident_id)
        incident = reads.clients.pagerduty.get_incident(incident_id)
        service_id = incident.service.id if incident.service else ""
        return Tally(incident_id, service_id, tuple(n.content for n in notes.result()))

    def plan(self, request: Tally) -> TargetPlan[Tally]:
        change = Change(Field.NOTE, str(len(request.notes)), MARK, True)
        return TargetPlan(before=request, changes=(change,), writes=(AddMark(request.incident_id),))

    def said(self, state: Tally) -> str:
        return f"{len(state.notes)} note(s) on {state.incident_id}"

    def done_label(self, plan: TargetPlan[Tally], after: Tally | None) -> str:
        return f"Tallied {len(after.notes) if after else '?'}"

    def outputs(self, state: Tally | None) -> dict[str, str]:
        return {"note_count": str(len(state.notes))} if state else {}

    def summary_rows(self, state: Tally | None) -> list[tuple[str, str]]:
        return [("Notes", str(len(state.notes)))] if state else []

    def port_blueprint(self, inputs: TallyInputs) -> str | None:
        return "pagerdutyService"

    def entity(self, inputs: TallyInputs, state: Tally) -> EntityDraft | None:
        properties: Mapping[str, object] = {
            "status": "active",
            "meanSecondsToResolve": len(state.notes),
            "notInTheBlueprint": "dropped",
        }
        return EntityDraft("pagerdutyService", state.service_id, "Tallied", properties)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tally is an operation for the duration of each test only."""
    for registry in (OPERATIONS, TARGET_OPERATIONS):
        monkeypatch.setitem(registry.places, TallyOperation.name, f"{__name__}:TallyOperation")


def run(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> RunResult:
    """Run tally in process on the demo incident, reporting to the demo Port run."""
    context = json.dumps(SEED_PORT_CONTEXT | {"entity": INCIDENT})
    return run_in_process(
        sandbox,
        tmp_path,
        operation="tally",
        incident_id=INCIDENT,
        port_context=context,
        **{"from": seed.FROM_EMAIL, **inputs},
    )


def notes(sandbox: Sandbox) -> list[str]:
    """The texts of the demo incident's notes, as the sandbox holds them."""
    return [n["content"] for n in sandbox.state()["pagerduty"]["notes"].get(INCIDENT, [])]


def test_a_target_operation_reads_writes_once_outputs_and_upserts_its_entity(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The mark is posted once, the count is an output, the service entity holds only what
    its blueprint has, and the Port run is told and labelled by the operation."""
    before = len(notes(sandbox))
    result = run(sandbox, tmp_path)
    assert result.returncode == 0, result.stdout
    assert notes(sandbox).count(MARK) == 1
    posts = applied(sandbox.journal(), "POST", f"{PD}/incidents/.*/notes")
    assert [p["body"] for p in posts] == [{"note": {"content": MARK}}]
    assert result.outputs["operation"] == "tally"
    assert result.outputs["changed"] == "true"
    assert result.outputs["note_count"] == str(before + 1)
    service = result.outputs["port_entity_identifier"]
    upserts = applied(sandbox.journal(), "POST", "/port/v1/blueprints/pagerdutyService/entities")
    assert [u["body"]["identifier"] for u in upserts] == [service]
    sent = upserts[0]["body"]["properties"]
    assert sent == {"status": "active", "meanSecondsToResolve": before + 1}
    run_state = sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]
    assert run_state["statusLabel"] == f"Tallied {before + 1}"
    logs = run_logs(sandbox)
    assert logs[0] == f"Tallying the notes of PagerDuty incident {INCIDENT}: one mark."
    assert any(log.startswith("Tally tallied: note") for log in logs)
    assert f"| Notes | {before + 1} |" in result.summary


def test_a_target_write_whose_answer_was_lost_is_checked_not_repeated(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The mark lands but the connection is reset: the notes are read, the mark is seen, it is
    not posted again."""
    sandbox.set_faults(
        [{"method": "POST", "path": f"{PD}/incidents/*/notes", "steps": [{"fault": "reset_after"}]}]
    )
    result = run(sandbox, tmp_path)
    assert result.returncode == 0, result.stdout
    assert notes(sandbox).count(MARK) == 1
    assert (
        len([e for e in sandbox.journal() if e["method"] == "POST" and "notes" in e["path"]]) == 1
    )
    assert result.outputs["changed"] == "true"


def test_a_target_dry_run_shows_every_body_and_sends_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A dry run shows the write's request and body in the log and the summary, writes nothing
    to PagerDuty and upserts nothing to Port."""
    result = run(sandbox, tmp_path, dry_run="true")
    assert result.returncode == 0, result.stdout
    shown = f'POST /incidents/{INCIDENT}/notes {{"note": {{"content": "{MARK}"}}}}'
    assert f"Dry run: would send {shown}" in result.stdout
    assert shown in result.summary
    assert [e for e in sandbox.journal() if e["method"] != "GET" and e["path"].startswith(PD)] == []
    assert not [e for e in sandbox.journal() if "/entities" in e["path"] and e["method"] != "GET"]
    assert result.outputs["changed"] == "false"
    assert result.outputs["port_entity_identifier"] == ""


#: A secret the operation outputs (as a routing key would be): long enough to be masked in pieces.
RECEIPT = "rk-sbx-7Yt2Qm9Lw4Hc8Np3"


class SecretTally(TallyOperation):
    """Tally with a secret output, said in its logs too (as a careless service might echo it)."""

    secret_outputs: ClassVar[tuple[str, ...]] = ("receipt",)

    def said(self, state: Tally) -> str:
        return f"{super().said(state)}, receipt {RECEIPT}"

    def outputs(self, state: Tally | None) -> dict[str, str]:
        return super().outputs(state) | {"receipt": RECEIPT}


def test_a_secret_output_is_masked_everywhere_and_written_as_is(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The secret output is handed to the runner's masking before any log says it, is written
    to the step output intact, and appears in no log, summary or Port run log."""
    for registry in (OPERATIONS, TARGET_OPERATIONS):
        monkeypatch.setitem(registry.places, SecretTally.name, f"{__name__}:SecretTally")
    result = run(sandbox, tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.outputs["receipt"] == RECEIPT
    assert RECEIPT in result.masked
    assert RECEIPT not in result.stdout.replace(f"::add-mask::{RECEIPT}", "")
    assert RECEIPT not in result.summary
    assert not [log for log in run_logs(sandbox) if RECEIPT in log]


def test_the_command_line_runs_a_target_operation_and_prints_its_outputs(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """``escalator tally --json`` runs it through the same use case: its outputs in the JSON."""
    before = len(notes(sandbox))
    code = cli_main(
        [
            "tally",
            "-i",
            INCIDENT,
            "--from",
            seed.FROM_EMAIL,
            "--json",
            "--pagerduty-api-url",
            sandbox.pagerduty_url,
        ],
        env={"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN},
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["ok"] is True
    assert document["note_count"] == str(before + 1)
    assert notes(sandbox).count(MARK) == 1


def test_a_port_failure_after_the_write_says_what_was_done_to_the_target(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Port refuses the entity after the mark was added: the run fails, saying the target was
    changed in PagerDuty and what Port did not get, and the mark is not sent twice."""
    sandbox.set_faults(
        [
            {
                "method": "POST",
                "path": "/port/v1/blueprints/pagerdutyService/entities",
                "steps": [{"status": 422}],
            }
        ]
    )
    result = run(sandbox, tmp_path)
    assert result.returncode != 0
    assert "The tally was tallied in PagerDuty, but the Port entity was not updated" in (
        result.stdout
    )
    assert "## ⚠️ Tally tallied in PagerDuty, but Port was not fully updated" in result.summary
    assert notes(sandbox).count(MARK) == 1
    assert result.outputs["changed"] == "true"
