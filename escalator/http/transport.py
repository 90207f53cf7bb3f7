"""One outside service over HTTP: one session, one retry loop, and the translation of every
``requests`` failure into the project's own errors.

A call names its :class:`~escalator.http.policy.Policy`; the loop in :meth:`Transport.request`
sends it, reads the answer within the deadline (:mod:`escalator.http.body`) and decides from the
policy's rules whether to try again: a busy service (429, 503) is asked again until the deadline,
other failures a few times, and a retry is made only when its wait plus one more attempt still
fits before the deadline. An error status is returned, not raised: the client knows what
each status means.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Self

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from escalator import __version__
from escalator.errors import OutcomeUnknown, ServiceUnavailable, UnexpectedResponse
from escalator.http.body import BodyError, read_body
from escalator.http.deadline import Deadline
from escalator.http.interim import FinalAnswerAdapter
from escalator.http.network import ca_bundle, proxies_for
from escalator.http.policy import Policy, RetryRules, server_wait

USER_AGENT = f"escalate-action/{__version__}"
CONNECT_TIMEOUT = 5.0
_NO_TIME_HINT = "The service is slow or unreachable; try again later or raise {timeout_seconds}."


@dataclass
class HttpResponse:
    """An answer, read whole: status, headers and the JSON body (or why it could not be read)."""

    status: int
    headers: Mapping[str, str]
    body: Any = None
    body_error: str | None = None
    #: whether asking again may mend ``body_error`` (a slow or cut body may; a huge one not)
    body_retryable: bool = True

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _NoAnswer(Exception):
    """An attempt that got no usable status: why, and whether the request surely never left."""

    def __init__(self, problem: str, *, unsent: bool = False, final: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.unsent = unsent
        #: asking again cannot help (a TLS failure)
        self.final = final


class Transport:
    """One outside service: one session (one connection pool), its headers and its deadline."""

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        headers: Mapping[str, str],
        deadline: Deadline,
        hint_unreachable: str = "",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """``environ`` is what the face read of the environment for the network (the proxy
        variables and the CA bundle); none: no proxy, the default CA store."""
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.deadline = deadline
        self.hint_unreachable = hint_unreachable
        environ = environ or {}
        session = requests.Session()
        session.trust_env = False  # no .netrc, no proxies but those read below
        session.proxies = proxies_for(self.base_url, environ)
        session.verify = ca_bundle(environ)
        session.headers.clear()
        session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers})
        adapter = FinalAnswerAdapter(pool_connections=1, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def set_header(self, name: str, value: str) -> None:
        """Set a header on every later request (the Port access token once minted)."""
        self._session.headers[name] = value

    def request(
        self,
        policy: Policy,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send one request under ``policy``, retried by its rules, and read its answer whole.

        Raises :class:`ServiceUnavailable` when no answer could be had within the policy's
        attempts or the deadline, and :class:`OutcomeUnknown` when a non-idempotent request was
        sent but no answer came back.
        """
        rules = policy.rules
        what = f"{method} {path}"
        data = None if json_body is None else _dump(json_body)
        retry = 0
        spent = 1  # attempts counted against rules.attempts (a busy service's are not)
        while True:
            self._require_time(what)
            try:
                response = self._attempt(method, self.base_url + path, params, data, headers)
            except _NoAnswer as failure:
                if not (failure.unsent or rules.idempotent):
                    raise self._outcome_unknown(what, failure) from failure
                wait = rules.backoff(retry + 1)
                if failure.final or spent >= rules.attempts or not self.deadline.fits(wait):
                    raise self._unavailable(what, failure) from failure
                spent += 1
            else:
                busy = rules.patient(response.status)
                found = self._retry_wait(rules, response, retry, spent=0 if busy else spent)
                if found is None:
                    return response
                wait = found
                spent += 0 if busy else 1
            retry += 1
            self.deadline.clock.sleep(wait)

    def _retry_wait(
        self, rules: RetryRules, response: HttpResponse, retry: int, *, spent: int
    ) -> float | None:
        """How long to wait before asking again, or None when ``response`` is the answer:
        ``spent`` attempts of ``rules.attempts`` are used (0 for a busy service, bounded by the
        deadline alone)."""
        if spent >= rules.attempts:
            return None
        if response.status in rules.statuses:
            now = self.deadline.clock.time()
            server = server_wait(response.status, response.headers, now)
            wait = rules.wait(retry + 1, response.status, server)
        elif (
            response.ok  # an error status is the answer, whatever its body
            and response.body_error is not None
            and response.body_retryable
            and rules.idempotent
        ):
            wait = rules.backoff(retry + 1)
        else:
            return None
        return wait if self.deadline.fits(wait) else None

    def _require_time(self, what: str) -> None:
        if self.deadline.remaining() <= 0:
            raise ServiceUnavailable(
                self.service,
                f"the run's deadline ({self.deadline.seconds:g} s) was reached before {what} "
                "could be sent.",
                hint="Raise {timeout_seconds}, or try again when the service is responsive.",
            )

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | list[str]] | None,
        data: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> HttpResponse:
        """One attempt: send, then read the answer within the attempt's share of the deadline."""
        clock = self.deadline.clock
        budget = min(self.deadline.attempt_timeout, self.deadline.remaining())
        try:
            raw = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT, budget), budget),
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise _no_answer(exc) from exc
        if raw.status_code < 200:  # 101: the connection no longer speaks HTTP
            _discard(raw)
            raise _NoAnswer(f"only an interim answer ({raw.status_code}) came")
        until = clock.monotonic() + budget
        response = HttpResponse(status=raw.status_code, headers=raw.headers)
        try:
            content = read_body(
                raw.raw,
                raw.headers.get("Content-Encoding", ""),
                time_left=lambda: min(until - clock.monotonic(), self.deadline.remaining()),
                set_timeout=lambda seconds: _set_read_timeout(raw, seconds, budget),
            )
        except BodyError as exc:
            _discard(raw)  # a half-read answer leaves the connection unusable
            response.body_error = exc.problem
            response.body_retryable = exc.retryable
            return response
        raw.raw.release_conn()
        _parse_json(content, response)
        return response

    def _unavailable(self, what: str, failure: _NoAnswer) -> ServiceUnavailable:
        if failure.unsent and not failure.final:
            return ServiceUnavailable(
                self.service,
                f"{what}: could not connect to {self.base_url}.",
                hint=self.hint_unreachable,
            )
        if failure.final:
            return ServiceUnavailable(
                self.service,
                f"{what}: {failure.problem}.",
                hint="Check the API URL (https, the right host) and {machine}'s CA certificates.",
            )
        return ServiceUnavailable(
            self.service, f"{what}: {failure.problem}, after every attempt.", hint=_NO_TIME_HINT
        )

    def _outcome_unknown(self, what: str, failure: _NoAnswer) -> OutcomeUnknown:
        return OutcomeUnknown(
            self.service,
            f"{what}: {failure.problem}; the request may or may not have been applied.",
            hint="Check the service before running the action again.",
        )


