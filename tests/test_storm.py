"""The storm, bounded: many runs at once against services that rate limit them per second all
succeed within their deadline, and no write is applied twice (``scripts/storm.py``)."""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from types import ModuleType

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


def test_twelve_runs_at_once_all_succeed_under_a_rate_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """12 escalations at once, 10 requests/s per service, the rest 429: every run succeeds, no
    write twice, and the figures printed say how many requests were rate limited."""
    started = time.monotonic()
    code = _storm_script().main(["--runs", "12", "--rate", "10", "--timeout", "60"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "successes    12/12" in printed
    assert "duplicated writes 0" in printed
    found = re.search(r"requests +(\d+) \((\d+) answered 429\)", printed)
    assert found is not None, printed
    assert int(found[2]) > 0  # the limit was hit: the storm is a storm
    assert time.monotonic() - started < 60


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
