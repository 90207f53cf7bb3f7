"""The on-call operations end to end against the sandbox, as a Port user runs them from a schedule
entity: through the action's ``main`` in process, through ``entrypoint.py`` and the command line.

"Who is on call" names the primary when ``/oncalls`` is unordered and spans levels; "take the pager
for 4h" makes one override and a re-run none; a refused item fails with PagerDuty's words; "hand it
back" removes it and a second click changes nothing; Port's on-call entity shows the new on-call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escalator.faces.cli import main as cli_main
from escalator.sandbox import Sandbox, seed
from tests.contract import request_problems
from tests.e2e import RunResult, run_action, run_in_process, run_logs
from tests.secret_scan import INPUT_SECRETS, captured, leaks, port_tokens, service_side

SCHEDULE = "PSC7PAY"  # Bob; level 2 of PNIGHTS listed before level 1 of PPAYMNT
CAROL = "PD8RZ2N"
PD = "/pagerduty"
OVERRIDES = f"{PD}/schedules/{SCHEDULE}/overrides"


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One sandbox for the module, in the integration's shape (it has ``pagerdutyOncall``)."""
    with Sandbox(blueprint_shape="integration") as sandbox:
        yield sandbox


def context(entity: str = SCHEDULE, blueprint: str = "pagerdutySchedule", **extra: Any) -> str:
    """The Port context of the demo run on a schedule entity."""
    return json.dumps(
        {"blueprint": blueprint, "entity": entity, "run_id": seed.DEMO_RUN_ID} | extra
    )


