"""Tests of ``escalator port-setup`` against the embedded sandbox's Port API."""

from __future__ import annotations

import copy
import fnmatch
import re
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from escalator.faces.cli import main as cli_main
from escalator.kit import cli as setup_cli
from escalator.kit import definitions
from escalator.kit.plan import comparable, plan_action
from escalator.sandbox import Sandbox, seed
from tests.contract import request_problems
from tests.e2e import port_admin

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "port-setup.md"

ENV = {"PORT_CLIENT_ID": seed.PORT_CLIENT_ID, "PORT_CLIENT_SECRET": seed.PORT_CLIENT_SECRET}
ORG, REPO_NAME = "acme", "incident-workflows"
ACTION_ID = definitions.action_template("escalate")["identifier"]
ACTION_IDS = [definitions.action_template(name)["identifier"] for name in definitions.OPERATIONS]
SECRETS = (seed.PORT_CLIENT_ID, seed.PORT_CLIENT_SECRET, "sbx-port-at-")


@pytest.fixture(scope="module")
def running() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running: Sandbox) -> Sandbox:
    running.clear_faults()
    settled_journal(running)
    running.reset("guide")
    running.clear_journal()
    return running


def empty_catalog(sandbox: Sandbox) -> None:
    """Make the sandbox's Port organisation a fresh one: no blueprints, entities or actions."""
    # The sandbox offers neither DELETE on blueprints and actions nor an empty seed.
    with sandbox._lock:
        port = sandbox._state["port"]
        port["blueprints"].clear()
        port["entities"].clear()
        port["actions"].clear()


def setup(sandbox: Sandbox, *extra: str, env: dict[str, str] | None = None) -> int:
    argv = ["--github-org", ORG, "--github-repo", REPO_NAME, "--port-api-url", sandbox.port_url]
    return setup_cli.main([*argv, *extra], ENV if env is None else env)


