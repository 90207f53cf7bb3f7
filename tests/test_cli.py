"""The command line: each subcommand's arguments become the action's inputs, help that guides."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import pytest

import escalator.faces.action
from escalator.faces.cli import build_parser, main
from escalator.faces.cli.options import EXAMPLES
from escalator.inputs import INPUT_NAMES
from escalator.operations import OPERATIONS
from escalator.sandbox import Sandbox, seed

ENV = {"PAGERDUTY_TOKEN": "pd-token-from-env", "PORT_CLIENT_ID": "cid", "GITHUB_TOKEN": "gh"}


def raw_for(sent: list[Mapping[str, str]], *argv: str) -> Mapping[str, str]:
    """The raw inputs ``escalator argv`` passes to the action's run."""
    assert main(list(argv), ENV) == 0
    (raw,) = sent
    assert set(raw) == set(INPUT_NAMES)
    return raw


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["escalate", "-i", "Q2LAR4ADCXC8IB", "-p", "PPLATFM", "-l", "2", "-u", "high"],
            {"escalation_policy_id": "PPLATFM", "escalation_level": "2", "urgency": "high"},
        ),
        (
            ["escalate", "--incident-id", "PT4KHLK", "--escalation-policy-id", "PPAYMNT"],
            {"incident_id": "PT4KHLK", "escalation_policy_id": "PPAYMNT"},
        ),
        (["acknowledge", "-i", "PABC123"], {"incident_id": "PABC123"}),
        (
            ["acknowledge", "-i", "PABC123", "--note", "On it"],
            {"incident_id": "PABC123", "note": "On it"},
        ),
        (
            ["resolve", "-i", "PABC123", "--resolution", "Rolled back"],
            {"incident_id": "PABC123", "resolution": "Rolled back"},
        ),
        (["resolve", "-i", "PABC123"], {"incident_id": "PABC123", "resolution": ""}),
        (
            ["reassign", "-i", "PABC123", "alice@example.com", "PD8RZ2N"],
            {"incident_id": "PABC123", "assignees": "alice@example.com\nPD8RZ2N"},
        ),
        (
            ["note", "-i", "PABC123", "Rolled back"],
            {"incident_id": "PABC123", "note": "Rolled back"},
        ),
        (["snooze", "-i", "PABC123", "30m"], {"incident_id": "PABC123", "snooze_duration": "30m"}),
        (["priority", "-i", "PABC123", "P1"], {"incident_id": "PABC123", "priority": "P1"}),
        (
            ["create", "--service", "PSVC001", "--title", "Checkout down", "--details", "500s"],
            {"service_id": "PSVC001", "title": "Checkout down", "details": "500s", "urgency": ""},
        ),
        (
            [
                "create",
                "--service-id",
                "PSVC001",
                "--title",
                "T",
                "-u",
                "low",
                "--assignees",
                "a@b.co",
            ],
            {"service_id": "PSVC001", "urgency": "low", "assignees": "a@b.co"},
        ),
        (
            ["create", "--title", "T", "--incident-key", "k1", "--port-service-blueprint", "svc"],
            {"incident_key": "k1", "port_service_blueprint": "svc", "service_id": ""},
        ),
    ],
)
def test_each_subcommand_maps_its_arguments_to_the_inputs(
    argv: list[str], expected: dict[str, str], sent: list[Mapping[str, str]]
) -> None:
    """The subcommand is the operation; options and positionals fill the inputs they name."""
    raw = raw_for(sent, *argv)
    assert raw["operation"] == argv[0]
    assert {name: raw[name] for name in expected} == expected


def test_shared_options_flags_and_secrets(sent: list[Mapping[str, str]]) -> None:
    """Connection options pass as given, flags as true/false, secrets only from the environment."""
    raw = raw_for(
        sent,
        "note",
        "-i",
        "PABC123",
        "text",
        "--from",
        "alice@example.com",
        "--pagerduty-region",
        "eu",
        "--port-api-url",
        "http://127.0.0.1:9/port",
        "--port-context",
        '{"run_id": "r_1"}',
        "--timeout-seconds",
        "30",
        "--dry-run",
        "--no-finish-port-run",
    )
    assert raw["from"] == "alice@example.com"
    assert raw["pagerduty_region"] == "eu"
    assert raw["port_api_url"] == "http://127.0.0.1:9/port"
    assert raw["port_context"] == '{"run_id": "r_1"}'
    assert raw["timeout_seconds"] == "30"
    assert (raw["dry_run"], raw["finish_port_run"]) == ("true", "false")
    assert raw["pagerduty_token"] == ENV["PAGERDUTY_TOKEN"]
    assert (raw["port_client_id"], raw["port_client_secret"]) == ("cid", "")
    assert raw["github_token"] == "gh"


