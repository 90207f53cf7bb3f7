"""One outside service over HTTP: one session and one retry loop.

A call names its :class:`~escalator.http.policy.Policy`; the loop in :meth:`Transport.request`
sends it (one attempt: :mod:`escalator.http.attempt`, which turns every ``requests`` failure into
a :class:`~escalator.http.attempt.NoAnswer`), reads the answer within the deadline and decides
from the policy's rules whether to try again: a busy service (429, 503) is asked again until the
deadline, other failures a few times, and a retry is made only when its wait plus one more
attempt still fits before the deadline. An error status is returned, not raised: the client knows
what each status means; no answer at all becomes the project's own errors here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import requests

from escalator import __version__
from escalator.errors import OutcomeUnknown, ServiceUnavailable
from escalator.http.answer import HttpResponse, dump_json, parse_json_body
from escalator.http.attempt import CONNECT_TIMEOUT, NoAnswer, attempt
from escalator.http.deadline import Deadline
from escalator.http.interim import FinalAnswerAdapter
from escalator.http.network import ca_bundle, proxies_for
from escalator.http.policy import Policy, RetryRules, server_wait

__all__ = ["CONNECT_TIMEOUT", "USER_AGENT", "HttpResponse", "Transport", "parse_json_body"]

USER_AGENT = f"escalate-action/{__version__}"
_NO_TIME_HINT = "The service is slow or unreachable; try again later or raise {timeout_seconds}."


@dataclass
class _Tries:
    """Where the retry loop is: retries made, and attempts counted against ``rules.attempts``
    (a busy service's are not)."""

    rules: RetryRules
    retry: int = 0
    spent: int = 1


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
        what = f"{method} {path}"
        data = None if json_body is None else dump_json(json_body)
        url = self.base_url + path
        tries = _Tries(policy.rules)
        while True:
            self._require_time(what)
            try:
                response = attempt(self._session, self.deadline, method, url, params, data, headers)
            except NoAnswer as failure:
                wait = self._after_no_answer(tries, what, failure)
            else:
                found = self._after_answer(tries, response)
                if found is None:
                    return response
                wait = found
            tries.retry += 1
            self.deadline.clock.sleep(wait)

    def _after_no_answer(self, tries: _Tries, what: str, failure: NoAnswer) -> float:
        """The wait before trying again after ``failure``, or the error when it may not be."""
        rules = tries.rules
        if not (failure.unsent or rules.idempotent):
            raise self._outcome_unknown(what, failure) from failure
        wait = rules.backoff(tries.retry + 1)
        if failure.final or tries.spent >= rules.attempts or not self.deadline.fits(wait):
            raise self._unavailable(what, failure) from failure
        tries.spent += 1
        return wait

    def _after_answer(self, tries: _Tries, response: HttpResponse) -> float | None:
        """The wait before asking again, or None when ``response`` is the answer."""
        busy = tries.rules.patient(response.status)
        wait = self._retry_wait(
            tries.rules, response, tries.retry, spent=0 if busy else tries.spent
        )
        if wait is not None and not busy:
            tries.spent += 1
        return wait

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

    def _unavailable(self, what: str, failure: NoAnswer) -> ServiceUnavailable:
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

    def _outcome_unknown(self, what: str, failure: NoAnswer) -> OutcomeUnknown:
        return OutcomeUnknown(
            self.service,
            f"{what}: {failure.problem}; the request may or may not have been applied.",
            hint="Check the service before running the action again.",
        )
