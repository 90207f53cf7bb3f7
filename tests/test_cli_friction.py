"""The command line's rough edges a newcomer hit, each run as a user would type it."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Mapping

import pytest

from escalator.faces.cli import main
from escalator.sandbox import Sandbox, seed

ENV = {"PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN}
PORT_ENV = {
    **ENV,
    "PORT_CLIENT_ID": seed.PORT_CLIENT_ID,
    "PORT_CLIENT_SECRET": seed.PORT_CLIENT_SECRET,
}
INCIDENT = seed.DEMO_INCIDENT_ID


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What ``escalator argv`` writes to stderr as it exits 2 at the parser."""
    with pytest.raises(SystemExit) as exited:
        main(argv, ENV)
    assert exited.value.code == 2
    return capsys.readouterr().err


def sandbox_args(sandbox: Sandbox, *, port: bool = True) -> list[str]:
    """The options that point a run at ``sandbox``."""
    found = ["--pagerduty-api-url", sandbox.pagerduty_url, "--from", seed.FROM_EMAIL]
    return found + (["--port-api-url", sandbox.port_url] if port else [])


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["acknowledge", "-i", "P1", "--urgancy", "high"], "did you mean --urgency? It is for"),
        (["escalate", "-i", "P1", "--urgancy", "high"], "hint: did you mean --urgency?"),
        (["acknowledge", "-i", "P1", "--urgency", "high"], "--urgency is for escalate"),
        (["resolve", "-i", "P1", "Rolled back"], "--resolution 'Rolled back'"),
        (["note", "-i", "P1", "Rolled", "back"], "quote text with spaces"),
    ],
)
def test_an_unknown_argument_shows_the_subcommands_usage_and_a_hint(
    argv: list[str], hint: str, sent: list[Mapping[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """An argument the subcommand does not take is refused with its usage, not the top one."""
    err = refused(argv, capsys)
    assert err.startswith(f"usage: escalator {argv[0]} ")
    assert f"escalator {argv[0]}: error: unrecognized arguments" in err
    assert hint in err
    assert sent == []


@pytest.mark.parametrize(
    ("argv", "name", "value"),
    [
        (["note", "--note", "hello"], "note", "hello"),
        (["reassign", "--assignees", "bob@example.com"], "assignees", "bob@example.com"),
        (["priority", "--priority", "P2"], "priority", "P2"),
        (["snooze", "--duration", "30m"], "snooze_duration", "30m"),
        (["snooze", "--snooze-duration", "1h"], "snooze_duration", "1h"),
    ],
)
def test_the_main_input_may_be_given_as_its_option(
    argv: list[str], name: str, value: str, sent: list[Mapping[str, str]]
) -> None:
    """A subcommand's positional is also taken in the option form other subcommands use."""
    assert main([*argv, "-i", "P1"], ENV) == 0
    (raw,) = sent
    assert raw[name] == value


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["note", "-i", "P1", "text", "--note", "more"], "give NOTE once"),
        (["note", "-i", "P1"], "required: NOTE (or --note)"),
        (["reassign", "-i", "P1"], "required: ASSIGNEE (or --assignees)"),
    ],
)
def test_the_main_input_is_needed_once(
    argv: list[str], said: str, sent: list[Mapping[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Neither form, or both, is refused before anything runs."""
    assert said in refused(argv, capsys)
    assert sent == []


def test_a_url_that_is_not_pagerduty_names_the_url_option(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 404 whose body is not PagerDuty's is blamed on --pagerduty-api-url, not the incident."""
    argv = ["acknowledge", "-i", INCIDENT, *sandbox_args(sandbox, port=False)]
    argv[argv.index(sandbox.pagerduty_url)] = sandbox.port_url  # Port's API, not PagerDuty's
    assert main(argv, ENV) == 1
    out = capsys.readouterr().out
    assert "--pagerduty-api-url does not look like PagerDuty's REST API" in out
    assert "incident was not found" not in out
    assert [e["path"] for e in sandbox.journal()] == [f"/port/incidents/{INCIDENT}"]


def test_an_unreachable_port_says_where_the_sandbox_port_url_goes(
    capsys: pytest.CaptureFixture[str], sandbox: Sandbox
) -> None:
    """Port out of reach: the hint names --port-api-url and the sandbox's Port URL, in CLI words."""
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/port"
    argv = ["acknowledge", "-i", INCIDENT, *sandbox_args(sandbox, port=False)]
    argv += ["--port-api-url", closed, "--timeout-seconds", "5"]
    assert main(argv, PORT_ENV) != 0
    out = capsys.readouterr().out
    assert f"could not connect to {closed}" in out
    assert "--port-api-url to the Port URL it prints (http://127.0.0.1:<port>/port)" in out
    assert "this machine's network" in out
    assert "runner" not in out
    assert not [e for e in sandbox.journal() if e["method"] != "GET"]  # nothing written


def test_a_port_run_that_does_not_exist_is_named_as_the_run(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The upsert's 404 for an unknown run_id says the run was not found, not the blueprint."""
    context = {"run_id": "r_DoesNotExist", "entity": INCIDENT, "blueprint": "pagerdutyIncident"}
    argv = ["acknowledge", "-i", INCIDENT, *sandbox_args(sandbox)]
    assert main([*argv, "--port-context", json.dumps(context)], PORT_ENV) == 1
    out = capsys.readouterr().out
    upserts = [e for e in sandbox.journal() if e["path"].endswith("/entities")]
    assert upserts
    assert all(e["status"] == 404 for e in upserts)
    assert "the Port action run was not found" in out
    assert "does not exist in this Port organization" not in out


def test_a_create_dry_run_without_a_key_ends_with_a_sentence(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last line of a create's dry run says what would be sent, never a blank line."""
    argv = ["create", "--service", "PSVCPAY", "--title", "T", *sandbox_args(sandbox, port=False)]
    assert main([*argv, "--dry-run"], ENV) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "Dry run: would send 1 request(s); nothing was sent."
    assert all(line.strip() for line in lines)
    assert [e["method"] for e in sandbox.journal()] == []


@pytest.mark.parametrize("url_given", [False, True])
def test_an_unknown_port_region_is_refused_even_beside_a_url(
    url_given: bool, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    """--port-region mars is an input error, with or without --port-api-url, before any request."""
    argv = ["acknowledge", "-i", INCIDENT, *sandbox_args(sandbox, port=url_given)]
    assert main([*argv, "--port-region", "mars"], PORT_ENV) == 2
    assert '--port-region: "mars" is not a Port region' in capsys.readouterr().out
    assert sandbox.journal() == []


def test_the_sandbox_control_root_lists_its_endpoints(sandbox: Sandbox) -> None:
    """GET /__sandbox/, which the sandbox advertises, answers with the control endpoints."""
    with urllib.request.urlopen(f"{sandbox.url}/__sandbox/", timeout=5) as answer:
        document = json.load(answer)
    assert document["ok"] is True
    assert "GET /__sandbox/journal" in document["endpoints"]
    with urllib.request.urlopen(f"{sandbox.url}/__sandbox/state", timeout=5) as answer:
        assert answer.status == 200
