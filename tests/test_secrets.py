"""No credential ever leaves the run: not in the log, the outputs, the summary, Port or an error.

Every scenario of the fault matrix is scanned (its runs come from :mod:`tests.matrix`, shared with
``test_faults``), then invalid inputs, inputs wired to the wrong secret, services that echo a
credential, then the project's exceptions and models in process. The credentials hold what real
ones hold (``-``, ``_``, ``+``, ``.``, ``/``, ``=``), and each place is also read with its escapes
undone (Markdown's backslashes, HTML entities, workflow-command and URL percent-escapes), so a
secret that escaping disguised is still found. A leak is any 8-character piece of a secret: a
prefix or a fragment is as bad as the whole.
"""

from __future__ import annotations

import io
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from escalator.context import GitHubContext
from escalator.errors import EscalatorError, ReportingError
from escalator.faces.incident_action import build_runner
from escalator.http.deadline import use_clock
from escalator.inputs import SECRET_INPUTS
from escalator.operations import parse_inputs
from escalator.sandbox import Sandbox, seed
from escalator.step_files import OutputWriter
from escalator.terms import ACTION
from escalator.workflow import Console
from tests.e2e import (
    REAL_SHAPED_CREDENTIALS,
    SEED_CASE,
    RunResult,
    SkippingClock,
    run_action,
    run_logs,
    sandbox_inputs,
)
from tests.matrix import CASES, TIMEOUT, CaseRun, case_run
from tests.secret_scan import (
    INPUT_SECRETS,
    REDACTED,
    TOKEN_PREFIX,
    captured,
    delivered_tokens,
    leaks,
    port_tokens,
    service_side,
    unescaped,
)


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


KEY = seed.REAL_SHAPED_PAGERDUTY_TOKEN
CLIENT_ID = seed.REAL_SHAPED_PORT_CLIENT_ID
CLIENT_SECRET = seed.REAL_SHAPED_PORT_CLIENT_SECRET
WRONG_TOKEN = "wr0ng_Pd+key-Zr8.Qp3/Lm5Tx1="
WRONG_SECRET = "Wq0n9-Zs3t_Xk7c+Kd2.Hs9/Vb4Nw7="
NON_LATIN_TOKEN = "y_NbAk+c6-\u20ac6ry.YT/WUXEu=="

#: name -> inputs over the seed case; every one of them fails
INVALID_INPUTS: dict[str, dict[str, str]] = {
    "token-with-newline": {"pagerduty_token": KEY[:9] + "\n" + KEY[9:]},
    "token-with-spaces": {"pagerduty_token": f" {KEY} "},
    "secret-without-id": {"port_client_id": ""},
    "id-without-secret": {"port_client_secret": ""},
    "secret-with-newline": {"port_client_secret": CLIENT_SECRET[:10] + "\n" + CLIENT_SECRET[10:]},
    "bad-timeout": {"timeout_seconds": "forever"},
    "bad-port-context": {"port_context": "{not json"},
    "bad-incident": {"incident_id": "../../users"},
    "bad-api-url": {"pagerduty_api_url": f"http://user:{KEY}@127.0.0.1/x"},
    "wrong-pagerduty-key": {"pagerduty_token": WRONG_TOKEN},
    "wrong-port-secret": {"port_client_secret": WRONG_SECRET},
    "non-latin-1-key": {"pagerduty_token": NON_LATIN_TOKEN},
}


def scanned_run(sandbox: Sandbox, tmp_path: Path, **inputs: str) -> tuple[RunResult, list[str]]:
    """Run the seed case with the real-shaped credentials and ``inputs``; the result, and the
    leaks of every credential given (and each line of one) or minted in what it left anywhere."""
    given = SEED_CASE | REAL_SHAPED_CREDENTIALS | {"timeout_seconds": str(TIMEOUT)} | inputs
    result = run_action(sandbox, tmp_path, **given)
    given = sandbox_inputs(sandbox) | given
    secrets = [given[key] for key in SECRET_INPUTS if given.get(key)]
    secrets += [line for secret in secrets for line in secret.split("\n")]
    secrets += [*INPUT_SECRETS, *port_tokens(result)]
    places = captured(result) | service_side(sandbox.journal(), sandbox.state())
    return result, leaks(secrets, places)


@pytest.mark.parametrize("name", INVALID_INPUTS)
def test_no_secret_when_inputs_are_wrong(name: str, sandbox: Sandbox, tmp_path: Path) -> None:
    """A run refused for its inputs or credentials shows no piece of any credential."""
    result, found = scanned_run(sandbox, tmp_path, **INVALID_INPUTS[name])
    assert result.returncode in (1, 2)  # 2: refused inputs, 1: refused credentials
    assert found == []


#: A JWT-like secret longer than an input error quotes (a quote cut short is a prefix of it).
LONG_SECRET = "eyJhbGciOi.JIUzI1NiJ9-eyJzdWIiOiIx_MjM0NTY3ODkwIn0+Ks8Y2dT/xQ9vLm3Pq=="

