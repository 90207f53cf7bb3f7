"""Benchmark one escalation against the sandbox, beside the seed-shaped chain it replaces.

    .venv/bin/python scripts/benchmark.py [--runs 15] [--latency 0.1] [--json] [--skip-size]
        [--operations escalate,acknowledge,...|all]

What it does, in one invocation and against one sandbox:

1. runs the action ``--runs`` times exactly as the runner starts it: a new process each time,
   ``python entrypoint.py`` from a copy laid out as the image lays it out (``escalator/`` and
   ``entrypoint.py`` side by side, compiled as the Dockerfile compiles it,
   ``PYTHONDONTWRITEBYTECODE=1``), with the runner's
   environment (``INPUT_*`` for every input of ``action.yml``, its defaults included, and the
   ``GITHUB_*`` variables and files);
2. runs, alternating with it, the seed-shaped chain: five processes of ``baseline_step.py``
   (log, PUT, log, upsert, log), strictly one after the other, each Port step with its own token;
3. repeats both with ``--latency`` seconds added by the sandbox to every request;
4. with ``--operations``, runs each other operation of :data:`CASES` as well, in the same rounds
   (the first one listed is the one the targets and the text's main table are about);
5. measures the installed size of the runtime dependencies (a throwaway venv built from
   ``requirements.txt``; cached; ``--skip-size`` to skip).

Every count comes from the sandbox's journal: requests, tokens, run logs, connections per service
(distinct client ``host:port``), and sequential round trips (the longest chain of requests where
each starts after the previous one ended; the critical path leaves out run logs, which the action
sends from a background thread). Time to first request is the first journal ``started`` minus the
moment the parent spawned the process (both ``time.monotonic()``, one clock for every process on
Linux). CPU time and peak memory (max RSS) come from ``os.wait4`` on each process; for the chain,
CPU is the sum over its five processes and memory the largest of them.

Nothing here is a test: figures are noisy on a shared machine, and the ratios are computed within
one invocation so that both sides see the same machine.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from escalator.sandbox import Sandbox, seed  # noqa: E402  # after the path is set

SEED_CHAIN_SECONDS = 0.52  # the seed workflow in five Node processes (docs: API facts, section 5)
SIZE_CACHE = Path(tempfile.gettempdir()) / "escalate-action-benchmark"
SERVICES = ("pagerduty", "port")
#: The operations the benchmark can run beside the chain: each one's inputs over the shared ones
#: (the sandbox's demo incident and run, its credentials and URLs, action.yml's defaults). The
#: sandbox is reset before every run, so each run changes the seeded state alike. Adding an
#: operation is a line here.
#: A case is named after its operation unless its inputs name one.
CASES: dict[str, dict[str, str]] = {
    "escalate": {"escalation_policy_id": "PPLATFM", "urgency": "low"},
    "acknowledge": {},
    "note": {"note": "Rolled back the release"},
    "override": {  # the demo user takes the pager of a seeded schedule for 4 hours
        "end": "4h",
        "port_context": json.dumps(
            {"blueprint": "pagerdutySchedule", "entity": "PSC7PAY", "run_id": seed.DEMO_RUN_ID}
        ),
    },
    "trigger": {  # an alert on payments-api through the Events API v2, from its service entity
        "routing_key": "a3f1c9e27b4d4e5f8c6a0b1d2e3f4a5b",
        "title": "Disk full on db-1",
        "severity": "critical",
        "port_context": json.dumps(
            {"blueprint": "pagerdutyService", "entity": "PSVCPAY", "run_id": seed.DEMO_RUN_ID}
        ),
    },
    "escalate+finish": {
        "operation": "escalate",
        "escalation_policy_id": "PPLATFM",
        "urgency": "low",
        "finish_port_run": "true",
    },
}
TARGETS = {
    "requests": 8,  # 7, plus the blueprint read that shapes the entity
    "tokens": 1,
    "critical_round_trips": 3,
    "connections_per_service": 1,
    "wall_ratio": 0.25,
    "wall_ratio_latency": 0.35,
}


# --- measuring one process ----------------------------------------------------------------------


@dataclass
class Process:
    """One finished child process: when it was spawned, how long, how much CPU and memory."""

    spawned: float
    wall: float
    cpu: float
    max_rss_kib: int
    returncode: int
    stdout: str
    stderr: str


def run_process(argv: Sequence[str], env: dict[str, str], cwd: Path) -> Process:
    """Spawn ``argv`` and reap it with ``wait4``, which gives this child's own resource usage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        spawned = time.monotonic()
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        ended = time.monotonic()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Process(
            spawned=spawned,
            wall=ended - spawned,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss_kib=usage.ru_maxrss,  # KiB on Linux
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


# --- reading the journal ------------------------------------------------------------------------


def service_of(entry: dict[str, Any]) -> str:
    """``pagerduty`` or ``port``, from the sandbox path prefix."""
    return str(entry["path"]).split("/", 2)[1]


def is_token(entry: dict[str, Any]) -> bool:
    """A Port access-token request."""
    return bool(entry["method"] == "POST" and entry["path"].endswith("/v1/auth/access_token"))


def is_run_log(entry: dict[str, Any]) -> bool:
    """A Port run log: off the action's critical path."""
    return bool(entry["method"] == "POST" and entry["path"].endswith("/logs"))


def sequential_round_trips(entries: Iterable[dict[str, Any]]) -> int:
    """The longest chain of requests in which each starts after the previous one ended."""
    ordered = sorted(entries, key=lambda entry: entry["started"])
    chain: list[int] = []
    for i, entry in enumerate(ordered):
        before = [chain[j] for j in range(i) if ordered[j]["ended"] <= entry["started"]]
        chain.append(1 + max(before, default=0))
    return max(chain, default=0)


def journal_figures(journal: list[dict[str, Any]], spawned: float) -> dict[str, Any]:
    """Requests, tokens, logs, connections and round trips of one escalation."""
    connections = {
        service: len({e["connection"] for e in journal if service_of(e) == service})
        for service in SERVICES
    }
    return {
        "requests": len(journal),
        "requests_by_service": {
            service: sum(1 for e in journal if service_of(e) == service) for service in SERVICES
        },
        "tokens": sum(1 for e in journal if is_token(e)),
        "run_logs": sum(1 for e in journal if is_run_log(e)),
        "connections": sum(connections.values()),
        "connections_by_service": connections,
        "critical_round_trips": sequential_round_trips(e for e in journal if not is_run_log(e)),
        "round_trips_with_logs": sequential_round_trips(journal),
        "first_request_s": min(e["started"] for e in journal) - spawned if journal else None,
        "failed_requests": sum(1 for e in journal if not 200 <= (e["status"] or 0) < 300),
    }


def slim(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journal fields the report is computed from (no bodies, no headers)."""
    keys = ("started", "ended", "connection", "method", "path", "status")
    return [{key: entry[key] for key in keys} for entry in journal]


# --- the two sides ------------------------------------------------------------------------------


@dataclass
class Escalation:
    """One escalation as measured: process figures plus the journal's."""

    wall: float
    cpu: float
    max_rss_kib: int
    processes: int
    figures: dict[str, Any]
    journal: list[dict[str, Any]] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "max_rss_mib": self.max_rss_kib / 1024,
            "processes": self.processes,
            **self.figures,
            "journal": self.journal,
        }


class Bench:
    """The staged action, the runner's environment and the sandbox the runs go against."""

    def __init__(self, sandbox: Sandbox, python: str, workdir: Path) -> None:
        self.sandbox = sandbox
        self.python = python
        self.workdir = workdir
        self.action_dir = workdir / "action"
        self.workspace = workdir / "workspace"
        self.runner_files = workdir / "runner"
        for folder in (self.workspace, self.runner_files, workdir / "home"):
            folder.mkdir(parents=True)
        # As the image has it: the package and the entrypoint side by side, the package compiled
        # at build time (the Dockerfile's compileall), none written at run time.
        shutil.copytree(
            ROOT / "escalator",
            self.action_dir / "escalator",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        shutil.copy2(ROOT / "entrypoint.py", self.action_dir / "entrypoint.py")
        compileall.compile_dir(self.action_dir / "escalator", quiet=1)

    def action_env(self, operation: str = "escalate") -> dict[str, str]:
        """What the runner gives the container for the case ``operation`` (a key of
        :data:`CASES`): every input (defaults too) and GITHUB_*."""
        for name in ("output", "summary", "env", "event.json"):
            (self.runner_files / name).write_text("{}" if name == "event.json" else "")
        metadata = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
        values = {name: str(spec.get("default", "")) for name, spec in metadata["inputs"].items()}
        values.update(
            port_context=json.dumps(
                {
                    "blueprint": "pagerdutyIncident",
                    "entity": seed.DEMO_INCIDENT_ID,
                    "run_id": seed.DEMO_RUN_ID,
                    "relations": {},
                }
            ),
            pagerduty_token=seed.PAGERDUTY_TOKEN,
            pagerduty_api_url=self.sandbox.pagerduty_url,
            port_client_id=seed.PORT_CLIENT_ID,
            port_client_secret=seed.PORT_CLIENT_SECRET,
            port_api_url=self.sandbox.port_url,
            pagerduty_events_url=self.sandbox.events_url,
            **{"from": seed.FROM_EMAIL},
        )
        values.update({"operation": operation, **CASES[operation]})
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_REPOSITORY": "example/incident-workflows",
            "GITHUB_RUN_ID": "1000000001",
            "GITHUB_RUN_ATTEMPT": "1",
            "GITHUB_JOB": "escalate-incident",
            "GITHUB_WORKFLOW": "Escalate PagerDuty Incident",
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(self.runner_files / "output"),
            "GITHUB_STEP_SUMMARY": str(self.runner_files / "summary"),
            "GITHUB_ENV": str(self.runner_files / "env"),
            "GITHUB_EVENT_PATH": str(self.runner_files / "event.json"),
            "RUNNER_OS": "Linux",
            "RUNNER_NAME": "benchmark",
            "RUNNER_TEMP": str(self.runner_files),
            # The image's own environment (Dockerfile ENV).
            "PYTHONPATH": str(self.action_dir),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(
            {"INPUT_" + name.replace(" ", "_").upper(): value for name, value in values.items()}
        )
        return env

    def baseline_env(self) -> dict[str, str]:
        """What each step of the chain gets: its ``with:`` values."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.workdir / "home"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PAGERDUTY_URL": self.sandbox.pagerduty_url,
            "PAGERDUTY_TOKEN": seed.PAGERDUTY_TOKEN,
            "FROM_EMAIL": seed.FROM_EMAIL,
            "INCIDENT_ID": seed.DEMO_INCIDENT_ID,
            "ESCALATION_POLICY_ID": "PPLATFM",
            "URGENCY": "low",
            "PORT_URL": self.sandbox.port_url,
            "PORT_CLIENT_ID": seed.PORT_CLIENT_ID,
            "PORT_CLIENT_SECRET": seed.PORT_CLIENT_SECRET,
            "RUN_ID": seed.DEMO_RUN_ID,
            "BLUEPRINT": "pagerdutyIncident",
        }

    def _fresh(self) -> None:
        self.sandbox.reset()  # the incident back on its first policy: every run writes
        self.sandbox.clear_journal()

    def action(self, operation: str = "escalate") -> Escalation:
        """One run of ``operation`` by the action, as the runner starts it."""
        self._fresh()
        env = self.action_env(operation)
        process = run_process(
            [self.python, str(self.action_dir / "entrypoint.py")], env, self.workspace
        )
        if process.returncode != 0:
            raise RuntimeError(f"the action failed:\n{process.stdout}\n{process.stderr}")
        journal = self.sandbox.journal()
        return Escalation(
            wall=process.wall,
            cpu=process.cpu,
            max_rss_kib=process.max_rss_kib,
            processes=1,
            figures=journal_figures(journal, process.spawned),
            journal=slim(journal),
        )

    def baseline(self) -> Escalation:
        """One escalation by the seed-shaped chain: five processes, strictly sequential."""
        self._fresh()
        env = self.baseline_env()
        answer = self.workdir / "put-response.json"
        script = str(ROOT / "scripts" / "baseline_step.py")
        steps = [
            ("log", "About to escalate incident in PagerDuty..."),
            ("pagerduty", str(answer)),
            ("log", "Reporting the escalated incident back to Port ..."),
            ("upsert", str(answer)),
            ("log", "Incident escalation process was successful"),
        ]
        processes: list[Process] = []
        for kind, argument in steps:
            process = run_process([self.python, script, kind, argument], env, self.workdir)
            if process.returncode != 0:
                raise RuntimeError(f"baseline step {kind} failed:\n{process.stderr}")
            processes.append(process)
        journal = self.sandbox.journal()
        last = processes[-1]
        return Escalation(
            wall=last.spawned + last.wall - processes[0].spawned,
            cpu=sum(p.cpu for p in processes),
            max_rss_kib=max(p.max_rss_kib for p in processes),
            processes=len(processes),
            figures=journal_figures(journal, processes[0].spawned),
            journal=slim(journal),
        )


# --- statistics and the report ------------------------------------------------------------------


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles, min and max."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {
        "median": statistics.median(ordered),
        "q1": q1,
        "q3": q3,
        "min": ordered[0],
        "max": ordered[-1],
    }


METRICS: dict[str, Callable[[dict[str, Any]], float]] = {
    "wall_s": lambda run: run["wall_s"],
    "cpu_s": lambda run: run["cpu_s"],
    "max_rss_mib": lambda run: run["max_rss_mib"],
    "first_request_s": lambda run: run["first_request_s"],
    "requests": lambda run: run["requests"],
    "tokens": lambda run: run["tokens"],
    "run_logs": lambda run: run["run_logs"],
    "connections": lambda run: run["connections"],
    "connections_pagerduty": lambda run: run["connections_by_service"]["pagerduty"],
    "connections_port": lambda run: run["connections_by_service"]["port"],
    "critical_round_trips": lambda run: run["critical_round_trips"],
    "round_trips_with_logs": lambda run: run["round_trips_with_logs"],
}


def summarise(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each metric's spread over the runs."""
    return {name: spread([pick(run) for run in runs]) for name, pick in METRICS.items()}


def phase(
    bench: Bench, runs: int, latency: float, operations: Sequence[str] = ("escalate",)
) -> dict[str, Any]:
    """``runs`` rounds with ``latency`` added to every request: in each, one run of every
    operation by the action, then one of the chain. ``action`` is the first operation's."""
    bench.sandbox.set_faults([], latency)
    by_operation: dict[str, list[dict[str, Any]]] = {name: [] for name in operations}
    baseline: list[dict[str, Any]] = []
    for _ in range(runs):
        for name, done in by_operation.items():
            done.append(bench.action(name).as_dict())
        baseline.append(bench.baseline().as_dict())
    bench.sandbox.clear_faults()
    baseline_summary = summarise(baseline)
    measured = {}
    for name, done in by_operation.items():
        summary = summarise(done)
        ratio = summary["wall_s"]["median"] / baseline_summary["wall_s"]["median"]
        measured[name] = {"summary": summary, "runs": done, "wall_ratio": ratio}
    first = measured[operations[0]]
    return {
        "latency_s": latency,
        "runs": runs,
        "operation": operations[0],
        "action": {"summary": first["summary"], "runs": first["runs"]},
        "baseline": {"summary": baseline_summary, "runs": baseline},
        "wall_ratio": first["wall_ratio"],
        "operations": measured,
    }


# --- installed size -----------------------------------------------------------------------------

SIZE_PROBE = r"""
import json, re, sys
from importlib import metadata
from pip._vendor.packaging.requirements import Requirement

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

sizes, requires = {}, {}
for dist in metadata.distributions():
    name = norm(dist.metadata["Name"])
    if name in ("pip", "setuptools"):
        continue
    sizes[name] = sum(f.locate().stat().st_size for f in dist.files or () if f.locate().is_file())
    requires[name] = [Requirement(text) for text in dist.requires or ()]

def closure(roots):
    # (distribution, extra) pairs: an extra such as pyjwt[crypto] pulls in its own requirements
    seen, todo = set(), [(root, "") for root in roots]
    while todo:
        name, extra = todo.pop()
        if (name, extra) in seen or name not in sizes:
            continue
        seen.add((name, extra))
        for requirement in requires[name]:
            if requirement.marker is None or requirement.marker.evaluate({"extra": extra}):
                target = norm(requirement.name)
                todo.append((target, ""))
                todo.extend((target, wanted) for wanted in requirement.extras)
    return {name for name, _ in seen}

github_only = closure({"pygithub"}) - closure({"requests", "pydantic"})
json.dump({"distributions": sizes, "github_only": sorted(github_only)}, sys.stdout)
"""


def installed_size(cache_root: Path) -> dict[str, Any]:
    """Sizes of the runtime dependencies as a fresh venv installs them; cached per lock file."""
    lock = ROOT / "requirements.txt"
    if lock.is_file():
        source = lock.read_bytes()
        install = ["--require-hashes", "-r", str(lock)]
        described = "pip install --require-hashes -r requirements.txt"
    else:
        source = b"requests pydantic PyGithub"
        install = ["requests", "pydantic", "PyGithub"]
        described = "pip install requests pydantic PyGithub (no requirements.txt)"
    key = hashlib.sha256(source + sys.version.encode() + SIZE_PROBE.encode()).hexdigest()[:16]
    folder = cache_root / f"runtime-{key}"
    cached = folder / "size.json"
    if cached.is_file():
        return {**json.loads(cached.read_text(encoding="utf-8")), "cached": True}
    venv = folder / "venv"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *install],
        check=True,
    )
    probe = subprocess.run(
        [python, "-I", "-c", SIZE_PROBE], check=True, capture_output=True, text=True, cwd=folder
    )
    found = json.loads(probe.stdout)
    sizes: dict[str, int] = found["distributions"]
    package = ROOT / "escalator"
    own = {
        "escalator": sum(
            p.stat().st_size for p in package.rglob("*.py") if "__pycache__" not in p.parts
        ),
        "escalator_sandbox": sum(p.stat().st_size for p in (package / "sandbox").rglob("*.py")),
    }
    result = {
        "how": described,
        "python": platform.python_version(),
        "distributions": dict(sorted(sizes.items(), key=lambda item: -item[1])),
        "total_bytes": sum(sizes.values()),
        "github_only": found["github_only"],
        "github_only_bytes": sum(sizes[name] for name in found["github_only"]),
        "escalator_source_bytes": own,
    }
    cached.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return {**result, "cached": False}


