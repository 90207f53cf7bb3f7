"""Hostile input: what a user, a Port template or an incident title can put in, and why it cannot
change a request, forge an output, inject a workflow command or crash the run.

Ids that go into URLs are checked against the sandbox's journal (no request at all for an invalid
one, exact paths otherwise); text from PagerDuty is checked in stdout, the outputs and the job
summary; ``parse_inputs`` is checked with generated inputs.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalator.errors import InputError
from escalator.inputs import INPUT_NAMES, IncidentInputs
from escalator.operations import parse_inputs
from escalator.report.summary import OUTPUT_NAMES
from escalator.sandbox import Sandbox, seed
from tests.e2e import (
    SEED_CASE,
    SEED_PORT_CONTEXT,
    RunResult,
    run_action,
    run_in_process,
    run_logs,
)

NO_PORT = {"port_client_id": "", "port_client_secret": ""}
OWN_COMMANDS = re.compile(r"::(add-mask|group|endgroup|notice|warning|error|debug)( [^:]*)?::")


def context(**fields: Any) -> str:
    """The seed's port_context with ``fields`` replaced."""
    return json.dumps(SEED_PORT_CONTEXT | fields)


def assert_refused(result: RunResult, input_name: str) -> None:
    """The run stopped on one clean error that names ``input_name``."""
    assert result.returncode == 2, result.stdout  # input errors are usage errors
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.errors) == 1, result.stdout
    assert result.error_text.startswith(input_name), result.error_text


# --- ids that go into URLs -----------------------------------------------------------------

PATH_TRICKS = [
    "../escalation_policies/PPAYMNT",
    "Q2LAR4ADCXC8IB/../../users",
    "Q2LAR4ADCXC8IB?include[]=x",
    "Q2LAR4ADCXC8IB#frag",
    "Q2LAR4ADCXC8IB%2F..%2Fusers",
    "Q2LAR4 ADCXC8IB",
    "Q2LAR4ADCXC8\u0130B",
    "Q2LAR4ADCXC8IB\x00",
    "q2lar4adcxc8ib",
]
RUN_ID_TRICKS = ["r_x/../../blueprints", "r_x?upsert=false", "r_x#", "r_x%2F..", "r x", "r_\u00fc"]
BLUEPRINT_TRICKS = ["pagerdutyIncident/../x", "bp?merge=false", "bp#x", "bp%2Fx", "bp x", "b\u00e4"]

HOSTILE_IDS: list[tuple[str, dict[str, str]]] = (
    [("incident_id", {"incident_id": value}) for value in PATH_TRICKS]
    + [
        ("port_context.entity", {"port_context": context(entity=value)})
        for value in PATH_TRICKS[:5]
    ]
    + [
        ("escalation_policy_id", {"escalation_policy_id": "PPLATFM" + t})
        for t in ("/..", "?x", "#")
    ]
    + [("port_context.run_id", {"port_context": context(run_id=value)}) for value in RUN_ID_TRICKS]
    + [("port_blueprint", {"port_blueprint": value}) for value in BLUEPRINT_TRICKS]
    + [
        ("port_context.blueprint", {"port_context": context(blueprint=value)})
        for value in BLUEPRINT_TRICKS[:3]
    ]
)


@pytest.mark.parametrize(
    ("input_name", "inputs"), HOSTILE_IDS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HOSTILE_IDS)]
)
def test_an_id_that_could_change_a_path_sends_nothing(
    input_name: str, inputs: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    """An id with a path, query, fragment, escape, space or non-ASCII letter is refused before any
    request."""
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | NO_PORT | inputs)
    assert_refused(result, input_name)
    assert sandbox.journal() == []


