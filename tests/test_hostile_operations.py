"""Hostile text in the operations beside the incidents (on-call, services, events): a name from
PagerDuty or a text from an input never forms a workflow command in the job log nor a forged
line in the Port run logs, whatever the syntax (``::cmd::`` at a line's start, ``##[cmd]``
anywhere, a line break, CSI ``\\x9b``, a bidi override).

PagerDuty's names are made hostile through the sandbox's control endpoint (scripted answers built
from its real ones); the inputs are given as the runner gives them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from escalator.sandbox import Sandbox, seed
from escalator.sandbox.services import SEEDED_INTEGRATIONS
from tests.e2e import RunResult, run_in_process, run_logs

#: Every syntax at once: a line break then a command, the legacy syntax anywhere, CR, CSI, RLO.
HOSTILE = (
    "forged ##[warning]legacy\n::error::pwned\r##[set-output name=changed;]false "
    "\x9b31m \u202eevil\u2066 \x1b[2J ::notice::inline"
)
#: One line, for the inputs that take only one (a service's name, a dedup key).
HOSTILE_LINE = "forged ##[warning]legacy ::error::pwned \x9b31m \u202eevil\u2066 ##[add-mask]x"
#: What may never reach the job log or a Port run log.
NEVER_SHOWN = re.compile("##\\[|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
OWN_COMMANDS = re.compile(r"::(add-mask|group|endgroup|notice|warning|error|debug)( [^:]*)?::")
ROUTING_KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == "PSVCPAY")
PD_HEADERS = {
    "Authorization": f"Token token={seed.PAGERDUTY_TOKEN}",
    "Accept": "application/vnd.pagerduty+json;version=2",
}


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    """One sandbox for the module, in the integration's shape (it has ``pagerdutyOncall``)."""
    with Sandbox(blueprint_shape="integration") as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(shared: Sandbox) -> Sandbox:
    """The shared sandbox, as seeded, with no fault and an empty journal."""
    shared.reset()
    shared.clear_faults()
    shared.clear_journal()
    return shared


def assert_inert(result: RunResult, sandbox: Sandbox) -> None:
    """The hostile words are shown, but no command of theirs is in stdout and every Port run
    log is one clean line."""
    assert "pwned" in result.stdout + "".join(run_logs(sandbox))  # the words are shown...
    assert not NEVER_SHOWN.search(result.stdout), result.stdout
    for line in result.lines:
        if line.lstrip().startswith("::"):
            assert OWN_COMMANDS.match(line), line  # ...only the action's own commands
            assert "pwned" not in line.split("::", 2)[1], line
    logs = run_logs(sandbox)
    assert logs, "the run reported to Port"
    for log in logs:
        assert not NEVER_SHOWN.search(log), log
        assert "\n" not in log, log
        assert "\r" not in log, log
    assert not any(log.lstrip().startswith("::error::pwned") for log in logs), logs


def context(blueprint: str, entity: str | None) -> str:
    """The demo Port run on an entity of ``blueprint``."""
    return json.dumps({"blueprint": blueprint, "entity": entity, "run_id": seed.DEMO_RUN_ID})


