"""The fault matrix's cases and their runs, shared by the test modules that check them.

A case is one outside call of a run (:data:`CALLS`), one fault a network or a service can cause
on it (:data:`FAULTS`, and the extra cases of :func:`_cases`), and what the action promises to end
with (:class:`Expect`). :func:`case_run` runs the seed workflow's escalation for a case end to end
(the action's ``main`` in this process through :mod:`tests.e2e`, with credentials shaped like real
ones) against its own sandbox, under a :class:`~tests.e2e.SkippingClock`: a retry's wait passes at
once but counts against the deadline, so no case sleeps on the real clock for a retry (a hang
still waits out its real timeout). The first call starts every case a few at a time in the
background, and each run is done once for all the modules that read it (``test_faults`` checks
the outcomes, ``test_secrets`` scans them for credentials).
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from escalator.http.deadline import use_clock
from escalator.sandbox import Sandbox, seed
from tests.e2e import REAL_SHAPED_CREDENTIALS, SEED_CASE, RunResult, SkippingClock, run_in_process

#: A small deadline bounds the hangs: one attempt may wait min(10, 8 / 4) = 2 s.
TIMEOUT = 8
ATTEMPT_TIMEOUT = 2
#: Slack for a run's own work (imports, answers) on a busy two-core machine.
START_MARGIN = 3.0
#: Most of a case's time is a hang's real wait: more workers overlap them.
WORKERS = 8
HANG = {"fault": "hang", "seconds": ATTEMPT_TIMEOUT + 2}

CALLS: dict[str, tuple[str, str]] = {
    "token": ("POST", "/port/v1/auth/access_token"),
    "run_log": ("POST", "/port/v1/actions/runs/*/logs"),
    "pd_read": ("GET", "/pagerduty/incidents/*"),
    "pd_write": ("PUT", "/pagerduty/incidents/*"),
    "upsert": ("POST", "/port/v1/blueprints/*/entities"),
    "run_patch": ("PATCH", "/port/v1/actions/runs/*"),
    "blueprint": ("GET", "/port/v1/blueprints/*"),
}

#: name -> (steps, repeat the last step forever)
FAULTS: dict[str, tuple[list[dict[str, Any]], bool]] = {
    "429-ratelimit-reset": ([{"status": 429, "headers": {"ratelimit-reset": "1"}}], False),
    "429-retry-after": ([{"status": 429, "headers": {"Retry-After": "1"}}], False),
    "429-x-ratelimit-reset": ([{"status": 429, "headers": {"x-ratelimit-reset": "1"}}], False),
    "429-bare": ([{"status": 429, "body": ""}], False),
    "5xx-once": ([{"status": 503}], False),
    "5xx-always": ([{"status": 500}], True),
    "hang": ([HANG], False),
    "reset-before": ([{"fault": "reset"}], False),
    "reset-after": ([{"fault": "reset_after"}], False),
    "malformed": ([{"fault": "malformed"}], False),
    "truncated": ([{"fault": "truncated"}], False),
    "401": ([{"status": 401}], False),
    "403": ([{"status": 403}], False),
    "404": ([{"status": 404}], False),
    "422": ([{"status": 422}], False),
}
TRANSIENT = {name for name in FAULTS if name.startswith("429")} | {"hang", "5xx-once"}
TRANSIENT |= {"reset-before", "reset-after", "malformed", "truncated"}

START_LOG = f"Escalating PagerDuty incident {seed.DEMO_INCIDENT_ID}"
RESULT_LOG = "Incident #1042 (Q2LAR4ADCXC8IB) escalated"
FAILURE_LOG = "Escalation failed:"
REPORTING_LOG = "The incident was escalated in PagerDuty, but"
LOG_NOT_SENT = "A Port run log was not sent"


@dataclass(frozen=True)
class Expect:
    """What a case must end with."""

    exit_code: int = 0
    #: substrings of the ::error:: text: what went wrong and which input or fix to look at
    message: tuple[str, ...] = ()
    #: PagerDuty holds the new policy and the incident outputs are written
    escalated: bool = True
    #: the Port entity holds the new policy and port_entity_identifier is set
    entity: bool = True
    #: substrings that must each be in one Port run log, in this order
    logs: tuple[str, ...] = (START_LOG, RESULT_LOG)
    #: substrings that no Port run log may contain
    absent_logs: tuple[str, ...] = ()
    #: substring of a ::warning:: line
    warning: str = ""
    #: PagerDuty PUTs applied: one per update when escalated
    pd_writes: int = 1
    #: run PATCHes applied (never more than one: they are not repeated)
    patches: int = 1


@dataclass(frozen=True)
class Case:
    """One call, one fault, the inputs and what must come out."""

    call: str
    fault: str
    steps: list[dict[str, Any]] = field(hash=False)
    repeat_last: bool
    expect: Expect
    inputs: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def id(self) -> str:
        return f"{self.call}-{self.fault}"

    @property
    def faults(self) -> list[dict[str, Any]]:
        method, path = CALLS[self.call]
        return [
            {"method": method, "path": path, "steps": self.steps, "repeat_last": self.repeat_last}
        ]


def _expect(call: str, fault: str) -> Expect:
    """The outcome the action promises for ``fault`` on ``call``."""
    recovers = Expect()
    if fault in TRANSIENT and call not in ("run_log", "run_patch"):
        return recovers
    if fault.startswith("429"):
        return recovers  # rate limited: nothing was applied, so every call is retried
    if call == "token":
        if fault == "401":
            return _port_failure_before("port_client_secret", "port_region")
        hints = {
            "5xx-always": ("Port had an internal error",),
            "403": ("answered 403", "credentials"),
            "404": ("answered 404", "port_api_url"),
            "422": ("answered 422",),
        }
        return _port_failure_before(*hints[fault])
    if call in ("upsert", "run_patch", "blueprint", "run_log") and fault == "401":
        return recovers  # the token expired mid-run: a new one is minted and the call repeated
    if call == "run_log":
        return _log_failure(fault)
    if call in ("pd_read", "pd_write"):
        hints = {
            "5xx-always": ("PagerDuty had an internal error",),
            "401": ("answered 401", "pagerduty_region"),
            "403": ("answered 403", "pagerduty_token"),
            "404": ("answered 404", "incident_id"),
            "422": ("answered 422",),
        }
        return _pagerduty_failure(*hints[fault])
    if call in ("upsert", "blueprint"):
        hints = {
            "5xx-always": ("Port had an internal error",),
            "403": ("answered 403", "credentials"),
            "404": ("answered 404", "port_blueprint"),
            "422": ("answered 422",),
        }
        # Without the blueprint, nothing more is sent to Port: neither the entity nor the run.
        patches = 1 if call == "upsert" else 0
        result_log = (RESULT_LOG,) if call == "upsert" else ()
        return Expect(
            exit_code=1,
            message=("Port entity was not updated", *hints[fault]),
            entity=False,
            logs=(START_LOG, *result_log, REPORTING_LOG),
            patches=patches,
        )
    assert call == "run_patch"
    hints = {
        "5xx-once": ("Port had an internal error",),
        "5xx-always": ("Port had an internal error",),
        "hang": ("no answer in time",),
        "reset-before": ("closed without an answer",),
        "reset-after": ("closed without an answer",),
        "403": ("answered 403", "credentials"),
        "404": ("answered 404", "run_id"),
        "422": ("answered 422",),
    }
    if fault in ("malformed", "truncated"):
        return recovers  # a 2xx status says Port applied it, whatever the body
    applied_anyway = fault == "reset-after"
    return Expect(
        exit_code=1,
        message=("Port run was not updated", *hints[fault]),
        logs=(START_LOG, RESULT_LOG, REPORTING_LOG),
        patches=1 if applied_anyway else 0,
    )


def _port_failure_before(*message: str) -> Expect:
    """Port's token cannot be had: nothing is written anywhere, not even a run log."""
    return Expect(
        exit_code=1,
        message=message,
        escalated=False,
        entity=False,
        logs=(),
        pd_writes=0,
        patches=0,
    )


