"""The fault matrix: every outside call of a run, each fault a network or a service can cause.

Each case runs the seed workflow's escalation end to end (the action's ``main``, as
``entrypoint.py`` calls it, in this process with the runner's environment) against its own
sandbox with one fault scripted on one call, then checks the exit code, the error message, the
step outputs, the Port run logs, the state of both services and the journal (no write applied
twice). The cases run a few at a time in the background as soon as the first one is asked for,
and their retry waits pass on a clock the tests control; ``docs/failure-matrix.md`` tells the
same story in a table.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from escalator.sandbox import Sandbox, seed
from tests.e2e import SEED_CASE, applied, run_in_process
from tests.matrix import CALLS, CASES, START_MARGIN, TIMEOUT, Case, case_run


def _ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_exit_code_and_message(case: Case) -> None:
    """The run exits as promised, with an error naming the cause and the fix, and no traceback."""
    run = case_run(case.id)
    result = run.result
    assert result.returncode == case.expect.exit_code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    if case.expect.exit_code == 0:
        assert result.errors == [], result.errors
    else:
        assert len(result.errors) == 1, result.stdout
        # the title says the status ("PagerDuty answered 404"), the message the rest
        shown = "\n".join(line for line in result.commands if line.startswith("::error"))
        for fragment in case.expect.message:
            assert fragment in shown + "\n" + result.error_text, result.error_text
    if case.expect.warning:
        warnings = [line for line in result.commands if line.startswith("::warning")]
        assert any(case.expect.warning in line for line in warnings), result.stdout


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_within_the_deadline(case: Case) -> None:
    """No fault makes the run outlive its timeout_seconds, its retry waits counted in full."""
    run = case_run(case.id)
    assert run.elapsed < TIMEOUT + START_MARGIN, (run.elapsed, run.clock.waits)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_outputs_and_services_agree(case: Case) -> None:
    """The outputs say what PagerDuty and Port hold: incident outputs whenever PagerDuty changed."""
    run = case_run(case.id)
    outputs = run.result.outputs
    if case.expect.escalated:
        assert run.incident["escalation_policy"]["id"] == "PPLATFM"
        assert outputs["incident_id"] == seed.DEMO_INCIDENT_ID
        assert outputs["changed"] == "true"
        assert outputs["escalation_policy_id"] == "PPLATFM"
        assert outputs["port_run_id"] == seed.DEMO_RUN_ID
        assert json.loads(outputs["incident"])["id"] == seed.DEMO_INCIDENT_ID
    else:
        assert run.incident["escalation_policy"]["id"] == "PPAYMNT"
        assert "incident_id" not in outputs
        assert "changed" not in outputs
    if case.expect.entity:
        assert run.entity["properties"]["escalation_policy"] == "Platform Escalation"
        assert outputs["port_entity_identifier"] == seed.DEMO_INCIDENT_ID
    else:
        assert run.entity["properties"]["escalation_policy"] == "Payments On-Call"
        assert outputs.get("port_entity_identifier", "") == ""


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_port_run_logs(case: Case) -> None:
    """The Port run's logs tell the story of the run, in order, each log once."""
    run = case_run(case.id)
    logs = run.logs
    position = 0
    for fragment in case.expect.logs:
        found = [i for i, log in enumerate(logs) if fragment in log and i >= position]
        assert found, (fragment, logs)
        position = found[0] + 1
    for fragment in case.expect.absent_logs:
        assert not any(fragment in log for log in logs), (fragment, logs)
    if not case.expect.logs:
        assert logs == []
    assert len(logs) == len(set(logs)), logs
    assert run.run["status"] == "IN_PROGRESS"  # ending the run is left to Port


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_no_write_applied_twice(case: Case) -> None:
    """Each PagerDuty update is applied exactly once, and no run PATCH or log is repeated."""
    run = case_run(case.id)
    puts = applied(run.journal, "PUT", r"/pagerduty/incidents/[^/]+")
    assert len(puts) == (case.expect.pd_writes if case.expect.escalated else 0), puts
    patches = applied(run.journal, "PATCH", r"/port/v1/actions/runs/[^/]+")
    assert len(patches) == case.expect.patches, patches
    posted = [
        entry["body"]["message"]
        for entry in applied(run.journal, "POST", r"/port/v1/actions/runs/[^/]+/logs")
    ]
    assert len(posted) == len(set(posted)), posted


@pytest.mark.parametrize(
    ("case_id", "reads"),
    [
        ("pd_read-404-html-body", 1),
        ("pd_read-5xx-always-html-body", 4),
        ("pd_read-5xx-always", 4),
        ("pd_read-shape-other-incident", 1),
    ],
)
def test_error_answers_are_read_a_bounded_number_of_times(case_id: str, reads: int) -> None:
    """A 404 is asked once and a failing read at most four times, whatever the error's body."""
    run = case_run(case_id)
    sent = [e for e in run.journal if e["method"] == "GET" and "/incidents/" in e["path"]]
    assert len(sent) == reads, len(sent)


_ONE_TOKEN = [c for c in CASES if c.call != "token" and c.fault != "401"]


@pytest.mark.parametrize("case", _ONE_TOKEN, ids=_ids(_ONE_TOKEN))
def test_one_token_per_run(case: Case) -> None:
    """A fault elsewhere never makes the run ask Port for a second access token."""
    run = case_run(case.id)
    tokens = [e for e in run.journal if e["path"] == "/port/v1/auth/access_token"]
    assert len(tokens) == 1, tokens


def test_the_matrix_covers_every_call_a_run_makes(sandbox: Sandbox, tmp_path: Path) -> None:
    """Each request a fault-free run of the seed case sends is one of the matrix's calls, and
    each call of the matrix is sent: checked against what the run does, not against the list
    the matrix is built from."""
    result = run_in_process(sandbox, tmp_path, **SEED_CASE)
    assert result.returncode == 0, result.stdout
    sent = {(entry["method"], entry["path"]) for entry in sandbox.journal()}
    called = {
        name
        for name, (method, pattern) in CALLS.items()
        for verb, path in sent
        if verb == method and fnmatch.fnmatchcase(path, pattern)
    }
    unmatched = {
        (verb, path)
        for verb, path in sent
        if not any(verb == m and fnmatch.fnmatchcase(path, p) for m, p in CALLS.values())
    }
    assert unmatched == set(), unmatched
    assert called == set(CALLS)
