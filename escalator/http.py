"""HTTP for every outside call: one place for sessions, timeouts, retries and the run's deadline.

The clients (:mod:`escalator.pagerduty`, :mod:`escalator.port`) never import ``requests``; they call
:meth:`Transport.request` with the name of a retry policy. The policies are data
(:data:`PAGERDUTY_POLICIES`, :data:`PORT_POLICIES`): which statuses retry, whether a request that
was sent but got no answer may be sent again, how many attempts. Retries are urllib3's ``Retry``
on the session adapter, extended to honour the services' own wait headers (PagerDuty's
``ratelimit-reset``, Port's ``x-ratelimit-reset``) and to stop at the run's deadline. Every
``requests`` exception is translated here into the project's own.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ResponseError,
)
from urllib3.util.retry import Retry

from escalator import __version__
from escalator.errors import ServiceUnavailable, UnexpectedResponse

USER_AGENT = f"escalate-action/{__version__}"
CONNECT_TIMEOUT = 5.0
MAX_READ_TIMEOUT = 10.0
MAX_SERVER_WAIT = 60.0


class Clock(Protocol):
    """Time as the retry logic sees it; tests pass a fake one."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def time(self) -> float:
        return time.time()


class Deadline:
    """The one total time budget of a run, shared by every request and retry."""

    def __init__(self, seconds: float, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.seconds = seconds
        self._end = self.clock.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._end - self.clock.monotonic())

    @property
    def attempt_timeout(self) -> float:
        """How long one attempt may wait for an answer: a share of the budget, at most 10 s."""
        return min(MAX_READ_TIMEOUT, max(1.0, self.seconds / 4))


@dataclass(frozen=True)
class RetryPolicy:
    """What may be retried for one kind of call; data, so each rule is visible and tested."""

    #: statuses answered by the server that are retried (the server did not apply the request)
    statuses: frozenset[int]
    #: retry when the request was sent but no answer came (timeout, reset): only if idempotent
    idempotent: bool
    attempts: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    jitter: float = 0.25


#: 408, 429 and 5xx: the server asks for a later try. A 5xx on a non-idempotent call is not
#: retried blindly: PagerDuty writes are verified by reading, Port run updates are not repeated.
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
NOT_APPLIED = frozenset({408, 429})

PAGERDUTY_POLICIES: Mapping[str, RetryPolicy] = {
    "read": RetryPolicy(statuses=TRANSIENT, idempotent=True),
    # An ambiguous write failure (timeout, reset, 5xx) is surfaced, so the caller can read the
    # incident first and apply the change exactly once.
    "write": RetryPolicy(statuses=NOT_APPLIED, idempotent=False),
}
PORT_POLICIES: Mapping[str, RetryPolicy] = {
    "token": RetryPolicy(statuses=TRANSIENT, idempotent=True),
    "read": RetryPolicy(statuses=TRANSIENT, idempotent=True),
    # An upsert with merge=true sets the same fields to the same values: safe to repeat.
    "upsert": RetryPolicy(statuses=TRANSIENT, idempotent=True),
    # Run logs and run updates are not repeated when Port may have applied them.
    "run_log": RetryPolicy(statuses=NOT_APPLIED, idempotent=False, attempts=3),
    "run_update": RetryPolicy(statuses=NOT_APPLIED, idempotent=False, attempts=3),
}