def test_unset_flags_leave_the_inputs_to_their_defaults(sent: list[Mapping[str, str]]) -> None:
    """Without --dry-run or --finish-port-run the inputs stay empty: the model's defaults hold."""
    raw = raw_for(sent, "acknowledge", "-i", "PABC123")
    assert (raw["dry_run"], raw["finish_port_run"], raw["urgency"]) == ("", "", "")


def test_the_api_key_is_read_from_either_variable(sent: list[Mapping[str, str]]) -> None:
    """PAGERDUTY_API_KEY, the secret's name in the README, works as PAGERDUTY_TOKEN does."""
    assert main(["acknowledge", "-i", "PABC123"], {"PAGERDUTY_API_KEY": "key-2"}) == 0
    assert sent[0]["pagerduty_token"] == "key-2"


@pytest.mark.parametrize(
    "argv",
    [
        ["acknowledge", "-i", "P1", "--urgency", "high"],
        ["note", "-i", "P1"],
        ["reassign", "-i", "P1"],
        ["snooze", "-i", "P1", "--escalation-level", "2", "30m"],
        ["create", "--incident-id", "P1"],
        ["escalate", "--pagerduty-token", "x"],
    ],
)
def test_arguments_an_operation_does_not_take_are_refused_by_the_parser(
    argv: list[str], sent: list[Mapping[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """An option that does not apply, a missing positional or a token option exits 2 at once."""
    with pytest.raises(SystemExit) as exited:
        main(argv, ENV)
    assert exited.value.code == 2
    assert sent == []
    assert "usage: escalator" in capsys.readouterr().err


def test_no_token_is_a_usage_error(
    sent: list[Mapping[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without PAGERDUTY_TOKEN nothing runs, and the message names the variable."""
    assert main(["acknowledge", "-i", "PABC123"], {}) == 2
    assert sent == []
    assert "PAGERDUTY_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["escalate", "-i", "Q2LAR4ADCXC8IB", "-u", "urgent"], '--urgency: "urgent" is not'),
        (["escalate", "-i", "Q2LAR4ADCXC8IB"], "escalator escalate: nothing to change"),
        (["snooze", "-i", "Q2LAR4ADCXC8IB", "8d"], 'DURATION: "8d" is not between'),
        (["acknowledge"], "--incident-id: is required by escalator acknowledge"),
        (
            ["escalate", "-i", "PABC123", "-u", "high", "--port-context", '{"entitiy": "P"}'],
            'did you mean "entity"?',
        ),
    ],
)
def test_an_input_error_exits_2_in_the_terms_of_the_command_line(
    argv: list[str], shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Input errors exit 2 (usage) and name flags and variables, not the action's inputs."""
    assert main(argv, {"PAGERDUTY_TOKEN": "pd-token"}) == 2
    out = capsys.readouterr().out
    assert shown in out


def test_the_command_line_and_the_action_each_keep_their_terms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In one process, the action after a command line run names its inputs, and the command
    line after the action names its flags: no face leaves its terms to the next."""
    argv = ["escalate", "-i", "Q2LAR4ADCXC8IB", "-u", "urgent"]
    env = {
        "INPUT_OPERATION": "escalate",
        "INPUT_INCIDENT_ID": "Q2LAR4ADCXC8IB",
        "INPUT_URGENCY": "urgent",
        "INPUT_PAGERDUTY_TOKEN": "pd-token",
    }
    said = []
    for face in ("cli", "action", "cli"):
        if face == "cli":
            assert main(argv, {"PAGERDUTY_TOKEN": "pd-token"}) == 2
        else:
            assert escalator.faces.action.main(env) == 2
        said.append(capsys.readouterr().out)
    assert '--urgency: "urgent" is not' in said[0]
    assert 'urgency: "urgent" is not' in said[1]
    assert "--urgency" not in said[1]
    assert said[2] == said[0]


def test_a_hint_names_the_environment_variable_of_a_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bad token is named as the variable it is read from, and its value is not shown."""
    assert main(["acknowledge", "-i", "PABC123"], {"PAGERDUTY_TOKEN": "bad token\x01"}) == 2
    out = capsys.readouterr().out
    assert "PAGERDUTY_TOKEN" in out
    assert "bad token" not in out


def test_json_reports_the_error_in_the_terms_of_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--json prints one document on stdout with the error, the operation and ok false."""
    argv = ["resolve", "-i", "PABC123", "--dry-run", "--json", "--timeout-seconds", "1"]
    assert main(argv, {"PAGERDUTY_TOKEN": "pd-token"}) == 2
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["operation"], document["dry_run"]) == (False, "resolve", True)
    assert document["error"]["message"].startswith("--timeout-seconds: ")


def test_escalate_runs_against_the_sandbox(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """escalator escalate changes the sandbox's incident as the action would."""
    argv = [
        "escalate",
        "-i",
        seed.DEMO_INCIDENT_ID,
        "-p",
        "PPLATFM",
        "--from",
        seed.FROM_EMAIL,
        "--pagerduty-api-url",
        sandbox.pagerduty_url,
        "--port-api-url",
        sandbox.port_url,
        "--json",
    ]
    assert main(argv, {"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN}) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["changed"]) == (True, True)
    puts = [e for e in sandbox.journal() if e["method"] == "PUT"]
    assert [e["path"] for e in puts] == [f"/pagerduty/incidents/{seed.DEMO_INCIDENT_ID}"]
    assert puts[0]["body"]["incident"]["escalation_policy"]["id"] == "PPLATFM"


# --- help --------------------------------------------------------------------------------------


def subcommand_help(name: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"], {})
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", [*OPERATIONS, "demo", "sandbox"])
def test_every_subcommand_has_a_description_and_no_default_twice(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each subcommand's help opens with a description and shows each default once."""
    text = subcommand_help(name, capsys)
    usage, description = text.split("\n\n")[:2]
    assert usage.startswith(f"usage: escalator {name}")
    assert len(description.split()) >= 5, description
    assert "[default" not in text
    for line in text.splitlines():
        assert line.count("default") <= 1, line


@pytest.mark.parametrize("name", OPERATIONS)
def test_dry_run_is_a_flag_and_tokens_come_from_the_environment(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every operation takes --dry-run without a value and documents the token variables."""
    text = subcommand_help(name, capsys)
    assert "--dry-run, --no-dry-run" in text
    assert "[BOOL]" not in text
    assert "PAGERDUTY_TOKEN" in text


def test_sandbox_help_says_it_prints_credentials_and_picks_a_free_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """escalator sandbox --help tells what it prints and what --port defaults to."""
    text = " ".join(subcommand_help("sandbox", capsys).split())
    assert "demo credentials" in text
    assert "default: a free port" in text


def test_demo_dry_run_is_a_flag() -> None:
    """escalator demo --dry-run takes no value."""
    assert build_parser().parse_args(["demo", "--dry-run"]).dry_run is True


SEEDED = {
    "incident": {incident.id for incident in seed.INCIDENTS},
    "policy": {policy[0] for policy in seed.POLICIES},
    "service": {service[0] for service in seed.SERVICES},
    "user": {user[0] for user in seed.USERS} | {user[2] for user in seed.USERS},
    "priority": {priority[1] for priority in seed.PRIORITIES},
    "schedule": {schedule[0] for schedule in seed.SCHEDULES},
}
ROLES = {
    "-i": "incident",
    "-p": "policy",
    "--service": "service",
    "--from": "user",
    "--schedule": "schedule",
}
#: The positional arguments that are IDs or names: their role and their words in the example.
POSITIONAL_ROLES = {"reassign": ("user", slice(4, 6)), "priority": ("priority", slice(4, 5))}


@pytest.mark.parametrize("name", OPERATIONS)
def test_example_ids_exist_in_the_sandbox_in_the_role_shown(name: str) -> None:
    """Every ID an example passes is a sandbox object of the kind its option names."""
    words = EXAMPLES[name].split()
    pairs = [(flag, value) for flag, value in itertools.pairwise(words) if flag in ROLES]
    # oncall names the schedule alone; the Events API operations the service alone
    assert len(pairs) >= (
        1 if name in ("oncall", "create-service") or not OPERATIONS[name].needs_rest_token else 2
    )
    for flag, value in pairs:
        assert value in SEEDED[ROLES[flag]], (flag, value)
    if name in POSITIONAL_ROLES:
        role, where = POSITIONAL_ROLES[name]
        assert words[where]
        assert set(words[where]) <= SEEDED[role], words[where]