def _pagerduty_failure(*message: str) -> Expect:
    """PagerDuty refused or failed: the incident is unchanged, the run is told why."""
    return Expect(
        exit_code=1,
        message=message,
        escalated=False,
        entity=False,
        logs=(START_LOG, FAILURE_LOG),
        absent_logs=(RESULT_LOG,),
        pd_writes=0,
        patches=0,
    )


def _log_failure(fault: str) -> Expect:
    """A run log that failed is a warning: the escalation and the entity are done."""
    if fault in ("malformed", "truncated"):
        return Expect()  # a 2xx status says Port stored the log, whatever the body
    if fault == "5xx-always":
        return Expect(warning=LOG_NOT_SENT, logs=(), absent_logs=(START_LOG, RESULT_LOG))
    stored_anyway = fault == "reset-after"
    return Expect(
        warning=LOG_NOT_SENT,
        logs=(START_LOG, RESULT_LOG) if stored_anyway else (RESULT_LOG,),
        absent_logs=() if stored_anyway else (START_LOG,),
    )


def _cases() -> list[Case]:
    cases = [
        Case(call, fault, steps, repeat, _expect(call, fault))
        for call in CALLS
        for fault, (steps, repeat) in FAULTS.items()
    ]
    hang_after = {"fault": "hang_after", "seconds": ATTEMPT_TIMEOUT + 2}
    cases += [
        # The answer is lost after the change was applied: read, see it, do not send again.
        Case("pd_write", "hang-after", [hang_after], False, Expect()),
        Case(
            "run_log",
            "hang-after",
            [hang_after],
            False,
            Expect(warning=LOG_NOT_SENT, logs=(START_LOG, RESULT_LOG)),
        ),
        Case(
            "run_patch",
            "hang-after",
            [hang_after],
            False,
            Expect(
                exit_code=1,
                message=("Port run was not updated", "no answer in time"),
                logs=(START_LOG, RESULT_LOG, REPORTING_LOG),
            ),
        ),
        # PagerDuty never answers: the run's deadline ends it, not the hang.
        Case(
            "pd_read",
            "hang-always",
            [HANG],
            True,
            _pagerduty_failure("no answer in time", "timeout_seconds"),
        ),
        # A real PagerDuty 5xx carries the rate-limit window: that is no reason to wait.
        Case(
            "pd_read",
            "5xx-with-ratelimit-headers",
            [
                {
                    "status": 503,
                    "headers": {
                        "ratelimit-limit": "960",
                        "ratelimit-remaining": "955",
                        "ratelimit-reset": "45",
                    },
                }
            ],
            False,
            Expect(),
        ),
        Case(
            "pd_write",
            "5xx-with-ratelimit-headers",
            [
                {
                    "status": 502,
                    "headers": {"ratelimit-remaining": "955", "ratelimit-reset": "45"},
                }
            ],
            False,
            Expect(),
        ),
        # An error page that is not JSON is still the answer: no extra tries for its body.
        Case(
            "pd_read",
            "404-html-body",
            [{"status": 404, "body": "<html>Not Found</html>"}],
            True,
            # not PagerDuty's answer: the URL is named, not the incident
            _pagerduty_failure("answered 404", "pagerduty_api_url"),
        ),
        Case(
            "pd_read",
            "5xx-always-html-body",
            [{"status": 502, "body": "<html>Bad Gateway</html>"}],
            True,
            _pagerduty_failure("PagerDuty had an internal error"),
        ),
        # Two updates (policy, then level): the second one's answer is lost after it applied.
        # PagerDuty does not expose the level, so no read can prove it applied (an ack or an
        # auto-escalation in that window moves the incident too): the level is sent again.
        Case(
            "pd_write",
            "second-update-reset-after",
            [{"pass": True}, {"fault": "reset_after"}],
            False,
            Expect(pd_writes=3, logs=(START_LOG, RESULT_LOG)),
            inputs={"escalation_level": "2"},
        ),
    ]
    return cases + _wrong_shapes()


