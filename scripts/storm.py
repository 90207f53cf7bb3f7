"""Storm: many runs at once against services that rate limit them, on loopback.

A Port automation or a bulk action over many entities starts many runs at the same moment. This
starts ``--runs`` runs at once (each its own Port run and its own target) through
``escalator.faces.action.main`` in this process, one thread each, against a sandbox that allows
``--rate`` requests a second to each of PagerDuty and Port, and ``--events-rate`` events a second
per routing key to the Events API, and answers the rest 429 (PagerDuty with
``ratelimit-reset: 1``, Port with ``Retry-After: 1``, the Events API with no hint). Retry waits
are real.

``--operation`` names what the runs do, one operation or several separated by commas (the runs
take them in turn), or ``mix`` for all four:

- ``escalate``: each run its own incident, escalated to one policy;
- ``override``: each run its own schedule window (two hours apart) and user;
- ``create-service``: each run its own service name;
- ``trigger``: each run its own dedup key, on one service's integration, with a REST token (the
  incident is read before and after the event).

Afterwards it checks that every run succeeded and that no write landed twice (one PUT per
incident, one PATCH per Port run, each run log once; one override per run; one service and one
integration per name; one incident per dedup key), and prints the figures: runs, successes,
requests, 429s, wall time.

Usage: ``.venv/bin/python scripts/storm.py [--operation escalate] [--runs 40] [--rate 10]
[--events-rate N] [--timeout 120]``. Exits 1 when a run failed or a write landed twice. Only
the loopback sandbox is contacted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from escalator.kit.definitions import action_template  # noqa: E402  # after the path is set
from escalator.sandbox import Sandbox, seed  # noqa: E402
from escalator.sandbox.services import SEEDED_INTEGRATIONS  # noqa: E402
from tests.e2e import RunResult, run_in_process  # noqa: E402

SERVICE = "PSVCPAY"  # on the Payments policy, with an Events API v2 integration
POLICY = "PPLATFM"  # where every escalation goes
SERVICE_POLICY = "PPAYMNT"  # the policy of every service created
ROUTING_KEY = next(key for service, _, key in SEEDED_INTEGRATIONS if service == SERVICE)
SCHEDULES = ("PSC7PAY", "PSC4PLT", "PSC3SEC", "PSC9REL")  # v2 schedules
USERS = ("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")
OPERATIONS = ("escalate", "override", "create-service", "trigger")


@dataclass
class Target:
    """One run's own target: its operation, Port run, inputs, and what it must leave behind."""

    operation: str
    run_id: str
    key: str  # the incident id, "<schedule> <user> <start> <end>", the service name, the dedup key
    inputs: dict[str, str]


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


class Setup:
    """Sessions to the sandbox for preparing the runs (their incidents and Port runs)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.pagerduty = requests.Session()
        self.pagerduty.headers.update(
            {"Authorization": f"Token token={seed.PAGERDUTY_TOKEN}", "From": seed.FROM_EMAIL}
        )
        self.port = requests.Session()
        body = {"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET}
        url = f"{sandbox.port_url}/v1/auth/access_token"
        token = _send(self.port, "POST", url, body)
        self.port.headers["Authorization"] = f"Bearer {token['accessToken']}"
        self.base = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
        self.base += dt.timedelta(days=1)

    def run(self, operation: str) -> str:
        """Start a Port run of ``operation``'s kit action; return its id."""
        action = action_template(operation)["identifier"]
        url = f"{self.sandbox.port_url}/v1/actions/{action}/runs"
        return str(_send(self.port, "POST", url, {"properties": {}})["run"]["id"])

    def incident(self, index: int) -> str:
        """Open an incident on SERVICE; return its id."""
        incident = {
            "type": "incident",
            "title": f"Storm incident {index}",
            "service": {"id": SERVICE, "type": "service_reference"},
        }
        url = f"{self.sandbox.pagerduty_url}/incidents"
        return str(_send(self.pagerduty, "POST", url, {"incident": incident})["incident"]["id"])


def _context(blueprint: str, run_id: str, entity: str | None = None) -> str:
    return json.dumps({"blueprint": blueprint, "entity": entity, "run_id": run_id})


def escalate_target(setup: Setup, index: int) -> Target:
    """Escalate an incident of its own to POLICY."""
    incident_id, run_id = setup.incident(index), setup.run("escalate")
    context = {
        "blueprint": "pagerdutyIncident",
        "entity": incident_id,
        "run_id": run_id,
        "relations": {"pagerdutyService": [SERVICE]},
    }
    inputs = {"escalation_policy_id": POLICY, "port_context": json.dumps(context)}
    return Target("escalate", run_id, incident_id, inputs)


