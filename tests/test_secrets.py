"""No credential ever leaves the run: not in the log, the outputs, the summary, Port or an error.

Every scenario of the fault matrix is scanned (its runs are shared with ``test_faults``), then
invalid inputs, then the project's exceptions and models in process. A leak is any 8-character
piece of a secret: a prefix or a fragment is as bad as the whole.
"""

from __future__ import annotations

import io
import json
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from escalator.context import GitHubContext
from escalator.errors import EscalatorError, ReportingError
from escalator.faces.action import build_runner
from escalator.inputs import SECRET_INPUTS, parse_inputs
from escalator.sandbox import Sandbox, seed
from escalator.workflow import Console, OutputWriter
from tests.e2e import SEED_CASE, RunResult, run_action, sandbox_inputs

# The matrix's runs are shared: imported under the name pytest gave the module, not a second copy.
from test_faults import CASES, TIMEOUT, CaseRun, case_run  # isort: skip

PIECE = 8
INPUT_SECRETS = (seed.PAGERDUTY_TOKEN, seed.PORT_CLIENT_ID, seed.PORT_CLIENT_SECRET)
TOKEN_PREFIX = "sbx-port-at-"
TOKEN_PATH = "/port/v1/auth/access_token"


def pieces(secret: str) -> set[str]:
    """Every 8-character piece of ``secret`` (any longer prefix or fragment contains one)."""
    if len(secret) <= PIECE:
        return {secret}
    return {secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1)}


def leaks(secrets: list[str], places: dict[str, str]) -> list[str]:
    """Where a piece of a secret shows up, as ``place: piece`` lines (empty when none)."""
    found = []
    for secret in secrets:
        for piece in pieces(secret):
            found += [f"{place}: {piece!r}" for place, text in places.items() if piece in text]
    return sorted(found)


def captured(result: RunResult) -> dict[str, str]:
    """Everything a run shows the user, less the ``::add-mask::`` lines (made to hold secrets)."""
    shown = [line for line in result.lines if not line.startswith("::add-mask::")]
    return {
        "stdout": "\n".join(shown),
        "stderr": result.stderr,
        "outputs": result.outputs_text,
        "summary": result.summary,
    }


def service_side(journal: list[dict[str, Any]], state: dict[str, Any]) -> dict[str, str]:
    """What the action wrote to the services: request paths, queries and bodies (the token
    request's body is where the credentials belong), Port run logs, run fields and entities."""
    places: dict[str, str] = {}
    for entry in journal:
        where = f"journal {entry['seq']} {entry['method']} {entry['path']}"
        places[where + " path"] = entry["path"] + json.dumps(entry["query"])
        if entry["path"] != TOKEN_PATH:
            places[where + " body"] = json.dumps(entry["body"])
    port = state["port"]
    for run_id, logs in port["run_logs"].items():
        places[f"run {run_id} logs"] = "\n".join(log["message"] for log in logs)
    for run_id, run in port["runs"].items():
        fields = {key: run.get(key) for key in ("statusLabel", "link", "summary", "properties")}
        places[f"run {run_id}"] = json.dumps(fields)
    places["entities"] = json.dumps(port["entities"])
    places["incidents"] = json.dumps(state["pagerduty"]["incidents"])
    return places


def delivered_tokens(journal: list[dict[str, Any]]) -> int:
    """How many access tokens Port handed back whole (a dropped or broken answer hands none)."""
    return sum(
        1
        for entry in journal
        if entry["path"] == TOKEN_PATH
        and entry["status"] == 200
        and entry["fault"] in (None, "pass")
    )


def port_tokens(result: RunResult) -> list[str]:
    """The Port access tokens the run announced to the runner for masking."""
    return [value for value in result.masked if value.startswith(TOKEN_PREFIX)]


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_no_secret_in_any_fault_scenario(case_id: str) -> None:
    """No piece of any credential is in what the run printed, wrote or sent to the services."""
    run: CaseRun = case_run(case_id)
    secrets = [*INPUT_SECRETS, *port_tokens(run.result)]
    places = captured(run.result) | service_side(run.journal, run.state)
    assert leaks(secrets, places) == []


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_every_access_token_is_masked_at_once(case_id: str) -> None:
    """Each token Port handed back is masked before any other line, and shown nowhere else."""
    run: CaseRun = case_run(case_id)
    tokens = port_tokens(run.result)
    assert len(tokens) == delivered_tokens(run.journal)
    assert run.state["port"]["access_tokens_issued"] >= len(tokens)
    for token in tokens:
        assert run.result.stdout.count(token) == 1  # the ::add-mask:: line itself


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_every_input_secret_is_masked_first(case_id: str) -> None:
    """The credentials given as inputs are masked before the first line that is not a mask."""
    run: CaseRun = case_run(case_id)
    lines = run.result.lines
    first_other = next(i for i, line in enumerate(lines) if not line.startswith("::add-mask::"))
    assert set(INPUT_SECRETS) <= set(run.result.masked[:first_other])


WRONG_TOKEN = "wrong-pd-key-Zr8Qp3Lm5Tx1"
WRONG_SECRET = "wrong-port-secret-Kd2Hs9Vb4Nw7"
NON_LATIN_TOKEN = "sbx-pd-token-\u20ac7Hq2Lx9Vw4Rk"