OTHER_INCIDENT = {
    "id": "Q0THER0INCIDENT",
    "type": "incident",
    "incident_number": 7,
    "title": "Another incident",
    "status": "triggered",
    "urgency": "high",
}
BLUEPRINT_SHAPES: dict[str, Any] = {
    "schema-list": {"identifier": "pagerdutyIncident", "schema": [1]},
    "relation-string": {"identifier": "pagerdutyIncident", "relations": {"pagerdutyService": "x"}},
    "identifier-number": {"identifier": 5},
    "property-string": {
        "identifier": "pagerdutyIncident",
        "schema": {"properties": {"status": "string"}},
    },
    "required-string": {"identifier": "pagerdutyIncident", "schema": {"required": "status"}},
}


def _answer(status: int, body: Any) -> list[dict[str, Any]]:
    return [{"status": status, "body": body}]


def _wrong_shapes() -> list[Case]:
    """2xx answers that are valid JSON of the wrong shape: each is the project's own error, or
    counts as applied when the status alone says so."""
    blueprint_failure = Expect(
        exit_code=1,
        message=("Port entity was not updated", "not as documented"),
        entity=False,
        logs=(START_LOG, REPORTING_LOG),
        patches=0,
    )
    cases = [
        Case(
            "blueprint",
            f"shape-{name}",
            _answer(200, {"ok": True, "blueprint": doc}),
            False,
            blueprint_failure,
        )
        for name, doc in BLUEPRINT_SHAPES.items()
    ]
    cases += [
        # The status says Port applied it; the sandbox did not, so nothing is stored.
        Case("run_patch", "shape-list", _answer(200, [1]), False, Expect(patches=0)),
        Case(
            "run_log",
            "shape-string",
            _answer(201, "str"),
            False,
            Expect(logs=(RESULT_LOG,), absent_logs=(START_LOG,)),
        ),
        Case(
            "upsert",
            "shape-ok-false",
            _answer(200, {"ok": False}),
            False,
            Expect(
                exit_code=1,
                message=("Port entity was not updated", "ok: false"),
                entity=False,
                logs=(START_LOG, RESULT_LOG, REPORTING_LOG),
            ),
        ),
        Case(
            "pd_read",
            "shape-other-incident",
            _answer(200, {"incident": OTHER_INCIDENT}),
            False,
            _pagerduty_failure("not the one asked for"),
        ),
        Case(
            "pd_read",
            "shape-unknown-status",
            _answer(
                200,
                {"incident": {**OTHER_INCIDENT, "id": seed.DEMO_INCIDENT_ID, "status": "closed"}},
            ),
            False,
            _pagerduty_failure("not as documented"),
        ),
        # The answer is not about the incident written: read, not applied, sent again once.
        Case(
            "pd_write",
            "shape-other-incident",
            _answer(200, {"incident": OTHER_INCIDENT}),
            False,
            Expect(),
        ),
        Case(
            "token",
            "shape-token-not-a-header",
            _answer(200, {"ok": True, "accessToken": "t\u00f6k\u20acn-abcdef"}),
            False,
            # Not a Port error status: the failure is reported with the next token minted.
            replace(_port_failure_before("cannot be sent back in a header"), logs=(FAILURE_LOG,)),
        ),
    ]
    return cases