def override_target(setup: Setup, index: int) -> Target:
    """Take a schedule's pager for an hour of its own (two hours after the run before's)."""
    schedule, user = SCHEDULES[index % len(SCHEDULES)], USERS[index % len(USERS)]
    start = setup.base + dt.timedelta(hours=2 * index)
    end = start + dt.timedelta(hours=1)
    run_id = setup.run("override")
    inputs = {
        "operation": "override",
        "schedule_id": schedule,
        "oncall_user": user,
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "port_context": _context("pagerdutySchedule", run_id, schedule),
    }
    key = f"{schedule} {user} {inputs['start']} {inputs['end']}"
    return Target("override", run_id, key, inputs)


def service_target(setup: Setup, index: int) -> Target:
    """Create a service of its own name, with its integration."""
    run_id, name = setup.run("create-service"), f"Storm service {index:03d}"
    inputs = {
        "operation": "create-service",
        "service_name": name,
        "escalation_policy_id": SERVICE_POLICY,
        "port_context": _context("pagerdutyService", run_id),
    }
    return Target("create-service", run_id, name, inputs)


def trigger_target(setup: Setup, index: int) -> Target:
    """Trigger an alert with a dedup key of its own on SERVICE's integration."""
    run_id, dedup_key = setup.run("trigger"), f"storm-{index:03d}-{uuid.uuid4().hex[:8]}"
    inputs = {
        "operation": "trigger",
        "routing_key": ROUTING_KEY,
        "dedup_key": dedup_key,
        "title": f"Storm alert {index}",
        "port_context": _context("pagerdutyService", run_id, SERVICE),
    }
    return Target("trigger", run_id, dedup_key, inputs)


TARGETS: dict[str, Callable[[Setup, int], Target]] = {
    "escalate": escalate_target,
    "override": override_target,
    "create-service": service_target,
    "trigger": trigger_target,
}


# --- what each run must leave behind -------------------------------------------------------


def escalated(target: Target, state: dict[str, Any]) -> tuple[bool, list[str]]:
    """The incident is on POLICY (one PUT each is checked over the whole journal)."""
    incident = state["pagerduty"]["incidents"][target.key]
    return incident["escalation_policy"]["id"] == POLICY, []


def overridden(target: Target, state: dict[str, Any]) -> tuple[bool, list[str]]:
    """Exactly one override of the run's user and window on its schedule."""
    schedule, email, start, end = target.key.split(" ")
    users = {user["id"] for user in state["pagerduty"]["users"].values() if user["email"] == email}
    found = [
        item
        for item in state["pagerduty"]["overrides"][schedule]
        if item["user"]["id"] in users and (item["start"], item["end"]) == (start, end)
    ]
    twice = [f"override {target.key} x{len(found)}"] if len(found) > 1 else []
    return len(found) == 1, twice


def service_created(target: Target, state: dict[str, Any]) -> tuple[bool, list[str]]:
    """Exactly one service of the run's name (ignoring case), with one Events v2 integration."""
    pd = state["pagerduty"]
    named = [s for s in pd["services"].values() if s["name"].lower() == target.key.lower()]
    twice = [f"service {target.key!r} x{len(named)}"] if len(named) > 1 else []
    if len(named) != 1:
        return False, twice
    ids = {item["id"] for item in named[0]["integrations"]}
    events = [i for i in ids if pd["integrations"][i]["type"].startswith("events_api_v2")]
    if len(events) > 1:
        twice.append(f"integration of {target.key!r} x{len(events)}")
    return len(events) == 1, twice


def triggered(target: Target, state: dict[str, Any]) -> tuple[bool, list[str]]:
    """Exactly one incident holds the run's dedup key."""
    incidents = state["pagerduty"]["incidents"].values()
    found = [i for i in incidents if i.get("incident_key") == target.key]
    twice = [f"incident of dedup key {target.key} x{len(found)}"] if len(found) > 1 else []
    return len(found) == 1, twice


LANDED: dict[str, Callable[[Target, dict[str, Any]], tuple[bool, list[str]]]] = {
    "escalate": escalated,
    "override": overridden,
    "create-service": service_created,
    "trigger": triggered,
}


