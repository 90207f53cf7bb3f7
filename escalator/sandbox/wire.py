"""The request and answer types shared by the sandbox's two fake services.

A handler takes a :class:`Request` and returns a :class:`Reply`, or raises :class:`ApiError`
with the error body the real service would send. Nothing here touches a socket.
"""

from __future__ import annotations

import datetime as dt
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

JSON = Any
"""A value decoded from, or ready to encode as, JSON."""

_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Request:
    """One decoded HTTP request, with the service prefix already stripped from ``path``."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: JSON
    raw_body: bytes = b""
    body_is_json: bool = True

    def header(self, name: str) -> str | None:
        """Return a header's value by case-insensitive name, or None."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def flag(self, name: str) -> bool:
        """Return a boolean query parameter (``true``/``1``) as Port reads it."""
        values = self.query.get(name) or [""]
        return values[-1].lower() in {"true", "1"}


@dataclass
class Reply:
    """An answer to send: status, JSON body and extra headers; ``applied`` marks a state change."""

    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)
    applied: bool = False


class ApiError(Exception):
    """An error answer, carrying the status and body the real service would send."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}


def now_iso() -> str:
    """Return the current UTC time as PagerDuty and Port print it (``2026-08-20T09:12:44Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso_millis() -> str:
    """Return the current UTC time with milliseconds, as Port prints it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def new_id(prefix: str, length: int) -> str:
    """Return a random id of uppercase letters and digits, ``length`` long, after ``prefix``."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))