class DeadlineRetry(Retry):
    """urllib3's ``Retry`` that honours the services' wait headers and the run's deadline.

    A retry is attempted only when the wait plus one more attempt still fits before the deadline,
    so a run never outlives its ``timeout_seconds`` because of a retry.
    """

    def __init__(self, *args: Any, deadline: Deadline | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline or Deadline(120.0)

    def new(self, **kw: Any) -> Self:
        kw.setdefault("deadline", self.deadline)
        return super().new(**kw)

    def get_backoff_time(self) -> float:
        """Exponential backoff with jitter from the first retry on (urllib3 waits 0 at first)."""
        errors = len(self.history)
        if errors == 0:
            return 0.0
        backoff = self.backoff_factor * (2 ** (errors - 1))
        backoff += random.random() * self.backoff_jitter  # noqa: S311  # jitter, not crypto
        return float(min(self.backoff_max, backoff))

    def get_retry_after(self, response: Any) -> float | None:
        """The server's wait: Retry-After, else (on a 429 only) ratelimit-reset, else
        x-ratelimit-reset.

        The rate-limit headers come on every answer and tell when the rate window resets: a
        reason to wait only when the request was rate limited, not after a 5xx.
        """
        headers = response.headers
        retry_after = headers.get("Retry-After")
        if retry_after:
            try:
                return min(MAX_SERVER_WAIT, self.parse_retry_after(retry_after))
            except Exception:  # noqa: BLE001  # an unparseable header means: no hint
                return None
        if response.status != 429:
            return None
        for name in ("ratelimit-reset", "x-ratelimit-reset"):
            value = headers.get(name)
            if value is None:
                continue
            try:
                seconds = float(value)
            except ValueError:
                continue
            if seconds > 1_000_000_000:  # an epoch time, not a number of seconds
                seconds -= self.deadline.clock.time()
            return min(MAX_SERVER_WAIT, max(0.0, seconds))
        return None

    def sleep_for_retry(self, response: Any) -> bool:
        wait = self.get_retry_after(response)
        if wait:
            self.deadline.clock.sleep(wait)
            return True
        return False

    def _sleep_backoff(self) -> None:
        backoff = self.get_backoff_time()
        if backoff > 0:
            self.deadline.clock.sleep(backoff)

    def increment(self, method: Any = None, url: Any = None, *args: Any, **kwargs: Any) -> Self:
        new = super().increment(method, url, *args, **kwargs)
        response = kwargs.get("response")
        wait = new.get_retry_after(response) if response is not None else None
        if wait is None:
            wait = new.get_backoff_time()
        if self.deadline.remaining() < wait + self.deadline.attempt_timeout:
            reason = kwargs.get("error") or ResponseError(
                "no time left before the deadline for another attempt"
            )
            raise MaxRetryError(kwargs.get("_pool"), url, reason)  # type: ignore[arg-type]
        return new


@dataclass
class HttpResponse:
    """An answer, read whole: status, headers and the JSON body (or why it could not be read)."""

    status: int
    headers: Mapping[str, str]
    body: Any = None
    body_error: str | None = None
    elapsed: float = 0.0
    text: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class OutcomeUnknown(ServiceUnavailable):
    """A request was sent but no answer came back: the server may or may not have applied it."""


class Transport:
    """One outside service: a connection pool shared by sessions that differ by retry policy."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        headers: Mapping[str, str],
        policies: Mapping[str, RetryPolicy],
        deadline: Deadline,
        hint_unreachable: str = "",
    ) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.deadline = deadline
        self.policies = policies
        self.hint_unreachable = hint_unreachable
        self._sessions: dict[str, requests.Session] = {}
        self._adapters: list[HTTPAdapter] = []
        self._lock = threading.Lock()
        shared_pool = None
        for name, policy in policies.items():
            retry = DeadlineRetry(
                total=None,
                connect=policy.attempts - 1,
                read=policy.attempts - 1 if policy.idempotent else 0,
                status=policy.attempts - 1,
                other=0,
                redirect=0,
                allowed_methods=None,
                status_forcelist=policy.statuses,
                backoff_factor=policy.backoff_factor,
                backoff_max=policy.backoff_max,
                backoff_jitter=policy.jitter,
                raise_on_status=False,
                raise_on_redirect=False,
                respect_retry_after_header=True,
                deadline=deadline,
            )
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=4, max_retries=retry)
            if shared_pool is None:
                shared_pool = adapter.poolmanager
            else:  # one pool per service: kept-alive connections serve every policy
                adapter.poolmanager.clear()
                adapter.poolmanager = shared_pool
            session = requests.Session()
            session.headers.clear()
            session.headers.update({"User-Agent": USER_AGENT, **headers})
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._sessions[name] = session
            self._adapters.append(adapter)

    def close(self) -> None:
        """Close the pooled connections."""
        for session in self._sessions.values():
            session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def set_header(self, name: str, value: str) -> None:
        """Set a header on every later request (the Port access token once minted)."""
        with self._lock:
            for session in self._sessions.values():
                session.headers[name] = value

    def request(
        self,
        policy: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request under ``policy`` and read its answer whole.

        Raises :class:`ServiceUnavailable` when no answer could be had within the policy's
        attempts or the deadline, and :class:`OutcomeUnknown` when a non-idempotent request was
        sent but no answer came back. An error status is returned, not raised: the client
        knows what each status means.
        """
        rules = self.policies[policy]
        session = self._sessions[policy]
        url = self.base_url + path
        attempts_left = rules.attempts
        while True:
            attempts_left -= 1
            response = self._send_once(session, rules, method, url, params, json_body, headers)
            retry_body = (
                rules.idempotent
                and response.ok  # an error status is the answer, whatever its body
                and response.body_error is not None
                and attempts_left > 0
                and self.deadline.remaining() > self.deadline.attempt_timeout + 1
            )
            if not retry_body:
                return response
            self.deadline.clock.sleep(rules.backoff_factor)

    def _send_once(
        self,
        session: requests.Session,
        rules: RetryPolicy,
        method: str,
        url: str,
        params: Mapping[str, str | list[str]] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
    ) -> HttpResponse:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise ServiceUnavailable(
                self.service,
                f"the run's deadline ({self.deadline.seconds:g} s) was reached before {method} "
                f"{_path_of(url, self.base_url)} could be sent.",
                hint="Raise timeout_seconds, or try again when the service is responsive.",
            )
        timeout = (min(CONNECT_TIMEOUT, remaining), min(self.deadline.attempt_timeout, remaining))
        started = self.deadline.clock.monotonic()
        try:
            raw = session.request(
                method,
                url,
                params=params,
                data=None if json_body is None else _dump(json_body),
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise self._translate(exc, method, url, rules) from None
        try:
            content = raw.content
        except requests.RequestException:
            # The status and headers came, the body was cut short: the server did handle it.
            return HttpResponse(
                status=raw.status_code,
                headers=dict(raw.headers),
                body_error="the answer was cut short",
                elapsed=self.deadline.clock.monotonic() - started,
            )
        finally:
            raw.close()
        elapsed = self.deadline.clock.monotonic() - started
        text = content.decode("utf-8", "replace")
        body: Any = None
        body_error: str | None = None
        if text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                body_error = "the answer is not JSON"
        return HttpResponse(
            status=raw.status_code,
            headers=dict(raw.headers),
            body=body,
            body_error=body_error,
            elapsed=elapsed,
            text=text[:2000],
        )

    def _translate(
        self, exc: requests.RequestException, method: str, url: str, rules: RetryPolicy
    ) -> ServiceUnavailable:
        path = _path_of(url, self.base_url)
        what = f"{method} {path}"
        if isinstance(exc, requests.exceptions.SSLError):
            return ServiceUnavailable(
                self.service,
                f"{what}: the TLS connection failed.",
                hint="Check the API URL (https, the right host) and the runner's CA certificates.",
            )
        reasons = list(_reasons(exc))
        if any(
            isinstance(r, NewConnectionError | ConnectTimeoutError | NameResolutionError)
            for r in reasons
        ) or isinstance(exc, requests.exceptions.ConnectTimeout):
            return ServiceUnavailable(
                self.service,
                f"{what}: could not connect to {self.base_url}.",
                hint=self.hint_unreachable,
            )
        if any(isinstance(r, ResponseError) for r in reasons):
            return ServiceUnavailable(
                self.service,
                f"{what}: still failing when no time or attempts were left.",
                hint="The service is busy or rate limiting; try again later or raise "
                "timeout_seconds.",
            )
        timed_out = isinstance(exc, requests.exceptions.Timeout) or any(
            "timed out" in str(r).lower() for r in reasons
        )
        problem = (
            "no answer in time" if timed_out else "the connection was closed without an answer"
        )
        if rules.idempotent:
            return ServiceUnavailable(
                self.service,
                f"{what}: {problem}, after every attempt.",
                hint="The service is slow or unreachable; try again later or raise "
                "timeout_seconds.",
            )
        return OutcomeUnknown(
            self.service,
            f"{what}: {problem}; the request may or may not have been applied.",
            hint="Check the service before running the action again.",
        )


def _reasons(exc: BaseException) -> Iterator[BaseException]:
    """Every exception wrapped inside a requests/urllib3 exception."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MaxRetryError) and current.reason is not None:
            stack.append(current.reason)
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        if current.__cause__ is not None:
            stack.append(current.__cause__)
        if current.__context__ is not None:
            stack.append(current.__context__)


def _path_of(url: str, base_url: str) -> str:
    return url[len(base_url) :] if url.startswith(base_url) else url


def _dump(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_json_body(
    response: HttpResponse, service: str, what: str, hint: str = ""
) -> dict[str, Any]:
    """The body of a successful answer as a JSON object, or :class:`UnexpectedResponse`."""
    if response.body_error is not None or not isinstance(response.body, dict):
        problem = response.body_error or "the answer is not a JSON object"
        raise UnexpectedResponse(
            service,
            f"{what}: {problem} (HTTP {response.status}).",
            hint=hint or "The service may be having trouble; try again later.",
        )
    return response.body


Validator = Callable[[dict[str, Any]], Any]