def check(figures: Figures, targets: list[Target], results: list[RunResult], sandbox: Any) -> None:
    """Count successes and every write that landed more than once."""
    state = sandbox.state()
    for target, result in zip(targets, results, strict=True):
        landed, twice = LANDED[target.operation](target, state)
        figures.duplicates += twice
        if result.returncode == 0 and landed:
            figures.successes += 1
        else:
            why = (result.error_text or "its write did not land").splitlines()[0]
            figures.failures.append(f"{target.operation} {target.key}: {why}")
        logs = [log["message"] for log in state["port"]["run_logs"][target.run_id]]
        if len(logs) != len(set(logs)):
            figures.duplicates.append(f"run {target.run_id}: a log stored twice")
    applied = Counter(
        (entry["method"], entry["path"])
        for entry in sandbox.journal()
        if entry["applied"] and entry["method"] in ("PUT", "PATCH")
    )
    figures.duplicates += [
        f"{method} {path} x{n}" for (method, path), n in applied.items() if n > 1
    ]


# --- the storm -----------------------------------------------------------------------------


def operations(spec: str) -> list[str]:
    """The operations named by ``--operation``: one, several separated by commas, or ``mix``."""
    names = list(OPERATIONS) if spec == "mix" else [n.strip() for n in spec.split(",")]
    unknown = [name for name in names if name not in OPERATIONS]
    if unknown or not names:
        raise ValueError(
            f"--operation {spec!r}: use one of {', '.join(OPERATIONS)}, several separated by "
            "commas, or mix"
        )
    return names


def prepare(sandbox: Sandbox, runs: int, names: list[str]) -> list[Target]:
    """One target and one Port run per run, the operations taken in turn."""
    setup = Setup(sandbox)
    return [TARGETS[names[index % len(names)]](setup, index) for index in range(runs)]


def start(sandbox: Sandbox, folder: Path, target: Target, timeout: int) -> RunResult:
    """One run, as the runner would start it."""
    inputs = target.inputs | {"from": seed.FROM_EMAIL, "timeout_seconds": str(timeout)}
    return run_in_process(sandbox, folder / target.run_id, **inputs)


def storm(
    runs: int, rate: int, timeout: int, names: list[str], events_rate: int | None = None
) -> Figures:
    """Run the storm and return its figures."""
    figures = Figures(runs=runs)
    limits = {
        "blueprint_shape": "integration",  # the on-call entity has its blueprint there
        "pagerduty_rate_limit": rate,
        "port_rate_limit": rate,
        "events_rate_limit": events_rate or rate,
        "rate_window": 1.0,
    }
    with Sandbox(**limits) as sandbox, tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        targets = prepare(sandbox, runs, names)
        time.sleep(1.0)  # a fresh rate window for the storm
        sandbox.clear_journal()
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=runs, thread_name_prefix="storm") as pool:
            futures = [
                pool.submit(start, sandbox, Path(tmp), target, timeout) for target in targets
            ]
            results = [future.result() for future in futures]
        figures.wall = time.monotonic() - started
        figures.slowest = max(result.elapsed for result in results)
        journal = sandbox.journal()
        figures.requests = len(journal)
        figures.rate_limited = sum(1 for entry in journal if entry["status"] == 429)
        check(figures, targets, results, sandbox)
    return figures


def report(figures: Figures, names: list[str], rate: int, events_rate: int, timeout: int) -> None:
    """Print the figures, then each failure and duplicate."""
    print(
        f"storm: {figures.runs} runs at once ({', '.join(names)}), {rate} requests/s per "
        f"service, {events_rate} events/s per routing key, deadline {timeout} s"
    )
    print(f"  successes    {figures.successes}/{figures.runs}")
    print(f"  requests     {figures.requests} ({figures.rate_limited} answered 429)")
    print(f"  wall         {figures.wall:.1f} s (slowest run {figures.slowest:.1f} s)")
    print(f"  duplicated writes {len(figures.duplicates)}")
    for line in figures.failures[:10] + figures.duplicates[:10]:
        print(f"  - {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--operation",
        default="escalate",
        help=f"{', '.join(OPERATIONS)}, several separated by commas, or mix (escalate)",
    )
    parser.add_argument("--runs", type=int, default=40, help="runs started at once (40)")
    parser.add_argument("--rate", type=int, default=10, help="requests/s per service (10)")
    parser.add_argument(
        "--events-rate", type=int, default=None, help="events/s per routing key (--rate)"
    )
    parser.add_argument("--timeout", type=int, default=120, help="each run's deadline, s (120)")
    args = parser.parse_args(argv)
    try:
        names = operations(args.operation)
    except ValueError as exc:
        parser.error(str(exc))
    events_rate = args.events_rate or args.rate
    figures = storm(args.runs, args.rate, args.timeout, names, events_rate)
    report(figures, names, args.rate, events_rate, args.timeout)
    return 0 if figures.successes == figures.runs and not figures.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