def renamed(value: Any, names: dict[str, str]) -> Any:
    """``value`` with every string equal to one of ``names`` replaced by its hostile one."""
    if isinstance(value, dict):
        return {key: renamed(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [renamed(item, names) for item in value]
    return names.get(value, value) if isinstance(value, str) else value


def script_hostile_names(sandbox: Sandbox, paths: dict[str, dict[str, Any]]) -> None:
    """Make PagerDuty answer each GET of ``paths`` (with its query) as it really does, but with
    Bob's name and the Payments Primary schedule's name hostile, for every later request."""
    names = {"Bob Tanaka": "Bob " + HOSTILE, "Payments Primary": "Payments " + HOSTILE}
    faults = []
    for path, query in paths.items():
        answer = requests.get(
            f"{sandbox.pagerduty_url}{path}", params=query, headers=PD_HEADERS, timeout=5
        )
        assert answer.status_code == 200, answer.text
        body = renamed(answer.json(), names)
        step = {"status": 200, "body": body}
        faults.append({"method": "GET", "path": f"/pagerduty{path}", "steps": [step]})
    control = requests.post(
        f"{sandbox.url}/__sandbox/faults",
        json=[fault | {"repeat_last": True} for fault in faults],
        timeout=5,
    )
    assert control.status_code == 200, control.text
    sandbox.clear_journal()


def run(sandbox: Sandbox, tmp_path: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` in process, as the demo user, through the demo Port run."""
    inputs.setdefault("from", seed.FROM_EMAIL)
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


# --- on call ---------------------------------------------------------------------------------


def test_a_hostile_user_and_schedule_name_are_inert_in_oncall(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Who is on call: a user's name and a schedule's name with every command syntax."""
    query = {"schedule_ids[]": "PSC7PAY", "include[]": "users", "earliest": "true"}
    script_hostile_names(sandbox, {"/oncalls": query})
    result = run(
        sandbox,
        tmp_path,
        "oncall",
        schedule_id="PSC7PAY",
        port_context=context("pagerdutySchedule", "PSC7PAY"),
    )
    assert result.returncode == 0, result.stdout
    assert json.loads(result.outputs["oncall"])[0]["name"] == "Bob " + HOSTILE
    assert_inert(result, sandbox)


def test_a_hostile_user_and_schedule_name_are_inert_in_override_and_its_removal(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Take the pager and hand it back: the user's and the schedule's names are inert."""
    script_hostile_names(
        sandbox, {"/users": {"query": "bob@example.com"}, "/schedules/PSC7PAY": {}}
    )
    inputs = {
        "schedule_id": "PSC7PAY",
        "oncall_user": "bob@example.com",
        "port_context": context("pagerdutySchedule", "PSC7PAY"),
    }
    (tmp_path / "take").mkdir()
    taken = run(sandbox, tmp_path / "take", "override", end="4h", **inputs)
    assert taken.returncode == 0, taken.stdout
    assert_inert(taken, sandbox)
    (tmp_path / "back").mkdir()
    back = run(sandbox, tmp_path / "back", "remove-override", **inputs)
    assert back.returncode == 0, back.stdout
    assert back.outputs["changed"] == "true"
    assert_inert(back, sandbox)


# --- services --------------------------------------------------------------------------------

#: A one-line name PagerDuty takes: the legacy syntax and a command, but no control character.
ACCEPTED_LINE = "Pay ##[warning]legacy ::error::pwned ##[set-output name=changed;]false"


def test_a_hostile_service_name_and_description_are_inert(sandbox: Sandbox, tmp_path: Path) -> None:
    """create-service with a one-line name holding commands and a multi-line description: the
    service is created under that very name, and both are shown inert."""
    result = run(
        sandbox,
        tmp_path,
        "create-service",
        service_name=ACCEPTED_LINE,
        description=HOSTILE,
        escalation_policy_id="PPAYMNT",
        port_context=context("pagerdutyService", None),
    )
    assert result.returncode == 0, result.stdout
    assert_inert(result, sandbox)
    services = sandbox.state()["pagerduty"]["services"].values()
    assert [s["description"] for s in services if s["name"] == ACCEPTED_LINE] == [HOSTILE]


@pytest.mark.parametrize(
    ("operation", "inputs"),
    [
        ("create-service", {"service_name": HOSTILE_LINE, "escalation_policy_id": "PPAYMNT"}),
        ("trigger", {"dedup_key": HOSTILE_LINE, "title": "Disk full"}),
    ],
    ids=["service_name", "dedup_key"],
)
def test_a_refused_hostile_input_is_inert_in_the_error_and_the_port_run_log(
    operation: str, inputs: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    """A service name or dedup key with controls is refused before any PagerDuty request, by an
    error naming it that quotes it inert, in the job log and in the "Not started" run log."""
    blueprint_entity = None if operation == "create-service" else "PSVCPAY"
    result = run(
        sandbox,
        tmp_path,
        operation,
        routing_key=ROUTING_KEY,
        port_context=context("pagerdutyService", blueprint_entity),
        **inputs,
    )
    assert result.returncode == 2, result.stdout
    name = next(iter(inputs))
    assert result.error_text.startswith(name), result.error_text
    assert_inert(result, sandbox)
    assert [log for log in run_logs(sandbox) if log.startswith("Not started")]
    assert not [e for e in sandbox.journal() if not e["path"].startswith("/port/")]


# --- events ----------------------------------------------------------------------------------


def test_a_hostile_alert_title_details_and_dedup_key_are_inert(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """trigger with a hostile title and details and a dedup key holding commands: the event is
    sent as given, and with a REST token the incident it opened is read back and shown inert."""
    result = run(
        sandbox,
        tmp_path,
        "trigger",
        routing_key=ROUTING_KEY,
        title=HOSTILE,
        details=HOSTILE,
        dedup_key=ACCEPTED_LINE,
        port_context=context("pagerdutyService", "PSVCPAY"),
    )
    assert result.returncode == 0, result.stdout
    assert_inert(result, sandbox)
    assert result.outputs["dedup_key"] == ACCEPTED_LINE
    incidents = sandbox.state()["pagerduty"]["incidents"].values()
    assert [i["title"] for i in incidents if i.get("incident_key") == ACCEPTED_LINE] == [HOSTILE]


def test_a_hostile_change_event_summary_and_details_are_inert(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """change-event with a hostile summary and details: sent as given, shown inert."""
    result = run(
        sandbox,
        tmp_path,
        "change-event",
        routing_key=ROUTING_KEY,
        title=HOSTILE,
        details=HOSTILE,
        port_context=context("pagerdutyService", "PSVCPAY"),
    )
    assert result.returncode == 0, result.stdout
    assert_inert(result, sandbox)
    sent = sandbox.state()["pagerduty"]["change_events"]
    assert [event["summary"] for event in sent] == [HOSTILE]