CASES = _cases()
CASES_BY_ID = {case.id: case for case in CASES}
#: The slow cases start first so the waits overlap with the quick ones.
_SLOW = re.compile(r"hang|5xx|429")


@dataclass
class CaseRun:
    """A case's run and what the sandbox held afterwards."""

    case: Case
    result: RunResult
    journal: list[dict[str, Any]]
    state: dict[str, Any]
    #: the run's clock: its retry waits, and the time they would have taken
    clock: SkippingClock

    @property
    def elapsed(self) -> float:
        """The run's time as its deadline saw it: real time plus every retry wait."""
        return self.result.elapsed + self.clock.skipped

    @property
    def logs(self) -> list[str]:
        return [log["message"] for log in self.state["port"]["run_logs"][seed.DEMO_RUN_ID]]

    @property
    def incident(self) -> dict[str, Any]:
        return self.state["pagerduty"]["incidents"][seed.DEMO_INCIDENT_ID]  # type: ignore[no-any-return]

    @property
    def entity(self) -> dict[str, Any]:
        entities = self.state["port"]["entities"]["pagerdutyIncident"]
        return entities[seed.DEMO_INCIDENT_ID]  # type: ignore[no-any-return]

    @property
    def run(self) -> dict[str, Any]:
        return self.state["port"]["runs"][seed.DEMO_RUN_ID]  # type: ignore[no-any-return]


def settled_journal(sandbox: Sandbox, limit: float = 10.0) -> list[dict[str, Any]]:
    """The journal once every request that met a fault has ended (a request is journaled when
    it ends, so one still hanging after the action gave up on it is not there yet)."""
    waited = 0.0
    while True:
        journal = sandbox.journal()
        used = sum(fault["used"] for fault in sandbox.faults.describe()["faults"])
        if sum(1 for entry in journal if entry["fault"]) >= used or waited >= limit:
            return journal
        time.sleep(0.05)
        waited += 0.05


def _execute(case: Case, folder: Path) -> CaseRun:
    with Sandbox(faults=case.faults) as sandbox, use_clock(SkippingClock()) as clock:
        inputs = SEED_CASE | REAL_SHAPED_CREDENTIALS | {"timeout_seconds": str(TIMEOUT)}
        inputs |= case.inputs
        result = run_in_process(sandbox, folder / case.id, **inputs)
        journal = settled_journal(sandbox)
        return CaseRun(case, result, journal, sandbox.state(), clock)


@cache
def _pending() -> dict[str, Future[CaseRun]]:
    """Start every case (slow ones first) in a small pool; each test waits for its own."""
    folder = Path(tempfile.mkdtemp(prefix="escalator-fault-matrix-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # after the pool's threads end
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="fault-matrix")
    ordered = sorted(CASES, key=lambda case: not _SLOW.search(case.fault))
    return {case.id: pool.submit(_execute, case, folder) for case in ordered}


def case_run(case_id: str) -> CaseRun:
    """The finished run of one matrix case (shared with the other test modules)."""
    return _pending()[case_id].result()