def run(sandbox: Sandbox, tmp_path: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` in process as the demo user, from the schedule entity."""
    inputs.setdefault("from", seed.FROM_EMAIL)
    inputs.setdefault("port_context", context())
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


def pagerduty(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The PagerDuty requests of the journal."""
    return [e for e in sandbox.journal() if e["path"].startswith(PD)]


def writes(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The PagerDuty requests that were not reads."""
    return [e for e in pagerduty(sandbox) if e["method"] != "GET"]


def held(sandbox: Sandbox, user_id: str | None = None) -> list[dict[str, Any]]:
    """The overrides the sandbox's schedule holds (of ``user_id`` only, when given)."""
    found = sandbox.state()["pagerduty"]["overrides"][SCHEDULE]
    return [o for o in found if user_id is None or o["user"]["id"] == user_id]


def port_run(sandbox: Sandbox) -> dict[str, Any]:
    """The demo Port run as the sandbox holds it."""
    return sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]  # type: ignore[no-any-return]


def contract_problems(sandbox: Sandbox) -> list[str]:
    """How the requests of the journal break PagerDuty's or Port's specification."""
    problems: list[str] = []
    for entry in sandbox.journal():
        service = "pagerduty" if entry["path"].startswith(PD) else "port"
        path = entry["path"].removeprefix("/" + service)
        problems += request_problems(
            service, entry["method"], path, entry["query"], entry["headers"], entry["body"]
        )
    return problems


# --- oncall ----------------------------------------------------------------------------------


def test_who_is_on_call_names_the_lowest_level_not_the_first_entry(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """From PSC7PAY (level 2 listed first): Bob at level 1 is the primary, in one request."""
    result = run(sandbox, tmp_path, "oncall")
    assert result.returncode == 0, result.stdout
    listed = json.loads(result.outputs["oncall"])
    assert [item["level"] for item in listed] == sorted(item["level"] for item in listed)
    assert listed[0]["email"] == "bob@example.com"
    assert result.outputs["oncall_email"] == "bob@example.com"
    assert result.outputs["changed"] == "false"
    assert len(pagerduty(sandbox)) == 1
    assert writes(sandbox) == []
    assert any("bob@example.com" in log for log in run_logs(sandbox))
    assert "bob@example.com" in result.summary
    assert port_run(sandbox)["statusLabel"] == "Already as requested"
    assert contract_problems(sandbox) == []


@pytest.mark.parametrize(
    ("inputs", "primary", "requests"),
    [
        ({"service_id": "PSVCPAY"}, "bob@example.com", 2),
        ({"escalation_policy_id": "PNIGHTS"}, "carol@example.com", 1),
        ({"schedule_id": "PSC9REL"}, "alice@example.com", 3),
    ],
    ids=["service", "policy", "schedule-outside-every-policy"],
)
def test_who_is_on_call_for_a_service_a_policy_or_an_unused_schedule(
    inputs: dict[str, str], primary: str, requests: int, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A service through its policy, a policy, a schedule no policy uses: at most 3 requests."""
    result = run(sandbox, tmp_path, "oncall", port_context="", **inputs)
    assert result.returncode == 0, result.stdout
    assert result.outputs["oncall_email"] == primary
    assert len(pagerduty(sandbox)) == requests <= 3


def test_a_shift_based_schedule_is_refused_plainly(sandbox: Sandbox, tmp_path: Path) -> None:
    """PSC5SFT (v3) fails, saying shift-based, and the Port run fails with it."""
    result = run(sandbox, tmp_path, "oncall", port_context=context("PSC5SFT"))
    assert result.returncode == 1
    assert "shift-based (v3)" in result.error_text
    assert any(log.startswith("On-call lookup failed:") for log in run_logs(sandbox))


def test_an_oncall_entity_names_its_schedule_by_relation(sandbox: Sandbox, tmp_path: Path) -> None:
    """On a pagerdutyOncall entity, the pagerdutySchedule relation (a list) is the schedule."""
    entity = context(
        "P7Q3M8K-PSC7PAY-2026", "pagerdutyOncall", relations={"pagerdutySchedule": [SCHEDULE]}
    )
    result = run(sandbox, tmp_path, "oncall", port_context=entity)
    assert result.returncode == 0, result.stdout
    assert pagerduty(sandbox)[0]["query"]["schedule_ids[]"] == [SCHEDULE]


# --- override --------------------------------------------------------------------------------


def test_take_the_pager_for_4h_makes_one_override_and_a_rerun_none(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The first run sends one plural-body override and upserts the on-call entity; the same
    run again sends nothing and gives the same override ID."""
    first = run(sandbox, tmp_path / "1", "override", end="4h", start="2030-01-07T09:00:00Z")
    assert first.returncode == 0, first.stdout
    (post,) = writes(sandbox)
    assert post["method"] == "POST"
    assert post["path"] == OVERRIDES
    assert post["body"]["overrides"][0]["user"]["id"] == "PXPGF42"
    assert len(pagerduty(sandbox)) <= 4
    assert contract_problems(sandbox) == []
    (made,) = held(sandbox, "PXPGF42")
    assert first.outputs["override_id"] == made["id"]
    assert (first.outputs["changed"], first.outputs["oncall_email"]) == ("true", seed.FROM_EMAIL)
    entity_id = f"PXPGF42-{SCHEDULE}-{made['start']}"
    entity = sandbox.state()["port"]["entities"]["pagerdutyOncall"][entity_id]
    assert entity["properties"]["user"] == seed.FROM_EMAIL
    assert entity["properties"]["endDate"] == made["end"]
    assert entity["relations"]["pagerdutySchedule"] in (SCHEDULE, [SCHEDULE])
    sandbox.clear_journal()
    again = run(sandbox, tmp_path / "2", "override", end="4h", start="2030-01-07T09:00:00Z")
    assert again.returncode == 0, again.stdout
    assert writes(sandbox) == []
    assert len(held(sandbox, "PXPGF42")) == 1
    assert (again.outputs["changed"], again.outputs["override_id"]) == ("false", made["id"])


def test_a_refused_item_inside_the_201_fails_with_pagerdutys_words(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A 201 whose one item is a 400 fails the run with PagerDuty's words; Port gets no entity."""
    refusal = [{"status": 400, "errors": ["User is not a member of this schedule"]}]
    sandbox.set_faults(
        [{"method": "POST", "path": OVERRIDES, "steps": [{"status": 201, "body": refusal}]}]
    )
    before = sandbox.state()["port"]["entities"].get("pagerdutyOncall", {})
    result = run(sandbox, tmp_path, "override", end="4h", oncall_user="carol@example.com")
    assert result.returncode == 1
    assert "User is not a member of this schedule" in result.error_text
    assert sandbox.state()["port"]["entities"].get("pagerdutyOncall", {}) == before
    failures = [log for log in run_logs(sandbox) if log.startswith("Override failed:")]
    assert "User is not a member of this schedule" in failures[0]


@pytest.mark.parametrize(
    ("inputs", "named"),
    [
        ({"end": "91d"}, "end"),
        ({"end": "4h", "start": "2026-01-01T09:00:00"}, "start"),
        ({"end": "4h", "from": "", "oncall_user": ""}, "oncall_user"),
        ({"end": "4h", "oncall_user": "lice@example.com"}, "oncall_user"),
    ],
    ids=["too-long", "no-offset", "nobody", "near-miss-email"],
)
def test_bad_override_inputs_name_the_input_and_send_nothing(
    inputs: dict[str, str], named: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Each bad input exits 2, names its input, and nothing is written to PagerDuty."""
    result = run(sandbox, tmp_path, "override", **inputs)
    assert result.returncode == 2, result.stdout
    assert named in result.error_text
    assert writes(sandbox) == []


def test_a_dry_run_shows_the_body_and_sends_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """dry_run prints the plural body it would send, and no override is made."""
    result = run(sandbox, tmp_path, "override", end="2h", dry_run="true")
    assert result.returncode == 0, result.stdout
    assert '"overrides": [' in result.stdout
    assert writes(sandbox) == []
    assert held(sandbox, "PXPGF42") == []


# --- remove-override ---------------------------------------------------------------------------


def test_hand_it_back_removes_it_and_a_second_click_changes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Take now for 4h, hand back: the override is cut; again: nothing sent, exit 0."""
    taken = run(sandbox, tmp_path / "take", "override", end="4h")
    assert taken.returncode == 0, taken.stdout
    sandbox.clear_journal()
    back = run(sandbox, tmp_path / "back", "remove-override")
    assert back.returncode == 0, back.stdout
    (delete,) = writes(sandbox)
    assert len(pagerduty(sandbox)) == 3  # the user, the overrides over now, the delete
    assert delete["method"] == "DELETE"
    assert delete["path"].endswith("/" + taken.outputs["override_id"])
    assert back.outputs["override_id"] == taken.outputs["override_id"]
    assert back.outputs["changed"] == "true"
    assert contract_problems(sandbox) == []
    sandbox.clear_journal()
    again = run(sandbox, tmp_path / "again", "remove-override")
    assert again.returncode == 0, again.stdout
    assert writes(sandbox) == []
    assert again.outputs["changed"] == "false"


def test_a_named_override_is_deleted_without_a_read(sandbox: Sandbox, tmp_path: Path) -> None:
    """override_id PO7PAY1 (Carol's, next week) is deleted with one request."""
    result = run(sandbox, tmp_path, "remove-override", override_id="PO7PAY1")
    assert result.returncode == 0, result.stdout
    assert [e["method"] for e in pagerduty(sandbox)] == ["DELETE"]
    assert held(sandbox, CAROL) == []


# --- the faces ---------------------------------------------------------------------------------


def test_the_entrypoint_takes_the_pager_without_leaking_a_secret(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """entrypoint.py as the runner runs it: one override, no secret in anything shown or sent."""
    result = run_action(
        sandbox,
        tmp_path,
        operation="override",
        end="1h30m",
        port_context=context(),
        **{"from": seed.FROM_EMAIL},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(held(sandbox, "PXPGF42")) == 1
    secrets = [*INPUT_SECRETS, *port_tokens(result)]
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    assert leaks(secrets, places) == []


def test_each_subcommand_on_the_command_line(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """oncall, override and remove-override as subcommands, answering JSON."""
    connection = ["--from", seed.FROM_EMAIL, "--pagerduty-api-url", sandbox.pagerduty_url]
    connection += ["--port-api-url", sandbox.port_url, "--json"]
    env = {"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN}
    assert cli_main(["oncall", "-s", SCHEDULE, *connection], env) == 0
    assert json.loads(capsys.readouterr().out)["oncall_email"] == "bob@example.com"
    assert cli_main(["override", "-s", SCHEDULE, "--end", "4h", *connection], env) == 0
    made = json.loads(capsys.readouterr().out)
    assert (made["changed"], made["override_id"]) == (True, held(sandbox, "PXPGF42")[0]["id"])
    assert cli_main(["remove-override", "-s", SCHEDULE, *connection], env) == 0
    assert json.loads(capsys.readouterr().out)["changed"] is True


def test_without_the_oncall_blueprint_the_override_succeeds_and_says_so(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """In Port's guide shape (no pagerdutyOncall), the override is made and the run says no
    entity was upserted, exit 0."""
    sandbox.set_blueprint_shape("guide")
    try:
        result = run(sandbox, tmp_path, "override", end="4h")
        entities = sandbox.state()["port"]["entities"]
    finally:
        sandbox.set_blueprint_shape("integration")
    assert result.returncode == 0, result.stdout
    assert "Port has no pagerdutyOncall blueprint" in result.stdout
    assert "pagerdutyOncall" not in entities
    assert result.outputs["port_entity_identifier"] == ""


def test_a_hostile_name_from_pagerduty_is_inert_in_the_log_and_port(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A user name holding a line break, a workflow command and ##[ starts no command in the
    job log and forges no line in Port's run logs."""
    name = "Eve\n::error::pwned ##[warning]forged\x1b[2J"
    entry = {
        "user": {"id": "PEVE001", "name": name, "email": "eve@example.com"},
        "escalation_level": 1,
        "schedule": {"id": SCHEDULE, "type": "schedule_reference"},
        "escalation_policy": {"id": "PPAYMNT", "type": "escalation_policy_reference"},
        "start": "2026-11-30T00:00:00Z",
        "end": "2026-12-07T00:00:00Z",
    }
    answer = {"oncalls": [entry], "limit": 100, "offset": 0, "more": False}
    sandbox.set_faults(
        [{"method": "GET", "path": f"{PD}/oncalls", "steps": [{"status": 200, "body": answer}]}]
    )
    result = run(sandbox, tmp_path, "oncall")
    assert result.returncode == 0, result.stdout
    assert "pwned" in result.stdout
    assert not any(line.startswith("::error::pwned") for line in result.lines)
    assert "##[warning]" not in result.stdout
    assert "\x1b" not in result.stdout
    for log in run_logs(sandbox):
        assert "\n" not in log
        assert "##[" not in log
    assert json.loads(result.outputs["oncall"])[0]["name"] == name