# --- output -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def targets(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Each target of the issue, the figure measured for it, and whether it is met."""
    plain, slow = report["phases"]
    a0, a1 = plain["action"]["summary"], slow["action"]["summary"]
    worst_connections = max(
        a0["connections_pagerduty"]["max"],
        a0["connections_port"]["max"],
        a1["connections_pagerduty"]["max"],
        a1["connections_port"]["max"],
    )
    return [
        (
            f"requests per escalation <= {TARGETS['requests']}",
            f"{a1['requests']['max']:g}",
            a1["requests"]["max"] <= TARGETS["requests"],
        ),
        ("one Port token", f"{a1['tokens']['max']:g}", a1["tokens"]["max"] <= TARGETS["tokens"]),
        (
            "critical path <= 3 round trips (with latency)",
            f"{a1['critical_round_trips']['median']:g}",
            a1["critical_round_trips"]["median"] <= TARGETS["critical_round_trips"],
        ),
        (
            "one connection per service",
            f"{worst_connections:g} at most",
            worst_connections <= TARGETS["connections_per_service"],
        ),
        (
            "wall <= 0.25 x chain",
            f"{plain['wall_ratio']:.2f}",
            plain["wall_ratio"] <= TARGETS["wall_ratio"],
        ),
        (
            f"wall <= 0.35 x chain with {slow['latency_s']:g} s latency",
            f"{slow['wall_ratio']:.2f}",
            slow["wall_ratio"] <= TARGETS["wall_ratio_latency"],
        ),
    ]