def settled_journal(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The journal once the last answer's entry is in it.

    The sandbox records an entry just after it sends the answer, so the client can be done
    a moment before the entry of its last request is there.
    """
    journal = sandbox.journal()
    for _ in range(50):
        time.sleep(0.01)
        later = sandbox.journal()
        if len(later) == len(journal):
            return later
        journal = later
    return journal


def writes(sandbox: Sandbox) -> list[tuple[str, str]]:
    """The journal's requests other than reads and the token call."""
    return [
        (entry["method"], entry["path"].removeprefix("/port"))
        for entry in settled_journal(sandbox)
        if entry["method"] != "GET" and not entry["path"].endswith("/auth/access_token")
    ]


def port_blueprints(sandbox: Sandbox) -> dict[str, Any]:
    blueprints: dict[str, Any] = sandbox.state()["port"]["blueprints"]
    return blueprints


def port_actions(sandbox: Sandbox) -> dict[str, Any]:
    actions: dict[str, Any] = sandbox.state()["port"]["actions"]
    return actions


def port_call(sandbox: Sandbox, method: str, path: str, body: Any) -> None:
    """Send one authenticated request to the sandbox's Port, as another tool would."""
    port_admin(sandbox, method, path, body)


def kit_actions() -> dict[str, Any]:
    """The kit's actions as port-setup fills them for ORG/REPO_NAME, by identifier."""
    return {action["identifier"]: action for action in definitions.actions(ORG, REPO_NAME)}


def test_kit_action_fills_the_github_invocation() -> None:
    """The action dispatches the given workflow of the given repository, and nothing else moves."""
    action = definitions.action("acknowledge", "acme", "ops", "incident.yaml")
    assert action["invocationMethod"]["org"] == "acme"
    assert action["invocationMethod"]["repo"] == "ops"
    assert action["invocationMethod"]["workflow"] == "incident.yaml"
    template = copy.deepcopy(action)
    template["invocationMethod"] |= {
        "org": "<GITHUB_ORG>",
        "repo": "<GITHUB_REPO>",
        "workflow": "pagerduty-incident.yml",
    }
    assert template == definitions.action_template("acknowledge")


def test_fresh_organisation_gets_the_blueprints_and_the_action(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """An organisation without anything gets both blueprints, service first, and every action."""
    empty_catalog(sandbox)
    assert setup(sandbox) == 0
    assert writes(sandbox) == [
        ("POST", "/v1/blueprints"),
        ("POST", "/v1/blueprints"),
        *[("POST", "/v1/actions")] * len(ACTION_IDS),
    ]
    blueprints = port_blueprints(sandbox)
    for wanted in definitions.blueprints():
        assert comparable(blueprints[wanted["identifier"]], wanted) == wanted
    assert port_actions(sandbox) == kit_actions()
    assert list(port_actions(sandbox)) == ACTION_IDS
    out = capsys.readouterr().out
    assert "blueprint pagerdutyService: created." in out
    for identifier in ACTION_IDS:
        assert f"action {identifier}: created." in out
    assert f"Done: {2 + len(ACTION_IDS)} created, 0 updated." in out


def test_seeded_organisation_keeps_its_blueprints_and_updates_the_action(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The seed's guide blueprints are kept; its actions, dispatching another repository, and an
    older escalate action are replaced by the kit's."""
    older = copy.deepcopy(port_actions(sandbox)[ACTION_ID])
    older["invocationMethod"]["workflow"] = "escalate-incident.yml"
    port_call(sandbox, "PUT", f"/v1/actions/{ACTION_ID}", older)
    settled_journal(sandbox)
    sandbox.clear_journal()
    before = port_blueprints(sandbox)
    assert setup(sandbox) == 0
    assert writes(sandbox) == [("PUT", f"/v1/actions/{identifier}") for identifier in ACTION_IDS]
    assert port_blueprints(sandbox) == before
    assert {
        key: comparable(action, kit_actions()[key]) for key, action in port_actions(sandbox).items()
    } == kit_actions()
    out = capsys.readouterr().out
    assert "blueprint pagerdutyIncident: exists and differs from the kit's; kept as it is" in out
    assert '-    "org": "example-org",' in out
    assert '+    "org": "acme",' in out
    assert '-    "workflow": "escalate-incident.yml",' in out
    assert '+    "workflow": "pagerduty-incident.yml",' in out


@pytest.mark.parametrize("start", ["fresh", "seeded"])
def test_second_run_changes_nothing_and_says_so(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    """Run again, the command only reads (and fetches its one token) and reports no change."""
    if start == "fresh":
        empty_catalog(sandbox)
    assert setup(sandbox) == 0
    state = sandbox.state()["port"]
    settled_journal(sandbox)
    sandbox.clear_journal()
    capsys.readouterr()
    assert setup(sandbox) == 0
    methods = [(entry["method"], entry["path"]) for entry in settled_journal(sandbox)]
    assert methods[0] == ("POST", "/port/v1/auth/access_token")
    assert {method for method, _ in methods[1:]} == {"GET"}
    assert sandbox.state()["port"]["blueprints"] == state["blueprints"]
    assert sandbox.state()["port"]["actions"] == state["actions"]
    assert "Nothing to change: Port already has what the action needs." in capsys.readouterr().out


def test_named_actions_only_are_set_up_in_the_kits_order(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """--actions sets up the blueprints and only the named actions, whatever the order given,
    and a second run with the same names changes nothing."""
    empty_catalog(sandbox)
    assert setup(sandbox, "--actions", "Resolve, acknowledge") == 0
    assert writes(sandbox) == [("POST", "/v1/blueprints")] * 2 + [("POST", "/v1/actions")] * 2
    wanted = ["pagerdutyIncident_acknowledge_incident", "pagerdutyIncident_resolve_incident"]
    assert list(port_actions(sandbox)) == wanted
    assert port_actions(sandbox) == {key: kit_actions()[key] for key in wanted}
    assert "Done: 4 created, 0 updated." in capsys.readouterr().out
    settled_journal(sandbox)
    sandbox.clear_journal()
    assert setup(sandbox, "--actions", "acknowledge,resolve") == 0
    assert writes(sandbox) == []
    assert "Nothing to change" in capsys.readouterr().out


def test_named_action_leaves_the_others_as_they_are(sandbox: Sandbox) -> None:
    """In a seeded organisation, --actions note updates the note action (keeping the keys the kit
    does not define) and no other."""
    before = port_actions(sandbox)
    assert setup(sandbox, "--actions", "note") == 0
    assert writes(sandbox) == [("PUT", "/v1/actions/pagerdutyIncident_add_note")]
    after = port_actions(sandbox)
    note = kit_actions()["pagerdutyIncident_add_note"]
    assert comparable(after["pagerdutyIncident_add_note"], note) == note
    assert {k: v for k, v in after.items() if k != "pagerdutyIncident_add_note"} == {
        k: v for k, v in before.items() if k != "pagerdutyIncident_add_note"
    }


@pytest.mark.parametrize("start", ["fresh", "seeded", "integration"])
def test_dry_run_shows_diffs_and_writes_nothing(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], start: str
) -> None:
    """A dry run reads, prints a unified diff per object to write, and sends no write."""
    if start == "fresh":
        empty_catalog(sandbox)
    elif start == "integration":
        sandbox.set_blueprint_shape("integration")
    before = sandbox.state()["port"]
    assert setup(sandbox, "--dry-run", "--replace-blueprints") == 0
    assert writes(sandbox) == []
    after = sandbox.state()["port"]
    assert after["blueprints"] == before["blueprints"]
    assert after["actions"] == before["actions"]
    out = capsys.readouterr().out
    assert "nothing was written" in out
    assert "+++ kit:actions/pagerdutyIncident_escalate_incident" in out
    if start == "fresh":
        assert "--- /dev/null" in out
        assert "would create" in out
    else:
        assert "--- port:blueprints/pagerdutyIncident" in out
        assert "would update" in out


def test_integration_blueprint_is_kept_by_default(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The PagerDuty integration's richer blueprints are not touched, and the output says why."""
    sandbox.set_blueprint_shape("integration")
    before = port_blueprints(sandbox)
    assert setup(sandbox) == 0
    assert writes(sandbox) == [("PUT", f"/v1/actions/{identifier}") for identifier in ACTION_IDS]
    assert port_blueprints(sandbox) == before
    incident = port_blueprints(sandbox)["pagerdutyIncident"]
    assert "assignees" in incident["schema"]["properties"]
    assert incident["relations"]["pagerdutyService"]["many"] is False
    out = capsys.readouterr().out
    assert "the action adapts to it" in out
    assert "it has every property and relation the action fills" in out
    assert "missing for the action" not in out


def test_replace_blueprints_writes_the_kits(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --replace-blueprints, differing blueprints are replaced by the kit's with a PUT."""
    sandbox.set_blueprint_shape("integration")
    assert setup(sandbox, "--replace-blueprints") == 0
    assert writes(sandbox) == [
        ("PUT", "/v1/blueprints/pagerdutyService"),
        ("PUT", "/v1/blueprints/pagerdutyIncident"),
        *[("PUT", f"/v1/actions/{identifier}") for identifier in ACTION_IDS],
    ]
    blueprints = port_blueprints(sandbox)
    for wanted in definitions.blueprints():
        assert comparable(blueprints[wanted["identifier"]], wanted) == wanted
    assert f"Done: 0 created, {2 + len(ACTION_IDS)} updated." in capsys.readouterr().out


def test_kept_blueprint_reports_what_the_action_would_miss(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare incident blueprint is kept, and each property or relation the action fills and it
    lacks is named."""
    empty_catalog(sandbox)
    bare = {
        "identifier": "pagerdutyIncident",
        "title": "Incident",
        "schema": {"properties": {"status": {"title": "Status", "type": "string"}}},
    }
    port_call(sandbox, "POST", "/v1/blueprints", bare)
    settled_journal(sandbox)
    sandbox.clear_journal()
    assert setup(sandbox) == 0
    assert writes(sandbox) == [
        ("POST", "/v1/blueprints"),
        *[("POST", "/v1/actions")] * len(ACTION_IDS),
    ]
    assert port_blueprints(sandbox)["pagerdutyIncident"]["title"] == "Incident"
    out = capsys.readouterr().out
    for piece in ("'url'", "'urgency'", "'escalation_policy'", "'responder' or 'assignees'"):
        assert f"missing for the action: property {piece}" in out
    assert "missing for the action: a relation to 'pagerdutyService'" in out
    assert "property 'status'" not in out


def test_bad_credentials_fail_with_a_hint_and_no_secret(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Credentials Port rejects end the run with exit 1, the 401, what to check, and no secret."""
    env = {"PORT_CLIENT_ID": "wrong-client-id", "PORT_CLIENT_SECRET": "wrong-secret-value"}
    assert setup(sandbox, env=env) == 1
    assert writes(sandbox) == []
    captured = capsys.readouterr()
    assert "answered 401" in captured.err
    assert "How to fix: Check PORT_CLIENT_ID and PORT_CLIENT_SECRET" in captured.err
    assert "--port-region us" in captured.err
    for secret in (*env.values(), *SECRETS):
        assert secret not in captured.out + captured.err


def test_port_refusing_a_write_fails_with_the_admin_hint(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 403 on a write names the missing rights and exits 1 after the reads."""
    sandbox.set_faults(
        [{"method": "PUT", "path": "/port/v1/actions/*", "steps": [{"status": 403}]}]
    )
    assert setup(sandbox) == 1
    err = capsys.readouterr().err
    assert "Port answered 403" in err
    assert f"PUT /v1/actions/{ACTION_ID}: " in err
    assert "credentials of a Port admin" in err


def test_a_create_retried_after_a_lost_answer_is_not_an_error(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """When Port applied a POST but the connection broke, the retry's 409 is checked and passes."""
    empty_catalog(sandbox)
    sandbox.set_faults(
        [{"method": "POST", "path": "/port/v1/actions", "steps": [{"fault": "reset_after"}]}]
    )
    assert setup(sandbox) == 0
    assert writes(sandbox).count(("POST", "/v1/actions")) == len(ACTION_IDS) + 1
    assert port_actions(sandbox) == kit_actions()
    assert f"action {ACTION_ID}: created." in capsys.readouterr().out


def test_a_create_that_collides_with_something_else_fails(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 409 on a create, with nothing of the kit's there after all, fails with what to do."""
    empty_catalog(sandbox)
    sandbox.set_faults([{"method": "POST", "path": "/port/v1/actions", "steps": [{"status": 409}]}])
    assert setup(sandbox) == 1
    assert "run port-setup again" in capsys.readouterr().err


@pytest.mark.parametrize("github", [False, True])
def test_no_secret_is_printed(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], github: bool
) -> None:
    """Neither the client ID, the secret nor the token appears in the output; on GitHub they
    appear only in the ::add-mask:: commands that hide them."""
    empty_catalog(sandbox)
    env = {**ENV, "GITHUB_ACTIONS": "true"} if github else ENV
    assert setup(sandbox, "--dry-run", env=env) == 0
    assert setup(sandbox, env=env) == 0
    captured = capsys.readouterr()
    lines = (captured.out + captured.err).splitlines()
    shown = [line for line in lines if not line.startswith("::add-mask::")]
    for secret in SECRETS:
        assert not any(secret in line for line in shown)
    assert any(line.startswith("::add-mask::") for line in lines) is github


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ([], {}, "set PORT_CLIENT_ID"),
        ([], {"PORT_CLIENT_ID": "id"}, "set PORT_CLIENT_SECRET"),
        ([], {**ENV, "PORT_CLIENT_SECRET": " padded"}, "PORT_CLIENT_SECRET contains spaces"),
        (["--port-client-secret", "s"], ENV, "unrecognized arguments: --port-client-secret"),
        (["--github-org", "acme/ops"], ENV, '--github-org: "acme/ops" is not'),
        (["--github-repo", ".."], ENV, '--github-repo: ".." is not'),
        (["--workflow", "ci/escalate.yml"], ENV, "--workflow:"),
        (["--port-api-url", "http://port.example.com"], ENV, "plain http to a host"),
        (["--port-api-url", "ftp://127.0.0.1"], ENV, "is not an http(s) URL"),
        (["--port-region", "ap"], ENV, "invalid choice: 'ap'"),
        (["--timeout-seconds", "1"], ENV, "--timeout-seconds"),
        (["--actions", "acknowledge,ack"], ENV, '--actions: "ack" is not an operation'),
        (["--actions", " , "], ENV, "--actions: name at least one"),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    """A wrong option or a missing credential exits 2 with what to fix, sending nothing."""
    assert setup(sandbox, *extra, env=env) == 2
    assert message in capsys.readouterr().err
    assert settled_journal(sandbox) == []


def test_missing_repository_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --github-repo the command exits 2 and names the missing option."""
    assert setup_cli.main(["--github-org", ORG], ENV) == 2
    assert "the following arguments are required: --github-repo" in capsys.readouterr().err


def test_help_shows_examples_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """``escalator port-setup --help`` prints the options and runnable examples."""
    assert cli_main(["port-setup", "--help"], {}) == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "escalator port-setup --github-org acme --github-repo incident-workflows" in out
    assert "PORT_CLIENT_SECRET" in out


def test_the_cli_dispatches_to_port_setup(sandbox: Sandbox) -> None:
    """``escalator port-setup ...`` runs this command with the environment it is given."""
    argv = ["port-setup", "--github-org", ORG, "--github-repo", REPO_NAME]
    assert cli_main([*argv, "--port-api-url", sandbox.port_url], ENV) == 0
    assert port_actions(sandbox)[ACTION_ID]["invocationMethod"]["org"] == ORG


def test_docs_name_every_option() -> None:
    """docs/port-setup.md documents each option of the command."""
    text = DOCS.read_text(encoding="utf-8")
    options = {
        option
        for action in setup_cli.build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert options
    assert sorted(option for option in options if f"`{option}" not in text) == []


@pytest.mark.parametrize("start", ["fresh", "seeded", "integration"])
def test_requests_match_ports_openapi(sandbox: Sandbox, start: str) -> None:
    """Every request the command sends fits Port's published API description."""
    if start == "fresh":
        empty_catalog(sandbox)
    elif start == "integration":
        sandbox.set_blueprint_shape("integration")
    assert setup(sandbox, "--replace-blueprints") == 0
    journal = settled_journal(sandbox)
    assert {entry["method"] for entry in journal} >= {"GET", "POST" if start == "fresh" else "PUT"}
    problems = [
        f"{entry['method']} {entry['path']}: {problem}"
        for entry in journal
        for problem in request_problems(
            "port",
            entry["method"],
            entry["path"],
            entry["query"],
            entry["headers"],
            entry["body"],
        )
    ]
    assert problems == []


def test_unified_diff_is_per_object_and_readable() -> None:
    """A step's diff is a unified diff of pretty JSON between what Port has and the kit (with
    --replace-actions, as an approval gate is otherwise kept)."""
    wanted = definitions.action("escalate", ORG, REPO_NAME)
    found = copy.deepcopy(wanted)
    found["requiredApproval"] = True
    step = plan_action(wanted, {**found, "createdAt": "2026-01-01T00:00:00Z"}, replace=True)
    assert step.verdict == "update"
    lines = step.diff().splitlines()
    assert lines[:2] == [f"--- port:actions/{ACTION_ID}", f"+++ kit:actions/{ACTION_ID}"]
    changed = [line for line in lines[2:] if re.match(r"[-+] ", line)]
    assert changed == ['-  "requiredApproval": true,', '+  "requiredApproval": false,']


def test_the_kit_ships_as_package_data() -> None:
    """pyproject's package-data names every kit file, so an install carries the definitions."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["escalator"]
    files = [f"kit/data/{name}" for name in definitions.data_files()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


APPROVAL = {
    "requiredApproval": {"type": "ANY"},
    "approvalNotification": {"type": "email"},
    "allowAnyoneToViewRuns": False,
}


def gated_older_action(sandbox: Sandbox) -> None:
    """An admin's approval gate (and a key the kit does not define) on an older escalate action."""
    older = copy.deepcopy(port_actions(sandbox)[ACTION_ID]) | APPROVAL
    older["invocationMethod"]["workflow"] = "escalate-incident.yml"
    port_call(sandbox, "PUT", f"/v1/actions/{ACTION_ID}", older)
    settled_journal(sandbox)
    sandbox.clear_journal()


def test_a_second_setup_keeps_an_approval_gate_and_unknown_keys(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run again over an action an admin gated, port-setup updates what the kit owns and keeps
    ``requiredApproval``, ``approvalNotification`` and any key the kit does not define."""
    gated_older_action(sandbox)
    assert setup(sandbox) == 0
    assert ("PUT", f"/v1/actions/{ACTION_ID}") in writes(sandbox)
    action = port_actions(sandbox)[ACTION_ID]
    assert {key: action.get(key) for key in APPROVAL} == APPROVAL
    assert action["invocationMethod"]["workflow"] == "pagerduty-incident.yml"
    assert "kept as set in Port: allowAnyoneToViewRuns, approvalNotification" in (
        capsys.readouterr().out
    )
    sandbox.clear_journal()
    assert setup(sandbox) == 0
    assert writes(sandbox) == []


def test_replace_actions_drops_what_the_kit_does_not_own(sandbox: Sandbox) -> None:
    """With --replace-actions the kit's definition alone is written: the gate is gone."""
    gated_older_action(sandbox)
    assert setup(sandbox, "--replace-actions") == 0
    action = port_actions(sandbox)[ACTION_ID]
    assert action["requiredApproval"] is False
    assert "approvalNotification" not in action
    assert "allowAnyoneToViewRuns" not in action
