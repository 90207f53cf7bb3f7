"""The storm, bounded: many runs at once against services that rate limit them per second all
succeed within their deadline, and no write is applied twice (``scripts/storm.py``), for the
incident escalations and for the writes beside them (overrides, services, alert events)."""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from types import ModuleType
from typing import Any

import pytest
import requests

from escalator.sandbox import Sandbox, seed
from escalator.sandbox.pagerduty import RateLimiter
from tests.tools import REPO

SCRIPT = REPO / "scripts" / "storm.py"


def _storm_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storm", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_sixteen_runs_of_every_write_at_once_all_succeed_under_a_rate_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """16 runs at once, four each of an escalation (its own incident), an override (its own
    window and user), a service creation (its own name) and an alert (its own dedup key), 10
    requests/s per service and 10 events/s, the rest 429: every run succeeds, no write lands
    twice, and the figures printed say how many requests were rate limited."""
    started = time.monotonic()
    code = _storm_script().main(["--operation", "mix", "--runs", "16", "--timeout", "60"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "successes    16/16" in printed
    assert "duplicated writes 0" in printed
    found = re.search(r"requests +(\d+) \((\d+) answered 429\)", printed)
    assert found is not None, printed
    assert int(found[2]) > 0  # the limit was hit: the storm is a storm
    assert time.monotonic() - started < 60


def _state(**pagerduty: Any) -> dict[str, Any]:
    return {"pagerduty": pagerduty}


def test_the_storm_counts_a_write_that_landed_twice() -> None:
    """Two overrides of one run's window, two services of one name (in another case) and two
    incidents of one dedup key are each reported as duplicated, and the run as not done."""
    storm = _storm_script()
    window = ("2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    override = {"user": {"id": "PXPGF42"}, "start": window[0], "end": window[1]}
    state = _state(
        users={"PXPGF42": {"id": "PXPGF42", "email": "alice@example.com"}},
        overrides={"PSC7PAY": [override, dict(override)]},
        services={
            "P1": {"name": "Storm service 001", "integrations": []},
            "P2": {"name": "storm SERVICE 001", "integrations": []},
        },
        incidents={"Q1": {"incident_key": "k-1"}, "Q2": {"incident_key": "k-1"}},
    )
    checks = [
        (storm.overridden, f"PSC7PAY alice@example.com {window[0]} {window[1]}"),
        (storm.service_created, "Storm service 001"),
        (storm.triggered, "k-1"),
    ]
    for check, key in checks:
        landed, twice = check(storm.Target("x", "r_1", key, {}), state)
        assert not landed
        assert len(twice) == 1, twice
        assert "x2" in twice[0], twice


def test_an_unknown_storm_operation_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--operation with a name that is not a storm's stops before any run, naming the choices."""
    with pytest.raises(SystemExit) as stopped:
        _storm_script().main(["--operation", "escalate,snooze", "--runs", "1"])
    assert stopped.value.code == 2
    assert "create-service" in capsys.readouterr().err


def test_port_answers_429_with_retry_after_past_its_rate() -> None:
    """Past --port-rate-limit in its window, Port answers 429 with Retry-After and
    x-ratelimit-reset."""
    with Sandbox(port_rate_limit=2, rate_window=1.0) as sandbox:
        url = f"{sandbox.port_url}/v1/auth/access_token"
        body = {"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET}
        answers = [requests.post(url, json=body, timeout=5) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert answers[2].headers["Retry-After"] == "1"
        assert answers[2].headers["x-ratelimit-reset"] == "1"
        assert answers[2].json()["error"] == "rate_limited"


def test_a_rate_window_of_one_second_serves_again_a_second_later() -> None:
    """The limiter's window is --rate-window seconds: full within it, fresh after it."""
    now = [100.0]
    limiter = RateLimiter(2, clock=lambda: now[0], window=1.0)
    assert [limiter.take("k")[0] for _ in range(3)] == [True, True, False]
    assert limiter.take("k")[1]["ratelimit-reset"] == "1"
    now[0] += 1.0
    assert limiter.take("k")[0] is True
