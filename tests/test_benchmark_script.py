"""The benchmark script runs, and every figure it reports agrees with the journal it came from.

No timing is asserted: the figures are whatever the machine gives; only their structure and
their consistency with the recorded requests are checked.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "benchmark.py"
LATENCY = 0.05


@cache
def report() -> dict[str, Any]:
    """One quick run of the benchmark, as JSON."""
    completed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--runs",
            "1",
            "--latency",
            str(LATENCY),
            "--json",
            "--skip-size",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def benchmark_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def longest_chain(entries: list[dict[str, Any]]) -> int:
    """Recomputed here on purpose: requests in a row, each started after the one before ended."""
    best: dict[int, int] = {}
    ordered = sorted(range(len(entries)), key=lambda i: entries[i]["started"])
    for i in ordered:
        earlier = [best[j] for j in best if entries[j]["ended"] <= entries[i]["started"]]
        best[i] = 1 + max(earlier, default=0)
    return max(best.values(), default=0)


def runs(side: str) -> list[tuple[float, dict[str, Any]]]:
    return [(p["latency_s"], run) for p in report()["phases"] for run in p[side]["runs"]]


@pytest.mark.slow
def test_the_report_has_both_latencies_both_sides_and_the_machine() -> None:
    """The report names the machine and holds one plain and one latency pass of each side."""
    result = report()
    assert {"nproc", "cpu", "python", "date"} <= set(result["machine"])
    assert [p["latency_s"] for p in result["phases"]] == [0.0, LATENCY]
    for phase in result["phases"]:
        for side in ("action", "baseline"):
            assert len(phase[side]["runs"]) == 1
            assert set(phase[side]["summary"]) >= {
                "wall_s",
                "cpu_s",
                "max_rss_mib",
                "first_request_s",
                "requests",
                "connections",
                "critical_round_trips",
            }
    assert {t["target"] for t in result["targets"]} >= {"one Port token"}


@pytest.mark.slow
@pytest.mark.parametrize("side", ["action", "baseline"])
def test_counts_agree_with_the_journal(side: str) -> None:
    """Requests, tokens, logs, connections and round trips are those of the recorded journal."""
    for _latency, run in runs(side):
        journal = run["journal"]
        assert run["requests"] == len(journal)
        assert run["tokens"] == sum(e["path"].endswith("/auth/access_token") for e in journal)
        logs = [e for e in journal if e["method"] == "POST" and e["path"].endswith("/logs")]
        assert run["run_logs"] == len(logs)
        for service in ("pagerduty", "port"):
            seen = {e["connection"] for e in journal if e["path"].startswith(f"/{service}/")}
            assert run["connections_by_service"][service] == len(seen)
        assert run["round_trips_with_logs"] == longest_chain(journal)
        off_logs = [e for e in journal if e not in logs]
        assert run["critical_round_trips"] == longest_chain(off_logs)
        assert 0 < run["first_request_s"] < run["wall_s"]
        assert run["failed_requests"] == 0


@pytest.mark.slow
def test_the_chain_has_the_seed_shape_and_the_action_one_token() -> None:
    """The baseline sends the seed's 9 requests with 4 tokens in 5 processes; the action 1 token."""
    for _latency, run in runs("baseline"):
        assert (run["requests"], run["tokens"], run["run_logs"], run["processes"]) == (9, 4, 3, 5)
        assert run["round_trips_with_logs"] == 9
    for _latency, run in runs("action"):
        assert (run["tokens"], run["processes"]) == (1, 1)


@pytest.mark.slow
def test_summaries_and_ratios_come_from_the_runs() -> None:
    """With one run each median is that run's figure, and the ratio is of the two medians."""
    for phase in report()["phases"]:
        for side in ("action", "baseline"):
            (run,) = phase[side]["runs"]
            summary = phase[side]["summary"]
            assert summary["wall_s"]["median"] == run["wall_s"]
            assert summary["requests"]["median"] == run["requests"]
            assert summary["connections_port"]["median"] == run["connections_by_service"]["port"]
        ratio = phase["action"]["runs"][0]["wall_s"] / phase["baseline"]["runs"][0]["wall_s"]
        assert phase["wall_ratio"] == pytest.approx(ratio)


@pytest.mark.slow
def test_the_text_report_prints_the_measured_figures() -> None:
    """The text form shows the same ratios and counts as the JSON it is rendered from."""
    result = report()
    text = benchmark_module().render(result)
    for phase in result["phases"]:
        assert f"wall time ratio action/chain: {phase['wall_ratio']:.2f}" in text
    assert "targets (reported, not enforced):" in text
    assert result["machine"]["cpu"] in text


@pytest.mark.slow
def test_each_operation_asked_runs_beside_the_chain_and_sends_its_own_requests() -> None:
    """--operations runs every operation listed in each round; the first is the phase's action."""
    completed = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--runs",
            "1",
            "--latency",
            "0",
            "--json",
            "--skip-size",
            "--operations",
            "acknowledge,note",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr
    for phase in json.loads(completed.stdout)["phases"]:
        assert list(phase["operations"]) == ["acknowledge", "note"]
        assert phase["operation"] == "acknowledge"
        assert phase["action"]["runs"] == phase["operations"]["acknowledge"]["runs"]
        (ack,) = phase["operations"]["acknowledge"]["runs"]
        (note,) = phase["operations"]["note"]["runs"]
        assert [e["method"] for e in ack["journal"] if e["path"].startswith("/pagerduty")] == [
            "GET",
            "PUT",
            "GET",
        ]
        assert any(e["method"] == "POST" and e["path"].endswith("/notes") for e in note["journal"])
        assert not any(e["method"] == "PUT" for e in note["journal"])


def test_an_operation_the_benchmark_does_not_know_is_refused() -> None:
    """--operations names only operations of CASES; a typo says which ones there are."""
    module = benchmark_module()
    assert module.operations_asked("all") == list(module.CASES)
    assert module.operations_asked("note, escalate") == ["note", "escalate"]
    with pytest.raises(SystemExit, match="choose from escalate"):
        module.operations_asked("escalte")
