"""Soak: hundreds of escalations in a row against one sandbox, a random fault in most of them.

Each run escalates a random open incident of the sandbox to a random policy (and sometimes a new
urgency) through a fresh Port run, as the GitHub runner would start the action: in this process
through ``escalator.faces.action.main(env, stdout)`` (the default, for speed) or as a subprocess of
``entrypoint.py`` (``--subprocess``). After each run the sandbox's journal and state are checked:

- the reported outcome matches what the services hold: exit 0 means PagerDuty holds the asked
  policy and urgency and ``changed`` says whether it had to change; an incident output after a
  failure means PagerDuty holds it too; no incident output means PagerDuty was not changed; a
  ``port_entity_identifier`` means the Port entity holds the new policy;
- no write was applied twice: at most one applied PagerDuty PUT, one run PATCH, each run log once;
- no piece (8 characters) of a credential or of a Port access token shows up anywhere;
- a failure is expected only when a fault fired that the action does not promise to recover from
  (``docs/failure-matrix.md``); any other failure is a mismatch.

Usage: ``.venv/bin/python scripts/soak.py [--runs 300] [--seed 1] [--with-hangs] [--subprocess]``.
Exits 1 on any mismatch, duplicate write or leak. Only the loopback sandbox is contacted.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from escalator.sandbox import Sandbox, seed  # noqa: E402  # after the path is set
from tests.e2e import RunResult, run_action, run_in_process  # noqa: E402
from tests.matrix import CALLS  # noqa: E402
from tests.matrix import FAULTS as MATRIX_FAULTS  # noqa: E402

OPEN_INCIDENTS = ["Q2LAR4ADCXC8IB", "Q0RIJJZL24RC6W", "PBX7M2Q", "PT4KHLK"]
POLICIES = {
    "PPAYMNT": "Payments On-Call",
    "PPLATFM": "Platform Escalation",
    "PDATAOP": "Data Platform Escalation",
}
#: The fault matrix's calls and faults (tests/matrix.py), hangs apart: they cost seconds.
FAULTS: dict[str, tuple[list[dict[str, Any]], bool]] = {
    name: fault for name, fault in MATRIX_FAULTS.items() if name != "hang"
} | {
    "5xx-with-ratelimit-headers": (
        [{"status": 502, "headers": {"ratelimit-remaining": "900", "ratelimit-reset": "40"}}],
        False,
    )
}
HANGS: dict[str, tuple[list[dict[str, Any]], bool]] = {
    "hang": MATRIX_FAULTS["hang"],
    "hang-after": ([{"fault": "hang_after", "seconds": 4}], False),
}
NO_FAULT_SHARE = 0.25
PIECE = 8
SECRETS = (seed.PAGERDUTY_TOKEN, seed.PORT_CLIENT_ID, seed.PORT_CLIENT_SECRET)


@dataclass
class Figures:
    """What the soak counted."""

    runs: int = 0
    successes: int = 0
    expected_failures: int = 0
    faults_fired: int = 0
    mismatches: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)


class PortSetup:
    """Starts a fresh Port run of the demo action for each escalation (outside the journal)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        answer = self.session.post(
            f"{sandbox.port_url}/v1/auth/access_token",
            json={"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET},
            timeout=5,
        )
        answer.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {answer.json()['accessToken']}"

    def new_run(self, incident_id: str, properties: dict[str, str]) -> str:
        answer = self.session.post(
            f"{self.sandbox.port_url}/v1/actions/{seed.DEMO_ACTION}/runs",
            json={"entity": incident_id, "properties": properties},
            timeout=5,
        )
        answer.raise_for_status()
        return str(answer.json()["run"]["id"])


def pieces(secret: str) -> set[str]:
    """Every 8-character piece of ``secret``."""
    return {secret[i : i + PIECE] for i in range(max(1, len(secret) - PIECE + 1))}


def find_leaks(
    result: RunResult, journal: list[dict[str, Any]], logs: list[str], label: str
) -> list[str]:
    """Where a piece of a credential or of a masked Port token shows up."""
    masked = [line.removeprefix("::add-mask::") for line in result.lines if "::add-mask::" in line]
    secrets = [*SECRETS, *(value for value in masked if value.startswith("sbx-port-at-"))]
    places = {
        "stdout": "\n".join(line for line in result.lines if not line.startswith("::add-mask::")),
        "stderr": result.stderr,
        "outputs": result.outputs_text,
        "summary": result.summary,
        "run logs": "\n".join(logs),
        "requests": "\n".join(
            entry["path"] + json.dumps(entry["query"]) + json.dumps(entry["body"])
            for entry in journal
            if entry["path"] != "/port/v1/auth/access_token"
        ),
    }
    return [
        f"{label}: {place} holds {piece!r}"
        for secret in secrets
        for piece in pieces(secret)
        for place, text in places.items()
        if piece in text
    ]


def applied(journal: list[dict[str, Any]], method: str, prefix: str, suffix: str = "") -> int:
    return sum(
        1
        for entry in journal
        if entry["method"] == method
        and entry["path"].startswith(prefix)
        and entry["path"].endswith(suffix)
        and entry["applied"]
    )


def check_run(
    label: str,
    result: RunResult,
    before: dict[str, Any],
    state: dict[str, Any],
    journal: list[dict[str, Any]],
    asked: dict[str, str],
    run_id: str,
    fault: str,
    figures: Figures,
) -> None:
    """Compare what the run reported with what the services hold; count what is wrong."""
    incident_id = asked["incident_id"]
    incident = state["pagerduty"]["incidents"][incident_id]
    want_policy, want_urgency = asked["escalation_policy_id"], asked["urgency"] or before["urgency"]
    holds = (
        incident["escalation_policy"]["id"] == want_policy and incident["urgency"] == want_urgency
    )
    unchanged = (
        incident["escalation_policy"]["id"] == before["escalation_policy"]["id"]
        and incident["urgency"] == before["urgency"]
    )
    needed = before["escalation_policy"]["id"] != want_policy or before["urgency"] != want_urgency
    outputs = result.outputs
    problems = []
    if result.returncode == 0:
        figures.successes += 1
        if not holds:
            problems.append("exit 0 but PagerDuty does not hold the change")
        if outputs.get("changed") != ("true" if needed else "false"):
            problems.append(f"changed={outputs.get('changed')!r} but a change was needed={needed}")
    elif not recovers(fault):
        figures.expected_failures += 1
    else:
        problems.append(f"failed although the action recovers from it: {result.error_text[:200]!r}")
    if result.returncode != 0:
        if "incident_id" in outputs and not holds:
            problems.append("incident outputs after a failure, but PagerDuty does not hold them")
        if "incident_id" not in outputs and not unchanged:
            problems.append("PagerDuty was changed, but the failure wrote no incident outputs")
    if outputs.get("incident_id") and outputs["incident_id"] != incident_id:
        problems.append(f"incident_id output {outputs['incident_id']!r}")
    if outputs.get("port_entity_identifier"):
        entity = state["port"]["entities"]["pagerdutyIncident"][incident_id]
        if entity["properties"].get("escalation_policy") != POLICIES[want_policy]:
            problems.append("port_entity_identifier set, but the entity lacks the new policy")
    figures.mismatches += [f"{label}: {problem}" for problem in problems]

    puts = applied(journal, "PUT", "/pagerduty/incidents/")
    if puts > (1 if needed else 0):
        figures.duplicates.append(f"{label}: {puts} PagerDuty PUTs applied")
    patches = applied(journal, "PATCH", f"/port/v1/actions/runs/{run_id}")
    if patches > 1:
        figures.duplicates.append(f"{label}: {patches} run PATCHes applied")
    logs = [log["message"] for log in state["port"]["run_logs"][run_id]]
    if len(logs) != len(set(logs)):
        figures.duplicates.append(f"{label}: a run log was stored twice")
    figures.leaks += find_leaks(result, journal, logs, label)


def soak(args: argparse.Namespace) -> Figures:
    rng = random.Random(args.seed)  # noqa: S311  # a reproducible draw of scenarios, not crypto
    faults = FAULTS | (HANGS if args.with_hangs else {})
    figures = Figures()
    runner = run_action if args.subprocess else run_in_process
    with Sandbox() as sandbox, tempfile.TemporaryDirectory(prefix="escalator-soak-") as tmp:
        port = PortSetup(sandbox)
        for index in range(args.runs):
            incident_id = rng.choice(OPEN_INCIDENTS)
            asked = {
                "incident_id": "",
                "escalation_policy_id": rng.choice(list(POLICIES)),
                "urgency": rng.choice(["", "", "high", "low"]),
                "from": seed.FROM_EMAIL,
            }
            run_id = port.new_run(incident_id, {k: v for k, v in asked.items() if v})
            state = sandbox.state()
            before = state["pagerduty"]["incidents"][incident_id]
            service = before["service"]["id"]
            context = {
                "blueprint": "pagerdutyIncident",
                "entity": incident_id,
                "run_id": run_id,
                "relations": {"pagerdutyService": [service]},
            }
            fault_name = "none"
            plan: list[dict[str, Any]] = []
            if rng.random() >= NO_FAULT_SHARE:
                call = rng.choice(list(CALLS))
                fault_name = rng.choice(list(faults))
                steps, repeat = faults[fault_name]
                method, path = CALLS[call]
                plan = [{"method": method, "path": path, "steps": steps, "repeat_last": repeat}]
                fault_name = f"{call}/{fault_name}"
            sandbox.clear_journal()
            sandbox.set_faults(plan)
            inputs = asked | {
                "port_context": json.dumps(context),
                "timeout_seconds": str(args.timeout),
            }
            started = time.monotonic()
            result = runner(sandbox, Path(tmp) / str(index), **inputs)
            figures.durations.append(time.monotonic() - started)
            used = sum(fault["used"] for fault in sandbox.faults.describe()["faults"])
            figures.faults_fired += used > 0
            sandbox.clear_faults()
            journal = settled(sandbox, used)
            fired = fault_name if used else "none"
            label = f"run {index} ({incident_id}, {fault_name})"
            check_run(
                label,
                result,
                before,
                sandbox.state(),
                journal,
                asked | {"incident_id": incident_id},
                run_id,
                fired,
                figures,
            )
            figures.runs += 1
    return figures


def settled(sandbox: Sandbox, faulted: int, limit: float = 6.0) -> list[dict[str, Any]]:
    """The journal once the ``faulted`` requests that met a fault have all ended: a request is
    journaled when it ends, and one held by a hang may outlive the run that sent it."""
    deadline = time.monotonic() + limit
    while True:
        journal = sandbox.journal()
        if sum(1 for entry in journal if entry["fault"]) >= faulted:
            return journal
        if time.monotonic() > deadline:
            return journal
        time.sleep(0.05)


def recovers(fault_name: str) -> bool:
    """Whether the action promises success despite this fault (see docs/failure-matrix.md)."""
    if fault_name == "none":
        return True
    call, fault = fault_name.split("/")
    if fault.startswith("429") or call == "run_log":
        return True  # rate limits are waited out; a lost run log is only a warning
    if fault == "401":
        return call != "token" and call not in ("pd_read", "pd_write")
    if call == "run_patch":
        return fault in ("malformed", "truncated")
    transient = {"5xx-once", "5xx-with-ratelimit-headers", "reset-before", "reset-after"}
    return fault in transient | {"malformed", "truncated", "hang", "hang-after"}


def report(figures: Figures, wall: float) -> None:
    durations = sorted(figures.durations) or [0.0]
    p95 = durations[min(len(durations) - 1, round(0.95 * (len(durations) - 1)))]
    print(f"runs               {figures.runs}")
    print(f"successes          {figures.successes}")
    print(f"expected failures  {figures.expected_failures}")
    print(f"faults that fired  {figures.faults_fired}")
    print(f"mismatches         {len(figures.mismatches)}")
    print(f"duplicate writes   {len(figures.duplicates)}")
    print(f"leaks              {len(figures.leaks)}")
    print(f"wall time          {wall:.1f} s")
    print(f"per run p50 / p95  {statistics.median(durations):.3f} s / {p95:.3f} s")
    for line in (figures.mismatches + figures.duplicates + figures.leaks)[:40]:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="escalations to run (300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--with-hangs", action="store_true", help="include 4 s hangs")
    parser.add_argument(
        "--subprocess", action="store_true", help="run entrypoint.py as a subprocess each time"
    )
    parser.add_argument("--timeout", type=int, default=8, help="timeout_seconds per run (8)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = soak(args)
    report(figures, time.monotonic() - started)
    failed = figures.mismatches or figures.duplicates or figures.leaks
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