def render(report: dict[str, Any]) -> str:
    """The report as text."""
    m = report["machine"]
    lines = [
        f"escalate-action benchmark: {report['runs']} runs per side and latency, {m['date']}",
        f"machine: {m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, load "
        + " ".join(f"{x:.2f}" for x in m["loadavg"]),
        "",
    ]
    rows = [
        ("wall time", "wall_s", "{:.3f} s"),
        ("CPU time", "cpu_s", "{:.3f} s"),
        ("peak memory (max RSS)", "max_rss_mib", "{:.1f} MiB"),
        ("time to first request", "first_request_s", "{:.3f} s"),
        ("requests", "requests", "{:g}"),
        ("Port tokens", "tokens", "{:g}"),
        ("run logs", "run_logs", "{:g}"),
        ("connections (all)", "connections", "{:g}"),
        ("connections to PagerDuty", "connections_pagerduty", "{:g}"),
        ("connections to Port", "connections_port", "{:g}"),
        ("round trips, critical path", "critical_round_trips", "{:g}"),
        ("round trips, with run logs", "round_trips_with_logs", "{:g}"),
    ]
    for result in report["phases"]:
        lines.append(
            f"== latency {result['latency_s']:g} s per request "
            "(median [min-max]; action: 1 process, chain: 5 processes)"
        )
        lines.append(f"{'':30} {'action':>28}  {'seed-shaped chain':>28}")
        for label, key, fmt in rows:
            cells = []
            for side in ("action", "baseline"):
                s = result[side]["summary"][key]
                cells.append(
                    f"{fmt.format(s['median'])} [{fmt.format(s['min'])}-{fmt.format(s['max'])}]"
                )
            lines.append(f"{label:30} {cells[0]:>28}  {cells[1]:>28}")
        if not result["latency_s"]:
            lines.append(
                "(no latency: requests sent together can reach the server one after the other, "
                "so round trips are read from the pass with latency)"
            )
        lines.append(f"wall time ratio action/chain: {result['wall_ratio']:.2f}")
        lines.extend(operation_lines(result))
        lines.append("")
    plain = report["phases"][0]
    lines.append(
        f"action wall time / the seed's {SEED_CHAIN_SECONDS} s in Node (API facts, section 5): "
        f"{plain['action']['summary']['wall_s']['median'] / SEED_CHAIN_SECONDS:.2f}"
    )
    lines.append("")
    lines.append("targets (reported, not enforced):")
    for label, measured, met in targets(report):
        lines.append(f"  [{'met' if met else 'MISSED'}] {label}: {measured}")
    size = report.get("installed_size")
    if size:
        lines.append("")
        lines.append(
            f"installed size of the runtime dependencies ({size['how']}, Python "
            f"{size['python']}): {size['total_bytes'] / 2**20:.1f} MiB"
        )
        for name, value in size["distributions"].items():
            only = "  (only for github_token)" if name in size["github_only"] else ""
            lines.append(f"  {name:24} {value / 2**20:7.2f} MiB{only}")
        lines.append(
            f"  needed only by PyGithub: {size['github_only_bytes'] / 2**20:.1f} MiB; "
            f"escalator source {size['escalator_source_bytes']['escalator'] / 1024:.0f} KiB "
            f"(sandbox {size['escalator_source_bytes']['escalator_sandbox'] / 1024:.0f} KiB)"
        )
    return "\n".join(lines)