#: An input wired to the wrong secret (``urgency: ${{ secrets.PAGERDUTY_API_KEY }}``): the input
#: error must not quote it, whole, lowered or cut, in the log, the summary or the Port run log.
MISWIRED: dict[str, dict[str, str]] = {
    "urgency-is-the-pagerduty-key": {"urgency": KEY},
    "urgency-is-the-key-in-capitals": {"urgency": KEY.upper()},
    "incident_id-is-the-client-secret": {"incident_id": CLIENT_SECRET},
    "escalation_level-is-the-client-id": {"escalation_level": CLIENT_ID},
    "incident_id-is-a-long-client-secret": {
        "incident_id": LONG_SECRET,
        "port_client_secret": LONG_SECRET,
    },
}


@pytest.mark.parametrize("name", MISWIRED)
def test_no_secret_when_an_input_holds_a_credential(
    name: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """An input error about a value that is a credential names the input and shows no piece of
    the credential anywhere (log, summary, outputs, Port run log and status label)."""
    inputs = MISWIRED[name]
    result, found = scanned_run(sandbox, tmp_path, **inputs)
    assert result.returncode == 2, result.stdout
    assert found == []
    wired = next(key for key in inputs if key not in SECRET_INPUTS)
    assert wired in result.error_text
    assert wired in unescaped(result.summary)


def _echo(*secrets: str) -> str:
    return "Invalid request: " + " and ".join(f"'{secret}'" for secret in secrets)


#: A service whose error message echoes a credential: call -> the scripted answer.
ECHOES: dict[str, dict[str, Any]] = {
    "pagerduty-read-echoes-the-key": {
        "method": "GET",
        "path": "/pagerduty/incidents/*",
        "steps": [
            {
                "status": 400,
                "body": {"error": {"message": _echo(KEY), "code": 2001, "errors": [_echo(KEY)]}},
            }
        ],
    },
    "port-upsert-echoes-the-client-credentials": {
        "method": "POST",
        "path": "/port/v1/blueprints/*/entities",
        "steps": [
            {
                "status": 422,
                "body": {
                    "ok": False,
                    "error": "invalid_request",
                    "message": _echo(CLIENT_ID, CLIENT_SECRET, KEY),
                },
            }
        ],
    },
}


@pytest.mark.parametrize("name", ECHOES)
def test_no_secret_when_a_service_echoes_one(name: str, tmp_path: Path) -> None:
    """A service error message that echoes a credential reaches no log, summary, output or Port
    text (run logs, status label) unredacted."""
    with Sandbox(faults=[{**ECHOES[name], "repeat_last": True}]) as sandbox:
        result, found = scanned_run(sandbox, tmp_path)
        logs = run_logs(sandbox)
        label = sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID].get("statusLabel") or ""
    assert result.returncode == 1, result.stdout
    assert found == []
    # The service's words did come through: the redaction is what kept the secret out.
    assert "Invalid request" in result.error_text
    assert REDACTED in result.error_text
    assert REDACTED in unescaped(result.summary)
    assert any(REDACTED in log for log in logs) or REDACTED in label, (logs, label)


def test_inputs_model_never_shows_credentials() -> None:
    """repr, str and JSON of the validated inputs hide every credential."""
    raw = {
        "incident_id": seed.DEMO_INCIDENT_ID,
        "urgency": "high",
        **REAL_SHAPED_CREDENTIALS,
        "github_token": "ghs_Github0Token1Secret2Value3",
        "routing_key": "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b",
    }
    inputs = parse_inputs(raw)
    shown = {
        "repr": repr(inputs),
        "str": str(inputs),
        "json": inputs.model_dump_json(),
        "dump": repr(inputs.model_dump()),
    }
    assert leaks([raw[name] for name in SECRET_INPUTS], shown) == []
    assert inputs.pagerduty_token.get_secret_value() == KEY


_IN_PROCESS = [case for case in CASES if case.expect.exit_code == 1 and "hang" not in case.fault]


def _escalate_in_process(case_id: str) -> tuple[EscalatorError | None, dict[str, str], list[str]]:
    """Run a matrix case's escalation in this process; return its error and what to scan."""
    case = next(c for c in CASES if c.id == case_id)
    with Sandbox(faults=case.faults) as sandbox, use_clock(SkippingClock()):
        raw = sandbox_inputs(sandbox) | REAL_SHAPED_CREDENTIALS | SEED_CASE
        raw |= {"timeout_seconds": str(TIMEOUT)}
        inputs = parse_inputs(raw | case.inputs)
        stream = io.StringIO()
        console = Console(stream, github=True, terms=ACTION)
        for name in SECRET_INPUTS:
            console.add_secret(raw.get(name))
        escalation = build_runner(inputs, console, OutputWriter(None, console), GitHubContext(), {})
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