def _no_answer(exc: requests.RequestException) -> _NoAnswer:
    """Why ``requests`` got no answer, and whether the request surely never left."""
    if isinstance(exc, requests.exceptions.SSLError):
        return _NoAnswer("the TLS connection failed", unsent=True, final=True)
    reasons = list(_reasons(exc))
    unsent = isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(r, NewConnectionError | ConnectTimeoutError | NameResolutionError)
        for r in reasons
    )
    if unsent:
        return _NoAnswer("could not connect", unsent=True)
    timed_out = isinstance(exc, requests.exceptions.Timeout) or any(
        "timed out" in str(r).lower() for r in reasons
    )
    if timed_out:
        return _NoAnswer("no answer in time")
    return _NoAnswer("the connection was closed without an answer")


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
        stack.extend(arg for arg in current.args if isinstance(arg, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def _discard(raw: requests.Response) -> None:
    """Close the answer's connection, so the pool opens a fresh one for the next request."""
    raw.raw.close()
    raw.raw.release_conn()


def _set_read_timeout(raw: requests.Response, seconds: float, most: float) -> None:
    """Bound the next wait for body bytes by the time left (urllib3's public connection)."""
    connection = raw.raw.connection
    sock = getattr(connection, "sock", None) if connection is not None else None
    if sock is not None:
        sock.settimeout(max(0.001, min(seconds, most)))


def _parse_json(content: bytes, response: HttpResponse) -> None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        response.body_error = "the answer is not UTF-8 text"
        return
    if not text.strip():
        return
    try:
        response.body = json.loads(text)
    except ValueError:
        response.body_error = "the answer is not JSON"


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
