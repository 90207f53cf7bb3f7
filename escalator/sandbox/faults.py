"""Faults: scripted answers, dropped connections, hangs and broken bodies for chosen routes.

The format, the same in a file given at start and at ``POST /__sandbox/faults``::

    {"faults": [Fault, ...], "latency": 0.1}
    Fault = {"method": "PUT", "path": "/pagerduty/incidents/*", "steps": [Step, ...],
             "repeat_last": false, "latency": 0.2}
    Step = {"status": 429, "headers": {...}, "body": ...} | {"fault": "reset"} | ...

``seconds`` times a hang; ``interval`` paces ``drip`` (one byte each) and ``endless`` (one
1 KiB chunk each).

Each matching request consumes one step; once the steps are used up, requests pass (or the
last step repeats forever with ``repeat_last``).
"""

from __future__ import annotations

import copy
import fnmatch
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = (
    "reset",
    "reset_after",
    "hang",
    "hang_after",
    "malformed",
    "truncated",
    "drip",
    "endless",
    "gzip",
    "early_hints",
)
AFTER_PROCESSING = {
    "reset_after",
    "hang_after",
    "malformed",
    "truncated",
    "drip",
    "endless",
    "gzip",
    "early_hints",
}
SHAPED = {"drip", "endless", "gzip", "early_hints"}
"""Kinds that send the real answer, reshaped on the wire."""
DEFAULT_INTERVAL = 0.05


class FaultFormatError(ValueError):
    """A fault list that does not follow the documented format."""


@dataclass(frozen=True)
class Step:
    """One scripted reaction; ``kind`` is ``status``, ``pass`` or one of :data:`FAULT_KINDS`."""

    kind: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    seconds: float = 30.0
    interval: float = DEFAULT_INTERVAL

    @property
    def processes(self) -> bool:
        """Whether the request is processed (and may change state) under this step."""
        return self.kind == "pass" or self.kind in AFTER_PROCESSING


@dataclass
class Fault:
    """One route's script of steps."""

    path: str
    steps: list[Step]
    method: str | None = None
    repeat_last: bool = False
    latency: float = 0.0
    used: int = 0
    source: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request's method and path (without query) fall under this fault."""
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(
            path, self.path
        )

    def take(self) -> Step | None:
        """Consume the next step, or return None when the script is used up."""
        if self.used < len(self.steps):
            self.used += 1
            return self.steps[self.used - 1]
        if self.repeat_last and self.steps:
            self.used += 1
            return self.steps[-1]
        return None


def _number(value: Any, what: str) -> float:
    """Return a non-negative number or raise :class:`FaultFormatError`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultFormatError(f"{what} must be a non-negative number of seconds, got {value!r}")
    return float(value)


def parse_step(data: Any, where: str) -> Step:
    """Return a :class:`Step` from its JSON form."""
    if not isinstance(data, dict):
        raise FaultFormatError(f"{where} must be an object")
    if "status" in data:
        status = data["status"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise FaultFormatError(f"{where}.status must be an HTTP status code, got {status!r}")
        headers = data.get("headers", {})
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) for k, v in headers.items()
        ):
            raise FaultFormatError(f"{where}.headers must map header names to strings")
        return Step(
            "status",
            status,
            {k: str(v) for k, v in headers.items()},
            copy.deepcopy(data.get("body")),
            "body" in data,
        )
    if data.get("pass") is True:
        return Step("pass")
    kind = data.get("fault")
    if kind not in FAULT_KINDS:
        raise FaultFormatError(
            f"{where} needs a status, pass: true or a fault among {', '.join(FAULT_KINDS)}; "
            f"got {data!r}"
        )
    seconds = _number(data.get("seconds", 30), f"{where}.seconds")
    interval = _number(data.get("interval", DEFAULT_INTERVAL), f"{where}.interval")
    return Step(kind, seconds=seconds, interval=interval)


def parse_fault(data: Any, where: str) -> Fault:
    """Return a :class:`Fault` from its JSON form."""
    if not isinstance(data, dict):
        raise FaultFormatError(f"{where} must be an object")
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultFormatError(f"{where}.path must be a path pattern starting with /")
    method = data.get("method")
    if method is not None and not isinstance(method, str):
        raise FaultFormatError(f"{where}.method must be a string")
    steps = data.get("steps", [])
    if not isinstance(steps, list):
        raise FaultFormatError(f"{where}.steps must be a list")
    return Fault(
        path=path,
        method=method.upper() if method else None,
        steps=[parse_step(s, f"{where}.steps[{i}]") for i, s in enumerate(steps)],
        repeat_last=bool(data.get("repeat_last", False)),
        latency=_number(data.get("latency", 0), f"{where}.latency"),
        source=copy.deepcopy(data),
    )


def parse_plan(data: Any) -> tuple[list[Fault], float | None]:
    """Return the faults and latency (None if absent) of ``{"faults", "latency"}`` or a list."""
    latency: float | None = None
    if isinstance(data, dict):
        if "latency" in data:
            latency = _number(data["latency"], "latency")
        data = data.get("faults", [])
    if not isinstance(data, list):
        raise FaultFormatError('faults must be a list or {"faults": [...], "latency": seconds}')
    return [parse_fault(f, f"faults[{i}]") for i, f in enumerate(data)], latency


class FaultPlan:
    """The faults in force and the latency added to every request, safe across threads."""

    def __init__(self) -> None:
        """Start with no faults and no latency."""
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency = 0.0

    def set(self, faults: list[Fault], latency: float | None = None) -> None:
        """Replace the faults (and the latency when given)."""
        with self._lock:
            self._faults = faults
            if latency is not None:
                self.latency = latency

    def clear(self) -> None:
        """Remove every fault and the latency."""
        self.set([], 0.0)

    def next_step(self, method: str, path: str) -> tuple[Step | None, float]:
        """Return the step for a request (None: process normally) and the latency to add."""
        with self._lock:
            latency = self.latency
            for fault in self._faults:
                if fault.matches(method, path):
                    latency += fault.latency
                    step = fault.take()
                    if step is not None:
                        return step, latency
            return None, latency

    def describe(self) -> dict[str, Any]:
        """Return the plan as JSON, with how many steps each fault has used."""
        with self._lock:
            return {
                "faults": [f.source | {"used": f.used} for f in self._faults],
                "latency": self.latency,
            }
