"""Port run logs, sent in order from a background thread, off the critical path.

Every text is redacted before it leaves (a service's message or an input can hold a secret); the
Port client makes it inert: one line, no control characters (a note's line breaks or ESC cannot
forge a log line).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from escalator.clients.port import PortClient
from escalator.errors import EscalatorError


class RunLogger:
    """Sends Port run logs in order from a background thread."""

    def __init__(self, port: PortClient, run_id: str, redact: Callable[[str], str]) -> None:
        self.port = port
        self.run_id = run_id
        self.redact = redact
        self.failures: list[EscalatorError] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="port-run-log", daemon=True)
        self._thread.start()

    def send(self, message: str) -> None:
        """Queue ``message`` (redacted now, before it can reach another thread)."""
        self._queue.put(self.redact(message))

    def flush(self, timeout: float) -> bool:
        """Wait, at most ``timeout`` seconds, for every queued log to be sent."""
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _work(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            try:
                self.port.add_run_log(self.run_id, message)
            except EscalatorError as exc:
                self.failures.append(exc)