def test_a_refused_id_is_reported_to_the_port_run_at_its_exact_path(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With a valid run, the only requests are Port's token and one log on that very run."""
    result = run_action(sandbox, tmp_path, **SEED_CASE | {"incident_id": "../users?x#y"})
    assert_refused(result, "incident_id")
    sent = [(entry["method"], entry["path"], entry["query"]) for entry in sandbox.journal()]
    assert sent == [
        ("POST", "/port/v1/auth/access_token", {}),
        ("POST", f"/port/v1/actions/runs/{seed.DEMO_RUN_ID}/logs", {}),
    ]


@pytest.mark.parametrize("run_id", RUN_ID_TRICKS)
def test_a_hostile_run_id_reaches_no_service(run_id: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """An invalid run id is refused without a token request or a log to some other path."""
    result = run_in_process(
        sandbox, tmp_path, **SEED_CASE | {"port_context": context(run_id=run_id)}
    )
    assert_refused(result, "port_context.run_id")
    assert sandbox.journal() == []


def test_valid_ids_make_exactly_the_expected_requests(sandbox: Sandbox, tmp_path: Path) -> None:
    """An incident number and relation ids full of slashes and colons in port_context give
    exactly the expected paths and queries."""
    relations = {"pagerdutyService": ["PSVCPAY", "team/a\\b:c=d+e@f", "x/../y"]}
    inputs = SEED_CASE | {
        "incident_id": "1042",
        "port_context": context(relations=relations, entity=None),
    }
    result = run_action(sandbox, tmp_path, **inputs)
    assert result.returncode == 0, result.stdout
    run = seed.DEMO_RUN_ID
    sent = sorted(
        (entry["method"], entry["path"], json.dumps(entry["query"], sort_keys=True))
        for entry in sandbox.journal()
    )
    upsert_query = {
        "create_missing_related_entities": ["true"],
        "merge": ["true"],
        "run_id": [run],
        "upsert": ["true"],
    }
    expected = [
        (
            "GET",
            "/pagerduty/incidents/1042",
            {"include[]": ["assignees", "first_trigger_log_entries"]},
        ),
        # the read after the upsert, by the incident's id, that confirms Port holds what it does
        (
            "GET",
            f"/pagerduty/incidents/{seed.DEMO_INCIDENT_ID}",
            {"include[]": ["assignees", "first_trigger_log_entries"]},
        ),
        ("GET", "/port/v1/blueprints/pagerdutyIncident", {}),
        ("PATCH", f"/port/v1/actions/runs/{run}", {}),
        ("POST", "/port/v1/auth/access_token", {}),
        ("POST", f"/port/v1/actions/runs/{run}/logs", {}),
        ("POST", f"/port/v1/actions/runs/{run}/logs", {}),
        ("POST", "/port/v1/blueprints/pagerdutyIncident/entities", upsert_query),
        ("PUT", f"/pagerduty/incidents/{seed.DEMO_INCIDENT_ID}", {}),
    ]
    assert sent == sorted((m, p, json.dumps(q, sort_keys=True)) for m, p, q in expected)


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        "alice@example.com\r\nX-Injected: 1",
        "alice@example.com\nAuthorization: Token token=x",
        "alice@example.com\rX-Injected: 1",
        "Alice <alice@example.com>",
    ],
)
def test_from_that_could_split_a_header_is_refused(
    sender: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A From with CR, LF or a display name is refused before any request."""
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | NO_PORT | {"from": sender})
    assert_refused(result, "from")
    assert sandbox.journal() == []


@pytest.mark.parametrize(
    "inputs",
    [{"from": "al\u20acx@example.com"}, {"pagerduty_token": "sbx-pd-token-\u20ac"}],
    ids=["from", "pagerduty_token"],
)
def test_header_values_that_are_not_latin_1_are_refused(
    inputs: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    """A From or key that no HTTP header can carry is an input error, not a crash."""
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | NO_PORT | inputs)
    assert_refused(result, next(iter(inputs)))


@pytest.mark.parametrize("sender", ["alice@example.com\x00", "alice\x07@example.com"])
def test_from_with_control_characters_is_refused(
    sender: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A From with a NUL or another control character is refused before any request."""
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | NO_PORT | {"from": sender})
    assert_refused(result, "from")
    assert sandbox.journal() == []


# --- text from PagerDuty ---------------------------------------------------------------------

FORGING_TITLE = (
    "Disk full\nincident_id<<EOF\nFORGED\nEOF\nchanged=false\n"
    "ghadelimiter_00000000-0000-0000-0000-000000000000\nport_run_id=r_forged"
)
COMMAND_TITLE = (
    "::error::pwned%0A::set-output name=changed::false\n::warning file=x::injected\n"
    "##[error]old syntax\n::add-mask::\n  ::notice::indented\r::debug::cr"
)
MARKUP_TITLE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> | a | b |\n## Fake heading\n"
    "[click](javascript:alert(1)) ![x](https://evil.example/x.png) **bold** `code` \\|"
)