#: name -> inputs over the seed case; every one of them fails
INVALID_INPUTS: dict[str, dict[str, str]] = {
    "token-with-newline": {"pagerduty_token": "sbx-pd-token-7Hq2\nLx9Vw4Rk"},
    "token-with-spaces": {"pagerduty_token": " sbx-pd-token-7Hq2Lx9Vw4Rk "},
    "secret-without-id": {"port_client_id": ""},
    "id-without-secret": {"port_client_secret": ""},
    "secret-with-newline": {"port_client_secret": "sbx-port-secret-Yd5K\nm2Wq7Pc4"},
    "bad-timeout": {"timeout_seconds": "forever"},
    "bad-port-context": {"port_context": "{not json"},
    "bad-incident": {"incident_id": "../../users"},
    "bad-api-url": {"pagerduty_api_url": f"http://user:{seed.PAGERDUTY_TOKEN}@127.0.0.1/x"},
    "wrong-pagerduty-key": {"pagerduty_token": WRONG_TOKEN},
    "wrong-port-secret": {"port_client_secret": WRONG_SECRET},
    "non-latin-1-key": {"pagerduty_token": NON_LATIN_TOKEN},
}


@pytest.mark.parametrize("name", INVALID_INPUTS)
def test_no_secret_when_inputs_are_wrong(name: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """A run refused for its inputs or credentials shows no piece of any credential."""
    inputs = SEED_CASE | {"timeout_seconds": str(TIMEOUT)} | INVALID_INPUTS[name]
    result = run_action(sandbox, tmp_path, **inputs)
    assert result.returncode in (1, 2)  # 2: refused inputs, 1: refused credentials
    given = sandbox_inputs(sandbox) | inputs
    secrets = [given[key] for key in SECRET_INPUTS if given.get(key)]
    secrets += [line for secret in secrets for line in secret.split("\n")]
    secrets += [*INPUT_SECRETS, *port_tokens(result)]
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    assert leaks(secrets, places) == []


def test_inputs_model_never_shows_credentials() -> None:
    """repr, str and JSON of the validated inputs hide every credential."""
    raw = {
        "incident_id": seed.DEMO_INCIDENT_ID,
        "urgency": "high",
        "pagerduty_token": seed.PAGERDUTY_TOKEN,
        "port_client_id": seed.PORT_CLIENT_ID,
        "port_client_secret": seed.PORT_CLIENT_SECRET,
        "github_token": "ghs_Github0Token1Secret2Value3",
    }
    inputs = parse_inputs(raw)
    shown = {
        "repr": repr(inputs),
        "str": str(inputs),
        "json": inputs.model_dump_json(),
        "dump": repr(inputs.model_dump()),
    }
    assert leaks([raw[name] for name in SECRET_INPUTS], shown) == []
    assert inputs.pagerduty_token.get_secret_value() == seed.PAGERDUTY_TOKEN


_IN_PROCESS = [case for case in CASES if case.expect.exit_code == 1 and "hang" not in case.fault]


def _escalate_in_process(case_id: str) -> tuple[EscalatorError | None, dict[str, str], list[str]]:
    """Run a matrix case's escalation in this process; return its error and what to scan."""
    case = next(c for c in CASES if c.id == case_id)
    with Sandbox(faults=case.faults) as sandbox:
        raw = sandbox_inputs(sandbox) | SEED_CASE | {"timeout_seconds": str(TIMEOUT)}
        inputs = parse_inputs(raw | case.inputs)
        stream = io.StringIO()
        console = Console(stream, github=True)
        for name in SECRET_INPUTS:
            console.add_secret(raw.get(name))
        escalation = build_runner(inputs, console, OutputWriter(None, console), GitHubContext())
        error: EscalatorError | None = None
        try:
            escalation.execute()
        except EscalatorError as exc:
            error = exc
        finally:
            escalation.pagerduty.close()
            if escalation.port is not None:
                escalation.port.close()
        places = {
            "outcome": repr(escalation.outcome),
            "port client": repr(escalation.port),
            "pagerduty client": repr(escalation.pagerduty),
        }
        if error is not None:
            chain: list[BaseException] = [error]
            if isinstance(error, ReportingError):
                chain.append(error.cause)
            for index, exc in enumerate(chain):
                places[f"str {index}"] = str(exc)
                places[f"repr {index}"] = repr(exc)
                places[f"args {index}"] = repr(exc.args) + repr(vars(exc))
                places[f"traceback {index}"] = "".join(traceback.format_exception(exc))
        tokens = [
            line.removeprefix("::add-mask::")
            for line in stream.getvalue().splitlines()
            if line.startswith("::add-mask::" + TOKEN_PREFIX)
        ]
        return error, places, tokens


@pytest.fixture(scope="module")
def in_process_runs() -> dict[str, Any]:
    """The failing matrix cases (hangs aside), escalated in this process a few at a time."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.id: pool.submit(_escalate_in_process, case.id) for case in _IN_PROCESS}
        return {case_id: future.result() for case_id, future in futures.items()}


@pytest.mark.parametrize("case_id", [case.id for case in _IN_PROCESS])
def test_no_secret_in_exceptions_or_reprs(case_id: str, in_process_runs: dict[str, Any]) -> None:
    """The project's exceptions (message, repr, args, traceback) and the run's objects hide
    every credential."""
    error, places, tokens = in_process_runs[case_id]
    assert isinstance(error, EscalatorError)
    assert leaks([*INPUT_SECRETS, *tokens], places) == []