def operation_lines(result: dict[str, Any]) -> list[str]:
    """One line per operation measured in the phase ``result`` (none when only one was)."""
    measured = result.get("operations", {})
    if len(measured) < 2:
        return []
    lines = ["each operation beside the same chain (medians):"]
    for name, figures in measured.items():
        s = figures["summary"]
        lines.append(
            f"  {name:14} wall {s['wall_s']['median']:.3f} s, ratio {figures['wall_ratio']:.2f}, "
            f"first request {s['first_request_s']['median']:.3f} s, "
            f"{s['requests']['median']:g} requests, {s['tokens']['median']:g} Port token(s), "
            f"{s['critical_round_trips']['median']:g} round trips (critical path)"
        )
    return lines


def operations_asked(text: str) -> list[str]:
    """The ``--operations`` list: names of :data:`CASES`, comma-separated, or ``all``."""
    names = list(CASES) if text == "all" else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown or not names:
        raise SystemExit(
            f"--operations: {', '.join(unknown) or 'none given'}: choose from {', '.join(CASES)} "
            "(comma-separated) or all"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per side and latency (15)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.1,
        help="seconds the sandbox adds to every request in the second pass (0.1)",
    )
    parser.add_argument(
        "--operations",
        default="escalate",
        help=f"operations to run beside the chain, comma-separated, or all ({', '.join(CASES)}); "
        "the first is the one the targets are about (escalate)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the whole report, every run's journal included, as JSON",
    )
    parser.add_argument(
        "--skip-size",
        action="store_true",
        help="do not measure the installed size of the runtime dependencies",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter that runs the action and the chain (this one)",
    )
    parser.add_argument(
        "--size-cache",
        type=Path,
        default=SIZE_CACHE,
        help=f"where the throwaway venv and its sizes are kept ({SIZE_CACHE})",
    )
    parser.add_argument(
        "--server-nodelay",
        action="store_true",
        help="set TCP_NODELAY on the sandbox's server sockets (see BENCHMARKS.md: without it, "
        "answers on a kept-alive connection can wait for the client's delayed ACK)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report."""
    args = build_parser().parse_args(argv)
    if args.runs < 1:
        raise SystemExit("--runs must be at least 1")
    operations = operations_asked(args.operations)
    if args.server_nodelay:
        from escalator.sandbox import server

        # socketserver's documented switch; the sandbox's handler leaves it off.
        server._Handler.disable_nagle_algorithm = True
    report: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join(
            ["scripts/benchmark.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "runs": args.runs,
        "server_nodelay": args.server_nodelay,
        "seed_chain_reference_s": SEED_CHAIN_SECONDS,
    }
    with tempfile.TemporaryDirectory(prefix="escalate-bench-") as tmp, Sandbox() as sandbox:
        bench = Bench(sandbox, args.python, Path(tmp))
        report["phases"] = [
            phase(bench, args.runs, 0.0, operations),
            phase(bench, args.runs, args.latency, operations),
        ]
    if not args.skip_size:
        report["installed_size"] = installed_size(args.size_cache)
    report["targets"] = [
        {"target": label, "measured": measured, "met": met}
        for label, measured, met in targets(report)
    ]
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
