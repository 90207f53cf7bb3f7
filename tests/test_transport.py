"""The transport against a hostile loopback server speaking raw HTTP: bodies dripped, endless or
compressed, interim 1xx answers, a planted ``.netrc`` and proxies in the environment."""

from __future__ import annotations

import contextlib
import gzip
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from escalator.clients.pagerduty import PagerDutyClient
from escalator.errors import ServiceUnavailable, UnexpectedResponse
from escalator.http import Deadline, OutcomeUnknown, Policy, SystemClock, Transport
from escalator.http.body import MAX_BODY_BYTES
from escalator.http.interim import FinalAnswerAdapter, FinalResponse
from escalator.http.network import bypassed, ca_bundle, is_loopback, proxies_for
from tests.e2e import SkippingClock

Handler = Callable[[socket.socket], None]
JSON_OK = b'{"ok":true}'


def answer(
    body: bytes = JSON_OK, *, status: str = "200 OK", headers: tuple[str, ...] = ()
) -> bytes:
    """A whole HTTP/1.1 answer with a Content-Length."""
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def send(data: bytes) -> Handler:
    """Answer with ``data`` as it is."""
    return lambda conn: conn.sendall(data)


@dataclass
class RawServer:
    """A loopback server that reads each request head and answers with the next handler."""

    handlers: list[Handler]
    requests: list[bytes] = field(default_factory=list)
    #: bytes each dripping or endless handler managed to send before the client hung up
    sent: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            while True:
                head = self._read_head(conn)
                if head is None:
                    return
                self.requests.append(head)
                handler = self.handlers[min(len(self.requests), len(self.handlers)) - 1]
                try:
                    handler(conn)
                except OSError:
                    return

    @staticmethod
    def _read_head(conn: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = conn.recv(65536)
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
                while len(rest) < length:
                    rest += conn.recv(65536)
        return head

    def close(self) -> None:
        with contextlib.suppress(OSError):  # wakes the thread waiting in accept()
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()

    def drip(self, total: int, every: float) -> Handler:
        """Send the head at once, then the body a byte at a time."""

        def handler(conn: socket.socket) -> None:
            conn.sendall(answer(b"x" * total)[:-total])
            count = 0
            try:
                for _ in range(total):
                    conn.sendall(b"x")
                    count += 1
                    time.sleep(every)
            finally:
                self.sent.append(count)

        return handler

    def endless(self) -> Handler:
        """A chunked 200 whose chunks never end."""

        def handler(conn: socket.socket) -> None:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (65536, b"[" * 65536)
            count = 0
            try:
                while count < 64 * MAX_BODY_BYTES:
                    conn.sendall(chunk)
                    count += 65536
            finally:
                self.sent.append(count)

        return handler


def settled(sent: list[int]) -> list[int]:
    """``sent`` once the server's handler has noticed the client hung up (at most 5 s)."""
    for _ in range(500):
        if sent:
            break
        time.sleep(0.01)
    return sent


@pytest.fixture
def server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(*handlers: Handler) -> RawServer:
        made.append(RawServer(list(handlers)))
        return made[-1]

    yield make
    for one in made:
        one.close()


def transport(url: str, seconds: float = 60.0, **environ: str) -> Transport:
    return Transport(
        "Test",
        url,
        headers={"Authorization": "Token token=own"},
        deadline=Deadline(seconds),
        environ=environ,
    )


def test_a_dripped_body_ends_with_the_attempts_time(server: Callable[..., RawServer]) -> None:
    """A body sent a byte at a time is given up when the attempt's time is out, not read on."""
    raw = server()
    raw.handlers.append(raw.drip(total=400, every=0.02))
    response = transport(raw.url, seconds=2).request(Policy.READ, "GET", "/slow")
    assert response.body_error == "the answer did not finish in time"
    assert len(raw.requests) == 1  # no time was left for another whole attempt
    assert settled(raw.sent)[0] < 400  # the client hung up before the drip ended


def test_a_dripped_put_answer_is_an_outcome_the_client_must_check(
    server: Callable[..., RawServer],
) -> None:
    """A PUT whose answer drips is not sent again; its client raises the project's error."""
    raw = server()
    raw.handlers.append(raw.drip(total=400, every=0.02))
    client = PagerDutyClient(transport(raw.url, seconds=2))
    with pytest.raises(UnexpectedResponse, match="did not finish in time"):
        client.update_incident(
            "PX1", {"incident": {"type": "incident_reference", "urgency": "low"}}
        )
    assert len(raw.requests) == 1


def test_an_endless_body_stops_at_the_size_cap(server: Callable[..., RawServer]) -> None:
    """An endless chunked 200 is read up to the cap, then refused, and not asked for again."""
    raw = server()
    raw.handlers.append(raw.endless())
    response = transport(raw.url).request(Policy.READ, "GET", "/endless")
    assert response.body_error is not None
    assert "larger than" in response.body_error
    assert len(raw.requests) == 1
    assert settled(raw.sent)[0] < 64 * MAX_BODY_BYTES


def test_a_gzip_bomb_is_refused_at_the_cap(server: Callable[..., RawServer]) -> None:
    """A body compressed though identity was asked for is inflated only up to the cap."""
    bomb = gzip.compress(b"[" * (8 * MAX_BODY_BYTES), compresslevel=9)
    raw = server(send(answer(bomb, headers=("Content-Encoding: gzip",))))
    response = transport(raw.url).request(Policy.READ, "GET", "/bomb")
    assert response.body_error is not None
    assert "larger than" in response.body_error
    assert b"accept-encoding: identity" in raw.requests[0].lower()


def test_a_small_compressed_answer_is_still_read(server: Callable[..., RawServer]) -> None:
    """A service that compresses anyway, within the cap, is understood."""
    raw = server(send(answer(gzip.compress(b'{"a": 1}'), headers=("Content-Encoding: gzip",))))
    assert transport(raw.url).request(Policy.READ, "GET", "/gz").body == {"a": 1}


def test_an_unknown_encoding_is_refused(server: Callable[..., RawServer]) -> None:
    """A body in an encoding the action cannot bound (br) is an error, not a traceback."""
    raw = server(send(answer(b"\x0b\x02\x80{}\x03", headers=("Content-Encoding: br",))))
    response = transport(raw.url).request(Policy.READ, "GET", "/br")
    assert response.body_error is not None
    assert "compressed (br)" in response.body_error


@pytest.mark.parametrize("policy", [Policy.READ, Policy.WRITE, Policy.RUN_UPDATE])
def test_an_early_hint_is_never_the_answer(
    server: Callable[..., RawServer], policy: Policy
) -> None:
    """Interim answers (103 Early Hints, 102) before the final 200 are read past: the final
    answer is the one used, and the next request on the connection gets its own answer."""
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
    processing = b"HTTP/1.1 102 Processing\r\n\r\n"
    raw = server(
        send(early + processing + answer(b'{"first": true}')), send(answer(b'{"second": true}'))
    )
    service = transport(raw.url)
    assert service.request(policy, "PUT", "/hinted", json_body={}).body == {"first": True}
    assert service.request(policy, "PUT", "/next", json_body={}).body == {"second": True}
    assert len(raw.requests) == 2


def test_endless_interim_answers_are_not_an_answer(server: Callable[..., RawServer]) -> None:
    """A server that sends nothing but interim answers gives no answer: a write is not repeated
    and the caller is told it may or may not have been applied."""
    early = b"HTTP/1.1 103 Early Hints\r\n\r\n"
    raw = server(send(early * 50))
    with pytest.raises(OutcomeUnknown, match="may or may not"):
        transport(raw.url).request(Policy.WRITE, "PUT", "/incidents/PX1", json_body={})
    assert len(raw.requests) == 1


def test_a_planted_netrc_never_replaces_the_credentials(
    server: Callable[..., RawServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~/.netrc for the host (or a default entry) adds no Basic credentials."""
    (tmp_path / ".netrc").write_text(
        "machine 127.0.0.1 login thief password stolen\ndefault login any password any\n"
    )
    (tmp_path / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    raw = server(send(answer()))
    transport(raw.url).request(Policy.READ, "GET", "/x")
    head = raw.requests[0].lower()
    assert b"authorization: token token=own" in head
    assert b"basic" not in head


def test_loopback_never_goes_through_a_proxy(
    server: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY and friends in the environment do not reach loopback traffic."""
    proxy = server(send(answer(b'{"proxied": true}')))
    raw = server(send(answer()))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    service = Transport("Test", raw.url, headers={}, deadline=Deadline(60), environ=os.environ)
    assert service.request(Policy.READ, "GET", "/x").body == {"ok": True}
    assert proxy.requests == []
    assert len(raw.requests) == 1


@pytest.mark.parametrize(
    ("url", "environ", "expected"),
    [
        ("https://api.pagerduty.com", {"HTTPS_PROXY": "http://p:3128"}, {"https": "http://p:3128"}),
        ("https://api.port.io", {"https_proxy": "http://p:3128"}, {"https": "http://p:3128"}),
        ("https://api.port.io", {"HTTP_PROXY": "http://p:3128"}, {}),
        ("http://svc.internal:8080", {"http_proxy": "http://p:3128"}, {"http": "http://p:3128"}),
        ("https://api.port.io", {"HTTPS_PROXY": "http://p", "NO_PROXY": "port.io"}, {}),
        ("https://api.port.io", {"HTTPS_PROXY": "http://p", "no_proxy": ".port.io"}, {}),
        ("https://api.port.io", {"HTTPS_PROXY": "http://p", "NO_PROXY": "*"}, {}),
        ("https://api.port.io", {"HTTPS_PROXY": "http://p", "NO_PROXY": "api.port.io:443"}, {}),
        (
            "https://api.port.io",
            {"HTTPS_PROXY": "http://p", "NO_PROXY": "api.port.io:8443"},
            {"https": "http://p"},
        ),
        (
            "https://api.port.io",
            {"HTTPS_PROXY": "http://p", "NO_PROXY": "notport.io"},
            {"https": "http://p"},
        ),
        ("https://10.1.2.3", {"HTTPS_PROXY": "http://p", "NO_PROXY": "10.0.0.0/8"}, {}),
        ("http://127.0.0.1:9000", {"HTTP_PROXY": "http://p"}, {}),
        ("http://localhost:9000", {"http_proxy": "http://p"}, {}),
        ("http://[::1]:9000", {"http_proxy": "http://p"}, {}),
    ],
)
def test_proxies_are_read_explicitly(
    url: str, environ: dict[str, str], expected: dict[str, str]
) -> None:
    """The runner's proxy is used for the real services unless NO_PROXY names them; never for
    loopback."""
    assert proxies_for(url, environ) == expected


def test_loopback_and_no_proxy_rules() -> None:
    """Loopback is recognised in every spelling; NO_PROXY matches whole labels only."""
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("10.0.0.1", "example.com", "localhost.example.com"))
    assert bypassed("a.b.example.com", 443, "example.com")
    assert not bypassed("badexample.com", 443, "example.com")
    assert ca_bundle({}) is True
    assert ca_bundle({"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}) == "/etc/ca.pem"


def test_a_refused_connection_is_retried_even_for_a_write() -> None:
    """A write that never left (connection refused) may be sent again; in the end the error
    says the service could not be reached."""
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
    clock = RecordingClock()
    service = Transport("Test", url, headers={}, deadline=Deadline(60, clock), environ={})
    with pytest.raises(ServiceUnavailable, match="could not connect") as caught:
        service.request(Policy.WRITE, "PUT", "/x", json_body={})
    assert not isinstance(caught.value, OutcomeUnknown)
    assert len(clock.slept) == Policy.WRITE.rules.attempts - 1


class RecordingClock(SystemClock):
    """The system clock, except that waits are recorded and pass at once."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.skipped = 0.0

    def monotonic(self) -> float:
        return super().monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.skipped += seconds


def test_a_compressed_answer_cut_short_is_a_broken_body(server: Callable[..., RawServer]) -> None:
    """A gzip stream that ends before its end is a broken body, not a half-read success."""
    whole = gzip.compress(b'{"a": "' + b"x" * 5000 + b'"}')
    raw = server(send(answer(whole[: len(whole) // 2], headers=("Content-Encoding: gzip",))))
    response = transport(raw.url).request(Policy.WRITE, "PUT", "/gz", json_body={})
    assert response.body_error == "the answer was cut short"
    assert response.body is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "https://127.0.0.1:9"])
def test_every_pool_reads_past_interim_answers(url: str) -> None:
    """Direct and proxied pools, plain and TLS, all use the response class that skips 1xx (no
    connection is opened to find out)."""
    adapter = FinalAnswerAdapter()
    managers = [adapter.poolmanager, adapter.proxy_manager_for("http://127.0.0.1:3128")]
    for manager in managers:
        pool = manager.connection_from_url(url)
        assert pool.ConnectionCls.response_class is FinalResponse  # type: ignore[attr-defined]
    adapter.close()


def test_an_attempts_own_time_is_counted_in_real_seconds(server: Callable[..., RawServer]) -> None:
    """The run's clock may jump (a test's skipped retry wait in another thread of the run): the
    attempt's own share, a network timeout, is still counted in real seconds, so an answer that
    comes in time is read, not taken as lost and asked for again; the run's deadline still
    counts the jump."""
    body = JSON_OK

    def late_body(conn: socket.socket) -> None:
        whole = answer(body)
        conn.sendall(whole[: -len(body)])
        time.sleep(0.4)
        conn.sendall(body)

    raw = server(late_body)
    clock = SkippingClock()
    deadline = Deadline(120.0, clock=clock)
    link = Transport("Test", raw.url, headers={}, deadline=deadline, environ={})
    jump = threading.Timer(0.1, clock.sleep, args=(deadline.attempt_timeout + 5,))
    jump.start()
    response = link.request(Policy.TOKEN, "POST", "/v1/auth/access_token")
    jump.join()
    assert response.body_error is None
    assert response.status == 200
    assert len(raw.requests) == 1
    assert deadline.remaining() < 120.0 - deadline.attempt_timeout - 5
