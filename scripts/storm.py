"""Storm: many escalations at once against services that rate limit them, on loopback.

A Port automation or a bulk action over many entities starts many runs at the same moment. This
starts ``--runs`` escalations at once (each its own PagerDuty incident and its own Port run)
through ``escalator.faces.action.main`` in this process, one thread each, against a sandbox that
allows ``--rate`` requests a second to each of PagerDuty and Port and answers the rest 429
(PagerDuty with ``ratelimit-reset: 1``, Port with ``Retry-After: 1``). Retry waits are real.

Afterwards it checks that every run succeeded, that PagerDuty holds the new policy of every
incident, and that no write was applied twice (one PUT per incident, one PATCH per Port run,
each run log once), and prints the figures: runs, successes, requests, 429s, wall time.

Usage: ``.venv/bin/python scripts/storm.py [--runs 40] [--rate 10] [--timeout 120]``.
Exits 1 when a run failed or a write was applied twice. Only the loopback sandbox is contacted.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from escalator.sandbox import Sandbox, seed  # noqa: E402  # after the path is set
from tests.e2e import RunResult, run_in_process  # noqa: E402

SERVICE = "PSVCPAY"  # on the Payments policy
POLICY = "PPLATFM"  # where every run escalates to


@dataclass
class Figures:
    """What the storm counted."""

    runs: int = 0
    successes: int = 0
    requests: int = 0
    rate_limited: int = 0
    wall: float = 0.0
    slowest: float = 0.0
    failures: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


def _send(session: requests.Session, method: str, url: str, body: Any) -> Any:
    """One set-up request, waiting out the sandbox's own rate limit."""
    while True:
        answer = session.request(method, url, json=body, timeout=10)
        if answer.status_code != 429:
            answer.raise_for_status()
            return answer.json()
        time.sleep(float(answer.headers.get("Retry-After") or 1))


def prepare(sandbox: Sandbox, runs: int) -> list[tuple[str, str]]:
    """Open one incident and start one Port run per escalation: (incident id, run id)."""
    pagerduty = requests.Session()
    pagerduty.headers.update(
        {"Authorization": f"Token token={seed.PAGERDUTY_TOKEN}", "From": seed.FROM_EMAIL}
    )
    port = requests.Session()
    token = _send(
        port,
        "POST",
        f"{sandbox.port_url}/v1/auth/access_token",
        {"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET},
    )
    port.headers["Authorization"] = f"Bearer {token['accessToken']}"
    pairs = []
    for index in range(runs):
        incident = {
            "type": "incident",
            "title": f"Storm incident {index}",
            "service": {"id": SERVICE, "type": "service_reference"},
        }
        created = _send(
            pagerduty, "POST", f"{sandbox.pagerduty_url}/incidents", {"incident": incident}
        )
        run = _send(
            port,
            "POST",
            f"{sandbox.port_url}/v1/actions/{seed.DEMO_ACTION}/runs",
            {"properties": {"escalation_policy_id": POLICY}},
        )
        pairs.append((str(created["incident"]["id"]), str(run["run"]["id"])))
    return pairs


def escalate(sandbox: Sandbox, folder: Path, incident_id: str, run_id: str, timeout: int) -> Any:
    """One run, as the runner would start it: escalate ``incident_id`` for Port run ``run_id``."""
    context = {
        "blueprint": "pagerdutyIncident",
        "entity": incident_id,
        "run_id": run_id,
        "relations": {"pagerdutyService": [SERVICE]},
    }
    inputs = {
        "escalation_policy_id": POLICY,
        "from": seed.FROM_EMAIL,
        "port_context": json.dumps(context),
        "timeout_seconds": str(timeout),
    }
    return run_in_process(sandbox, folder / run_id, **inputs)


def check(
    figures: Figures, pairs: list[tuple[str, str]], results: list[RunResult], sandbox: Any
) -> None:
    """Count successes and every write applied more than once."""
    state = sandbox.state()
    for (incident_id, run_id), result in zip(pairs, results, strict=True):
        incident = state["pagerduty"]["incidents"][incident_id]
        if result.returncode == 0 and incident["escalation_policy"]["id"] == POLICY:
            figures.successes += 1
        else:
            why = (result.error_text or "policy not set").splitlines()[0]
            figures.failures.append(f"{incident_id}: {why}")
        logs = [log["message"] for log in state["port"]["run_logs"][run_id]]
        if len(logs) != len(set(logs)):
            figures.duplicates.append(f"run {run_id}: a log stored twice")
    applied = Counter(
        (entry["method"], entry["path"])
        for entry in sandbox.journal()
        if entry["applied"] and entry["method"] in ("PUT", "PATCH")
    )
    figures.duplicates += [
        f"{method} {path} x{n}" for (method, path), n in applied.items() if n > 1
    ]


def storm(runs: int, rate: int, timeout: int) -> Figures:
    """Run the storm and return its figures."""
    figures = Figures(runs=runs)
    limits = {"pagerduty_rate_limit": rate, "port_rate_limit": rate, "rate_window": 1.0}
    with Sandbox(**limits) as sandbox, tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        pairs = prepare(sandbox, runs)
        time.sleep(1.0)  # a fresh rate window for the storm
        sandbox.clear_journal()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=runs, thread_name_prefix="storm") as pool:
            futures = [
                pool.submit(escalate, sandbox, Path(tmp), incident_id, run_id, timeout)
                for incident_id, run_id in pairs
            ]
            results = [future.result() for future in futures]
        figures.wall = time.monotonic() - started
        figures.slowest = max(result.elapsed for result in results)
        journal = sandbox.journal()
        figures.requests = len(journal)
        figures.rate_limited = sum(1 for entry in journal if entry["status"] == 429)
        check(figures, pairs, results, sandbox)
    return figures


def report(figures: Figures, rate: int, timeout: int) -> None:
    """Print the figures, then each failure and duplicate."""
    print(
        f"storm: {figures.runs} runs at once, {rate} requests/s per service, deadline {timeout} s"
    )
    print(f"  successes    {figures.successes}/{figures.runs}")
    print(f"  requests     {figures.requests} ({figures.rate_limited} answered 429)")
    print(f"  wall         {figures.wall:.1f} s (slowest run {figures.slowest:.1f} s)")
    print(f"  duplicated writes {len(figures.duplicates)}")
    for line in figures.failures[:10] + figures.duplicates[:10]:
        print(f"  - {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs started at once (40)")
    parser.add_argument("--rate", type=int, default=10, help="requests/s per service (10)")
    parser.add_argument("--timeout", type=int, default=120, help="each run's deadline, s (120)")
    args = parser.parse_args(argv)
    figures = storm(args.runs, args.rate, args.timeout)
    report(figures, args.rate, args.timeout)
    return 0 if figures.successes == figures.runs and not figures.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