def create_incident(sandbox: Sandbox, title: str) -> str:
    """Open an incident titled ``title`` on the payments service; return its id."""
    answer = requests.post(
        f"{sandbox.pagerduty_url}/incidents",
        json={
            "incident": {
                "type": "incident",
                "title": title,
                "service": {"id": "PSVCPAY", "type": "service_reference"},
            }
        },
        headers={
            "Authorization": f"Token token={seed.PAGERDUTY_TOKEN}",
            "From": seed.FROM_EMAIL,
            "Accept": "application/vnd.pagerduty+json;version=2",
        },
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    sandbox.clear_journal()
    return str(answer.json()["incident"]["id"])


def escalate(sandbox: Sandbox, tmp_path: Path, title: str) -> tuple[str, RunResult]:
    """Escalate a fresh incident titled ``title`` through the Port run, as the runner would."""
    incident_id = create_incident(sandbox, title)
    inputs = SEED_CASE | {"port_context": context(entity=incident_id)}
    result = run_action(sandbox, tmp_path, **inputs)
    assert result.returncode == 0, result.stdout + result.stderr
    return incident_id, result


def test_a_title_cannot_forge_outputs(sandbox: Sandbox, tmp_path: Path) -> None:
    """A title holding a fake ``name<<DELIM`` block and ``name=value`` lines adds or changes no
    output."""
    incident_id, result = escalate(sandbox, tmp_path, FORGING_TITLE)
    assert set(result.outputs) <= set(OUTPUT_NAMES)  # none added (other operations' may lack)
    assert result.outputs["incident_id"] == incident_id
    assert result.outputs["changed"] == "true"
    assert result.outputs["port_run_id"] == seed.DEMO_RUN_ID
    assert json.loads(result.outputs["incident"])["title"] == FORGING_TITLE
    assert "FORGED" not in result.outputs_text.replace(json.dumps(FORGING_TITLE)[1:-1], "")


def test_a_title_cannot_inject_workflow_commands(sandbox: Sandbox, tmp_path: Path) -> None:
    """No line of a title starts a workflow command; commands carry it escaped."""
    _, result = escalate(sandbox, tmp_path, COMMAND_TITLE)
    assert "pwned" in result.stdout  # the title is shown...
    for line in result.lines:
        if line.startswith("::"):
            assert OWN_COMMANDS.match(line), line
            assert "pwned" not in line.split("::", 2)[1]
        assert not line.lstrip().startswith(("::set-output", "##[", "::warning file=x"))
        assert not line.startswith(("::error::pwned", "::notice::indented", "::debug::cr"))
    masks = [line for line in result.lines if line.startswith("::add-mask::")]
    assert all(line != "::add-mask::" for line in masks)
    commands_with_title = [line for line in result.commands if "pwned" in line]
    assert all("%0A" not in line.replace("%250A", "") for line in commands_with_title)


def test_a_title_cannot_break_the_job_summary(sandbox: Sandbox, tmp_path: Path) -> None:
    """HTML, Markdown and table pipes in a title stay text in the summary."""
    _, result = escalate(sandbox, tmp_path, MARKUP_TITLE)
    summary = result.summary
    assert "alert" in summary  # ...the title is there
    assert "<script" not in summary
    assert "<img" not in summary
    assert "](javascript:" not in summary
    assert "![" not in summary
    assert [line for line in summary.splitlines() if line.startswith("#")] == [
        "## ✅ Incident escalated"
    ]
    for line in summary.splitlines():
        if line.startswith("|"):
            # four columns: what, before, asked, after
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


# --- port_context ----------------------------------------------------------------------------

BAD_CONTEXTS: dict[str, tuple[str, str]] = {
    "not-json": ("{run_id: r_1}", "port_context"),
    "truncated": ('{"run_id": "r_1"', "port_context"),
    "a-list": ('["r_1"]', "port_context"),
    "a-string": ('"r_1"', "port_context"),
    "a-number": ("42", "port_context"),
    "null": ("null", "port_context"),
    "nested-too-deep": ('{"relations": ' + "[" * 40 + "]" * 40 + "}", "port_context"),
    "deeper-than-the-parser": ('{"x": ' + "[" * 60_000 + "]" * 60_000 + "}", "port_context"),
    "nan": ('{"run_id": NaN}', "port_context"),
    "run-id-number": ('{"run_id": 5}', "port_context.run_id"),
    "run-id-object": ('{"runId": {"id": "r_1"}}', "port_context.run_id"),
    "nested-run-id-list": ('{"context": {"runId": ["r_1"]}}', "port_context.run_id"),
    "entity-list": ('{"entity": ["Q2LAR4ADCXC8IB"]}', "port_context.entity"),
    "entity-identifier-number": ('{"entity": {"identifier": 5}}', "port_context.entity"),
    "blueprint-boolean": ('{"blueprint": true, "entity": "PT4KHLK"}', "port_context.blueprint"),
    "relations-number": ('{"entity": "PT4KHLK", "relations": 5}', "port_context.relations"),
    "relations-bad-json": ('{"entity": "PT4KHLK", "relations": "{nope"}', "port_context.relations"),
    "relation-number": ('{"entity": "PT4KHLK", "relations": {"a": 5}}', "port_context.relations"),
    "relation-list-of-numbers": (
        '{"entity": "PT4KHLK", "relations": {"a": [1]}}',
        "port_context.relations",
    ),
    "relation-bad-name": (
        '{"entity": "PT4KHLK", "relations": {"a b": "x"}}',
        "port_context.relations",
    ),
    "relation-bad-target": (
        '{"entity": "PT4KHLK", "relations": {"a": "x?y"}}',
        "port_context.relations",
    ),
}


@pytest.mark.parametrize("name", BAD_CONTEXTS)
def test_a_bad_port_context_is_a_clear_input_error(
    name: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """port_context that is not JSON, not an object, too deep or of the wrong types is refused
    with an error naming it, before any request, Port's included."""
    raw, input_name = BAD_CONTEXTS[name]
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | {"port_context": raw})
    assert_refused(result, input_name)
    assert sandbox.journal() == []


@pytest.mark.parametrize("name", ["not-json", "deeper-than-the-parser", "relation-number"])
def test_a_bad_port_context_prints_no_traceback(
    name: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Run as the runner runs it, a bad port_context ends on ::error:: and nothing on stderr."""
    raw, input_name = BAD_CONTEXTS[name]
    result = run_action(sandbox, tmp_path, **SEED_CASE | {"port_context": raw})
    assert_refused(result, input_name)
    assert result.stderr == ""


def test_a_port_context_too_large_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    """A port_context over the size limit is refused by size, before it is parsed."""
    raw = json.dumps(SEED_PORT_CONTEXT | {"padding": "x" * (300 * 1024)})
    result = run_in_process(sandbox, tmp_path, **SEED_CASE | {"port_context": raw})
    assert_refused(result, "port_context")
    assert "KiB" in result.error_text
    assert sandbox.journal() == []


# --- parse_inputs, any strings -----------------------------------------------------------------

INTERESTING = [
    "",
    " ",
    "true",
    "FALSE",
    "0",
    "1",
    "120",
    "5",
    "3601",
    "nan",
    "-1",
    "1e3",
    "high",
    "LOW",
    "us",
    "eu",
    "PPLATFM",
    "Q2LAR4ADCXC8IB",
    "1042",
    "../x",
    "a%2Fb",
    "alice@example.com",
    "a@b\r\nc.d",
    "http://127.0.0.1:8080/pagerduty",
    "https://api.port.io/v1",
    "http://example.com",
    "https://u:p@h/x?q#f",
    "ftp://x",
    '{"run_id": "r_1", "entity": "PT4KHLK"}',
    '{"context": {"runId": "r_1"}, "entity": {"identifier": "PT4KHLK"}}',
    '{"relations": "{\\"a\\": [\\"b\\"]}", "entity": "X"}',
    '{"team": "service.summary", "responder": null}',
    '{"a": 1}',
    "[]",
    "null",
    "{",
    "\x00",
    "\udcff",
]
VALUES = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), max_size=3),
)
RAW_INPUTS = st.dictionaries(st.sampled_from([*INPUT_NAMES, "unknown"]), VALUES, max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
CONTEXT_KEYS = st.sampled_from(
    ["run_id", "runId", "entity", "blueprint", "relations", "context", "identifier", "x"]
)
CONTEXTS = st.dictionaries(CONTEXT_KEYS, JSON_VALUES | st.text(max_size=20), max_size=5)


def check_parse(raw: dict[str, str]) -> None:
    """``parse_inputs(raw)`` returns the model or raises InputError; nothing else."""
    try:
        inputs = parse_inputs(raw)
    except InputError as error:
        refused: InputError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.input.split(".")[0] in INPUT_NAMES
        assert str(refused)
        return
    assert isinstance(inputs, IncidentInputs)
    assert re.fullmatch(r"[A-Z0-9]{1,64}", inputs.incident_id)
    assert inputs.port_run_id is None or re.fullmatch(r"[A-Za-z0-9_-]+", inputs.port_run_id)
    assert 5 <= inputs.timeout_seconds <= 3600
    for url in (inputs.pagerduty_api_url, inputs.port_api_url):
        assert url.startswith(("https://", "http://127.", "http://localhost", "http://[::1]"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RAW_INPUTS)
def test_any_strings_become_the_model_or_an_input_error(raw: dict[str, str]) -> None:
    """Any mapping of input strings is either validated into the model or refused by InputError."""
    check_parse(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(RAW_INPUTS, CONTEXTS)
def test_any_port_context_becomes_the_model_or_an_input_error(
    raw: dict[str, str], document: dict[str, Any]
) -> None:
    """Any JSON object as port_context, with any other inputs, validates or raises InputError."""
    check_parse(raw | {"port_context": json.dumps(document)})


# --- the environment ------------------------------------------------------------------------


def test_a_planted_netrc_and_proxy_variables_change_nothing(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~/.netrc for the sandbox's host and proxies in the environment neither replace the
    credentials nor carry the loopback traffic: the run succeeds with the real keys."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text(
        "machine 127.0.0.1 login thief password stolen\ndefault login any password any\n"
    )
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    with socket.socket() as unused:  # a proxy address where nothing listens
        unused.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{unused.getsockname()[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    result = run_in_process(sandbox, tmp_path, **SEED_CASE)
    assert result.returncode == 0, result.stdout
    assert result.outputs["changed"] == "true"


# --- the runner's legacy syntax, terminal and bidi controls, secrets echoed changed -----------

LEGACY_TITLE = (
    "Disk full ##[stop-commands]tok then ##[warning file=x]forged "
    "##[set-output name=changed;]false ###[error]x \x9b31m\u202eevil\u2066 \x1b[2J"
)
LEGACY_NOTE = "seen ##[error]forged note\x1b[31m red\u202e"
LEGACY_RESOLUTION = "fixed\nForged run log line\r##[add-mask]x \x9bK\u2067"
#: what may never reach the job log or a Port run log: the legacy command opener and controls
NEVER_SHOWN = re.compile("##\\[|[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_legacy_commands_and_controls_never_reach_the_job_log(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """``##[`` anywhere in a title, note or resolution, C1 CSI and bidi controls reach neither the
    job log nor the Port run logs, while the words are still shown."""
    incident_id = create_incident(sandbox, LEGACY_TITLE)
    run_context = context(entity=incident_id)
    escalate_inputs = SEED_CASE | {"port_context": run_context, "note": LEGACY_NOTE}
    resolve_inputs = {
        "operation": "resolve",
        "from": seed.FROM_EMAIL,
        "port_context": run_context,
        "resolution": LEGACY_RESOLUTION,
        "note": LEGACY_NOTE,
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    escalated = run_action(sandbox, tmp_path / "a", **escalate_inputs)
    resolved = run_action(sandbox, tmp_path / "b", **resolve_inputs)
    for result in (escalated, resolved):
        assert result.returncode == 0, result.stdout + result.stderr
        assert "forged" in result.stdout  # ...the words are shown
        assert not NEVER_SHOWN.search(result.stdout), result.stdout
        assert result.outputs["changed"] == "true"
    logs = run_logs(sandbox)
    assert any("Forged run log line" in log for log in logs)
    for log in logs:
        assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", log), log


def test_a_secret_echoed_upper_cased_or_cut_reaches_no_summary(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A title that echoes the PagerDuty token upper-cased, and a cut piece of it, is shown with
    neither in the summary, the outputs or the job log."""
    token = seed.PAGERDUTY_TOKEN
    title = f"Leak {token.upper()} and {token[3:-3]} end"
    _, result = escalate(sandbox, tmp_path, title)
    assert "Leak" in result.summary
    assert " end" in result.summary
    shown = "\n".join(line for line in result.lines if not line.startswith("::add-mask::"))
    for text in (result.summary, shown, result.outputs_text):
        folded = text.lower()
        assert token.lower() not in folded
        assert token[3:-3].lower() not in folded
        assert token[5:15].lower() not in folded
