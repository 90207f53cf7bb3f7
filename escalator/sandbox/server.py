"""The sandbox's HTTP server: routing, faults, latency, the journal and the control endpoints.

Layout of one request: control (``/__sandbox/...``, no auth, not journaled) or service
(``/pagerduty/...``, ``/events/...`` for PagerDuty's Events API v2, or ``/port/...``):
latency, then the fault step, then the service under the state lock, then a journal entry,
then the answer (or a dropped, held or broken one).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from escalator.sandbox import events as events_service
from escalator.sandbox import pagerduty
from escalator.sandbox import port as port_service
from escalator.sandbox.blueprints import SHAPES
from escalator.sandbox.faults import SHAPED, FaultFormatError, FaultPlan, Step, parse_plan
from escalator.sandbox.redaction import redact_body, redact_headers
from escalator.sandbox.seed import PRIORITY_MODES, Links, State, build_state, rebuild_catalog
from escalator.sandbox.wire import JSON, Reply, Request

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_READ = 8 * 1024 * 1024
SERVICES = ("pagerduty", "events", "port")
#: What ``GET /__sandbox/`` lists (docs/sandbox.md says what each does).
CONTROL_ENDPOINTS = (
    "GET /__sandbox/journal",
    "DELETE /__sandbox/journal",
    "GET /__sandbox/state",
    "POST /__sandbox/reset",
    "GET /__sandbox/faults",
    "POST /__sandbox/faults",
    "DELETE /__sandbox/faults",
    "POST /__sandbox/blueprint-shape",
    "POST /__sandbox/priorities",
    "POST /__sandbox/limits",
    "POST /__sandbox/expire-snoozes",
)


class _Server(ThreadingHTTPServer):
    """A threading server that tracks its connections so it can drop or reset them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        """Bind to ``address`` and serve ``sandbox``."""
        self.sandbox = sandbox
        self.connections: set[socket.socket] = set()
        self.to_reset: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops its connection is no error worth a traceback; others are."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection, then serve it in its own thread."""
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Close a connection: abruptly (RST) when a fault asked for it."""
        with self.connections_lock:
            self.connections.discard(request)
            reset = request in self.to_reset
            self.to_reset.discard(request)
        if reset:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
        else:
            super().shutdown_request(request)

    def drop_all(self) -> None:
        """Shut down every open connection, waking threads that wait on them."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Handles every request on one connection (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY a kept-alive connection
    # waits ~40 ms on the client's delayed ACK before the body, as no real API server does.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "escalator-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the journal records every request."""

    def do_GET(self) -> None:
        """Handle GET."""
        self._handle()

    def do_POST(self) -> None:
        """Handle POST."""
        self._handle()

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._handle()

    def do_PATCH(self) -> None:
        """Handle PATCH."""
        self._handle()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._handle()

    # -- reading and writing -----------------------------------------------------------------

    def _read_body(self) -> bytes:
        """Read the request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_READ:
            self.close_connection = True
            return self.rfile.read(MAX_READ)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: JSON,
        headers: dict[str, str],
        *,
        raw: bytes | None = None,
        declared: int | None = None,
    ) -> None:
        """Send an answer; ``raw`` replaces the JSON body, ``declared`` the Content-Length."""
        payload = raw if raw is not None else json.dumps(body).encode()
        self._head(status, headers, declared if declared is not None else len(payload))
        self.wfile.write(payload)
        self.wfile.flush()

    def _head(self, status: int, headers: dict[str, str], length: int | None) -> None:
        """Send the status line and headers (JSON by default; no Content-Length when None)."""
        self.send_response(status)
        names = {k.lower() for k in headers}
        if "content-type" not in names:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send_shaped(self, sandbox: Sandbox, step: Step, reply: Reply) -> None:
        """Send the real answer reshaped: dripped, endless, gzip-compressed or after a 103."""
        payload = json.dumps(reply.body).encode()
        if step.kind == "early_hints":
            self.send_response_only(103)
            self.send_header("Link", "</pagerduty>; rel=preconnect")
            self.end_headers()
            self._send(reply.status, reply.body, reply.headers)
        elif step.kind == "gzip":
            headers = reply.headers | {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
            self._send(reply.status, None, headers, raw=gzip.compress(payload))
        elif step.kind == "drip":
            self._head(reply.status, reply.headers, len(payload))
            for index in range(len(payload)):
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
                if index + 1 < len(payload) and sandbox.stopping.wait(step.interval):
                    self._drop(reset=False)
                    return
        else:
            self.close_connection = True
            self._head(reply.status, reply.headers | {"Transfer-Encoding": "chunked"}, None)
            chunk = payload[:1] + b" " * 1023
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                if sandbox.stopping.wait(step.interval):
                    return
                chunk = b" " * 1024

    def _drop(self, *, reset: bool) -> None:
        """Close the connection without an answer: RST when ``reset``, else FIN."""
        self.close_connection = True
        if reset:
            with self.server.connections_lock:
                self.server.to_reset.add(self.connection)

    # -- dispatch ----------------------------------------------------------------------------

    def _handle(self) -> None:
        """Route one request."""
        sandbox = self.server.sandbox
        started = time.monotonic()
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        raw = self._read_body()
        text = raw.decode("utf-8", errors="replace")
        body: JSON = None
        is_json = True
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, is_json = text, False
        headers = dict(self.headers.items())
        if path.startswith("/__sandbox/"):
            status, answer = sandbox.control(self.command, path, body if is_json else text)
            self._send(status, answer, {})
            return
        service = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        entry: dict[str, Any] = {
            "started": started,
            "connection": f"{self.client_address[0]}:{self.client_address[1]}",
            "method": self.command,
            "path": path,
            "query": query,
            "headers": redact_headers(headers),
            "body": redact_body(body),
            "status": None,
            "fault": None,
            "applied": False,
        }
        try:
            self._serve(sandbox, service, path, query, headers, raw, body, is_json, entry)
        finally:
            _record_once(sandbox, entry)

    def _serve(
        self,
        sandbox: Sandbox,
        service: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
        body: JSON,
        is_json: bool,
        entry: dict[str, Any],
    ) -> None:
        """Apply latency and the fault step, run the service, send what the step says."""
        step, latency = sandbox.faults.next_step(self.command, path)
        if latency and sandbox.stopping.wait(latency):
            self._drop(reset=False)
            return
        entry["fault"] = step.kind if step else None
        if step is not None and not step.processes:
            self._before_processing(sandbox, step, service, entry)
            return
        prefix = f"/{service}"
        request = Request(
            self.command, path[len(prefix) :] or "/", query, headers, body, raw, is_json
        )
        reply = sandbox.dispatch(service, request)
        entry["applied"] = reply.applied
        kind = step.kind if step else "pass"
        if kind == "reset_after":
            self._drop(reset=True)
        elif kind == "hang_after":
            assert step is not None
            sandbox.stopping.wait(step.seconds)
            self._drop(reset=False)
        elif kind == "malformed":
            entry["status"] = 200
            _record_once(sandbox, entry)
            self._send(200, None, reply.headers, raw=b'<html><body>Bad gateway {"incident": ')
        elif kind in SHAPED:
            assert step is not None
            entry["status"] = reply.status
            _record_once(sandbox, entry)
            with contextlib.suppress(ConnectionError):
                self._send_shaped(sandbox, step, reply)
        elif kind == "truncated":
            payload = json.dumps(reply.body).encode()
            entry["status"] = reply.status
            _record_once(sandbox, entry)
            self._send(
                reply.status,
                None,
                reply.headers,
                raw=payload[: len(payload) // 2],
                declared=len(payload),
            )
            self.close_connection = True
        else:
            entry["status"] = reply.status
            _record_once(sandbox, entry)
            empty = b"" if reply.status == 204 else None
            self._send(reply.status, reply.body, reply.headers, raw=empty)

    def _before_processing(
        self, sandbox: Sandbox, step: Step, service: str, entry: dict[str, Any]
    ) -> None:
        """Answer a step that replaces processing: a scripted status, a reset or a hang."""
        if step.kind == "status":
            assert step.status is not None
            body = step.body if step.has_body else sandbox.default_error(service, step.status)
            headers = dict(step.headers)
            raw = body.encode() if isinstance(body, str) else None
            if raw is not None and not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "text/plain; charset=utf-8"
            entry["status"] = step.status
            _record_once(sandbox, entry)
            self._send(step.status, body, headers, raw=raw)
        elif step.kind == "reset":
            self._drop(reset=True)
        else:
            sandbox.stopping.wait(step.seconds)
            self._drop(reset=False)


def _record_once(sandbox: Sandbox, entry: dict[str, Any]) -> None:
    """Journal ``entry`` (once), just before its answer is written: a client that has its answer
    always finds the request in the journal."""
    if entry.pop("_recorded", False):
        entry["_recorded"] = True
        return
    entry["ended"] = time.monotonic()
    sandbox.record({key: value for key, value in entry.items() if key != "_recorded"})
    entry["_recorded"] = True


class Sandbox:
    """A loopback fake of PagerDuty (REST under ``/pagerduty``, Events API v2 under ``/events``)
    and Port (under ``/port``).

    >>> with Sandbox() as sandbox:  # doctest: +SKIP
    ...     requests.get(f"{sandbox.pagerduty_url}/incidents/{DEMO_INCIDENT_ID}", headers=...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        blueprint_shape: str = "guide",
        faults: list[dict[str, Any]] | None = None,
        latency: float = 0.0,
        pagerduty_rate_limit: int | None = None,
        pagerduty_create_rate_limit: int | None = None,
        events_rate_limit: int | None = None,
        port_rate_limit: int | None = None,
        rate_window: float = 60.0,
        priorities: str = "enabled",
        allow_remote: bool = False,
    ) -> None:
        """Configure the sandbox; nothing is bound until :meth:`start`."""
        if host not in LOOPBACK_HOSTS and not allow_remote:
            raise ValueError(
                f"refusing to serve on {host!r}: the sandbox binds to loopback only unless "
                "allow_remote=True (--allow-remote)"
            )
        self._check_shape(blueprint_shape)
        if priorities not in PRIORITY_MODES:
            raise ValueError(
                f"unknown priorities mode {priorities!r}: use one of {', '.join(PRIORITY_MODES)}"
            )
        self.host = host
        self.port = port
        self._shape = blueprint_shape
        self._priorities = priorities
        self._limits = (pagerduty_rate_limit, pagerduty_create_rate_limit, events_rate_limit)
        self.faults = FaultPlan()
        self.set_faults(faults or [], latency)
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._journal: list[dict[str, Any]] = []
        self._seq = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.pagerduty_url = ""
        self.port_url = ""
        self.events_url = ""
        self._state: State = {}
        self._pagerduty = pagerduty.PagerDutyApi(
            lambda: self._state,
            lambda: Links(self.pagerduty_url),
            pagerduty_rate_limit,
            pagerduty_create_rate_limit,
            rate_window,
        )
        # Port's limit holds for the sandbox's life (a reset does not restore it).
        self._port = port_service.PortApi(lambda: self._state, port_rate_limit, rate_window)
        self._events = events_service.EventsApi(
            lambda: self._state,
            self._pagerduty.incidents,
            pagerduty.RateLimiter(events_rate_limit, window=rate_window),
        )

    @staticmethod
    def _check_shape(shape: str) -> None:
        """Refuse an unknown blueprint shape."""
        if shape not in SHAPES:
            raise ValueError(f"unknown blueprint shape {shape!r}: use one of {', '.join(SHAPES)}")

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Bind, seed and serve in background threads; return self."""
        self.stopping.clear()
        server = _Server((self.host, self.port), self)
        self._server = server
        bound_port = server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{host}:{bound_port}"
        self.pagerduty_url = f"{self.url}/pagerduty"
        self.port_url = f"{self.url}/port"
        self.events_url = f"{self.url}/events"
        self.reset()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="escalator-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving at once, ending hangs and dropping open connections."""
        server = self._server
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.drop_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Sandbox:
        """Start the sandbox."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the sandbox."""
        self.stop()

    # -- state, journal, faults --------------------------------------------------------------

    def journal(self) -> list[dict[str, Any]]:
        """Return a copy of the journal of service requests, oldest first."""
        with self._lock:
            return copy.deepcopy(self._journal)

    def clear_journal(self) -> None:
        """Forget every journal entry."""
        with self._lock:
            self._journal.clear()

    def record(self, entry: dict[str, Any]) -> None:
        """Append a journal entry, numbering it."""
        with self._lock:
            self._seq += 1
            self._journal.append({"seq": self._seq, **entry})

    def state(self) -> dict[str, Any]:
        """Return a copy of the state; Port's access tokens appear only as a count and
        integration keys as ``***``."""
        with self._lock:
            state = copy.deepcopy(self._state)
        tokens = state["port"].pop("access_tokens")
        state["port"]["access_tokens_issued"] = len(tokens)
        for integration in state["pagerduty"]["integrations"].values():
            integration["integration_key"] = "***"
        return state

    def reset(self, shape: str | None = None) -> None:
        """Restore the seed (in ``shape`` when given, else the current shape), the priorities
        mode and the rate limits given at construction."""
        if shape is not None:
            self._check_shape(shape)
            self._shape = shape
        with self._lock:
            self._state = build_state(self.pagerduty_url, self._shape)
            self._pagerduty.set_priorities(self._priorities)
            self.set_rate_limits(*self._limits)

    def set_priorities(self, mode: str) -> None:
        """Make PagerDuty's priorities ``enabled``, ``empty`` or ``disabled`` until a reset."""
        with self._lock:
            self._pagerduty.set_priorities(mode)

    def set_rate_limits(
        self, general: int | None, create: int | None, events: int | None = None
    ) -> None:
        """Set PagerDuty's per-minute limits (None: none) until the next reset; counts restart.

        ``events`` is the Events API's limit per routing key (PagerDuty's is about 120)."""
        for name, value in (
            ("pagerduty_rate_limit", general),
            ("create_rate_limit", create),
            ("events_rate_limit", events),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(f"{name} must be a non-negative integer or null, got {value!r}")
        for limiter, value in (
            (self._pagerduty.rate_limiter, general),
            (self._pagerduty.create_limiter, create),
            (self._events.limiter, events),
        ):
            limiter.limit = value
            limiter.reset()

    def expire_snoozes(self) -> list[str]:
        """End every PagerDuty snooze now (as if its time had come); return the incident ids."""
        with self._lock:
            return self._pagerduty.incidents.expire_snoozes(everything=True)

    def set_faults(self, faults: list[dict[str, Any]], latency: float | None = None) -> None:
        """Replace the faults (format in :mod:`escalator.sandbox.faults`) and maybe the latency."""
        parsed, _ = parse_plan(faults)
        if latency is not None and (isinstance(latency, bool) or latency < 0):
            raise FaultFormatError("latency must be a non-negative number of seconds")
        self.faults.set(parsed, latency)

    def clear_faults(self) -> None:
        """Remove every fault and the latency."""
        self.faults.clear()

    def set_blueprint_shape(self, shape: str) -> None:
        """Switch Port's PagerDuty blueprints, rebuilding the catalog from PagerDuty's state."""
        self._check_shape(shape)
        with self._lock:
            self._shape = shape
            rebuild_catalog(self._state["pagerduty"], self._state["port"], shape)

    @property
    def blueprint_shape(self) -> str:
        """The Port blueprint shape in force."""
        return self._shape

    # -- serving -----------------------------------------------------------------------------

    def dispatch(self, service: str, request: Request) -> Reply:
        """Run a service request under the state lock."""
        with self._lock:
            if service == "pagerduty":
                return self._pagerduty.handle(request)
            if service == "port":
                return self._port.handle(request)
            if service == "events":
                return self._events.handle(request)
        return Reply(
            404,
            {
                "ok": False,
                "error": "not_found",
                "message": "Paths start with /pagerduty, /events, /port or /__sandbox",
            },
        )

    @staticmethod
    def default_error(service: str, status: int) -> JSON:
        """Return the error body a service sends for a bare ``status``."""
        if service == "pagerduty":
            return pagerduty.error_body(status)
        if service == "events":
            return events_service.error_body(status)
        return port_service.default_error(status)

    def control(self, method: str, path: str, body: JSON) -> tuple[int, JSON]:
        """Serve a ``/__sandbox/...`` control request."""
        try:
            return self._control(method, path, body)
        except (ValueError, TypeError) as exc:
            return 400, {"ok": False, "error": "bad_request", "message": str(exc)}

    def _control(self, method: str, path: str, body: JSON) -> tuple[int, JSON]:
        """Route a control request; raise ValueError on a bad body."""
        name = path.removeprefix("/__sandbox/").rstrip("/")
        options = body if isinstance(body, dict) else {}
        if (name, method) == ("", "GET"):
            return 200, {"ok": True, "endpoints": list(CONTROL_ENDPOINTS)}
        if (name, method) == ("journal", "GET"):
            return 200, {"journal": self.journal()}
        if (name, method) == ("journal", "DELETE"):
            self.clear_journal()
            return 200, {"ok": True}
        if (name, method) == ("state", "GET"):
            return 200, self.state()
        if (name, method) == ("reset", "POST"):
            self.reset(options.get("shape"))
            return 200, {"ok": True, "blueprint_shape": self._shape}
        if (name, method) == ("faults", "GET"):
            return 200, self.faults.describe()
        if (name, method) == ("faults", "POST"):
            faults, latency = parse_plan(body if body is not None else [])
            self.faults.set(faults, latency)
            return 200, {"ok": True, **self.faults.describe()}
        if (name, method) == ("faults", "DELETE"):
            self.clear_faults()
            return 200, {"ok": True}
        if (name, method) == ("blueprint-shape", "POST"):
            self.set_blueprint_shape(str(options.get("shape")))
            return 200, {"ok": True, "blueprint_shape": self._shape}
        return self._pagerduty_control(name, method, options)

    def _pagerduty_control(
        self, name: str, method: str, options: dict[str, Any]
    ) -> tuple[int, JSON]:
        """Route a control request about the PagerDuty account."""
        if (name, method) == ("priorities", "POST"):
            self.set_priorities(str(options.get("mode")))
            return 200, {"ok": True, "priorities": options["mode"]}
        if (name, method) == ("limits", "POST"):
            limiters = (
                self._pagerduty.rate_limiter,
                self._pagerduty.create_limiter,
                self._events.limiter,
            )
            general = options.get("pagerduty_rate_limit", limiters[0].limit)
            create = options.get("create_rate_limit", limiters[1].limit)
            events = options.get("events_rate_limit", limiters[2].limit)
            self.set_rate_limits(general, create, events)
            return 200, {
                "ok": True,
                "pagerduty_rate_limit": general,
                "create_rate_limit": create,
                "events_rate_limit": events,
            }
        if (name, method) == ("expire-snoozes", "POST"):
            return 200, {"ok": True, "incidents": self.expire_snoozes()}
        return 404, {
            "ok": False,
            "error": "not_found",
            "message": f"No control endpoint {method} /__sandbox/{name}",
        }
