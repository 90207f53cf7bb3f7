"""An answer as the clients get it: its status, its headers and its JSON body read whole (or why
the body could not be read), and the JSON of a request's body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from escalator.errors import UnexpectedResponse


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


def parse_json(content: bytes, response: HttpResponse) -> None:
    """Set ``response``'s body from ``content`` (nothing for an empty body), or say why not."""
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


def dump_json(document: Any) -> bytes:
    """``document`` as the compact UTF-8 JSON a request sends."""
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
