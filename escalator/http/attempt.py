"""One attempt at a request: send it once through the session, read its answer within the
attempt's share of the deadline, and say why no answer came (and whether the request surely
never left) when ``requests`` fails."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from escalator.http.answer import HttpResponse, parse_json
from escalator.http.body import BodyError, read_body
from escalator.http.deadline import Deadline

CONNECT_TIMEOUT = 5.0


class NoAnswer(Exception):
    """An attempt that got no usable status: why, and whether the request surely never left."""

    def __init__(self, problem: str, *, unsent: bool = False, final: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.unsent = unsent
        #: asking again cannot help (a TLS failure)
        self.final = final


def attempt(
    session: requests.Session,
    deadline: Deadline,
    method: str,
    url: str,
    params: Mapping[str, str | list[str]] | None,
    data: bytes | None,
    headers: Mapping[str, str] | None,
) -> HttpResponse:
    """One attempt: send, then read the answer within the attempt's share of the deadline."""
    budget = min(deadline.attempt_timeout, deadline.remaining())
    try:
        raw = session.request(
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
        raise no_answer(exc) from exc
    if raw.status_code < 200:  # 101: the connection no longer speaks HTTP
        _discard(raw)
        raise NoAnswer(f"only an interim answer ({raw.status_code}) came")
    return _read(raw, deadline, budget)


def _read(raw: requests.Response, deadline: Deadline, budget: float) -> HttpResponse:
    """The answer whole, its body read within ``budget`` seconds and the deadline. The budget
    is a network timeout, counted in real seconds as the socket's are; the deadline is the run's
    clock (which a test may move on while this answer is read)."""
    until = time.monotonic() + budget
    response = HttpResponse(status=raw.status_code, headers=raw.headers)
    try:
        content = read_body(
            raw.raw,
            raw.headers.get("Content-Encoding", ""),
            time_left=lambda: min(until - time.monotonic(), deadline.remaining()),
            set_timeout=lambda seconds: _set_read_timeout(raw, seconds, budget),
        )
    except BodyError as exc:
        _discard(raw)  # a half-read answer leaves the connection unusable
        response.body_error = exc.problem
        response.body_retryable = exc.retryable
        return response
    raw.raw.release_conn()
    parse_json(content, response)
    return response


def no_answer(exc: requests.RequestException) -> NoAnswer:
    """Why ``requests`` got no answer, and whether the request surely never left."""
    if isinstance(exc, requests.exceptions.SSLError):
        return NoAnswer("the TLS connection failed", unsent=True, final=True)
    reasons = list(_reasons(exc))
    unsent = isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        isinstance(r, NewConnectionError | ConnectTimeoutError | NameResolutionError)
        for r in reasons
    )
    if unsent:
        return NoAnswer("could not connect", unsent=True)
    timed_out = isinstance(exc, requests.exceptions.Timeout) or any(
        "timed out" in str(r).lower() for r in reasons
    )
    if timed_out:
        return NoAnswer("no answer in time")
    return NoAnswer("the connection was closed without an answer")


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
