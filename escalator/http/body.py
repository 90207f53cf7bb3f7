"""Reading an answer's body within bounds: a time limit checked while it is read, and a size cap
on what it holds once decompressed.

The action asks for ``Accept-Encoding: identity``; a body compressed anyway (gzip or deflate) is
decompressed here a bounded piece at a time, so a small bomb cannot grow past the cap. Any other
encoding is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Protocol

from urllib3.exceptions import HTTPError as Urllib3Error

#: The largest body the action reads, decompressed (the services' answers are a few KiB).
MAX_BODY_BYTES = 4 * 1024 * 1024
CHUNK = 64 * 1024
#: zlib's window bits for "a gzip or a zlib header, detected"
_GZIP_OR_ZLIB = 47


class BodyError(Exception):
    """The body could not be read whole; ``retryable`` says whether asking again may help."""

    def __init__(self, problem: str, *, retryable: bool = True) -> None:
        super().__init__(problem)
        self.problem = problem
        self.retryable = retryable


class RawBody(Protocol):
    """The part of urllib3's response the reader uses (public API only)."""

    def read1(self, amt: int | None = None, decode_content: bool | None = None) -> bytes: ...


Decoder = Callable[[bytes, int], bytes]


def read_body(
    raw: RawBody,
    encoding: str,
    *,
    time_left: Callable[[], float],
    set_timeout: Callable[[float], None],
    limit: int = MAX_BODY_BYTES,
) -> bytes:
    """The whole body, decoded; :class:`BodyError` when it is too slow, too large, cut short or
    in an encoding that was not asked for.

    ``time_left`` is checked before every read, and ``set_timeout`` bounds each wait for bytes by
    it, so a body dripped a byte at a time ends when the time does.
    """
    decode = _decoder(encoding)
    parts: list[bytes] = []
    size = 0
    while True:
        left = time_left()
        if left <= 0:
            raise BodyError("the answer did not finish in time")
        set_timeout(left)
        try:
            chunk = raw.read1(CHUNK, decode_content=False)
        except (Urllib3Error, OSError) as exc:
            timed_out = "timed out" in str(exc).lower()
            raise BodyError(
                "the answer did not finish in time" if timed_out else "the answer was cut short"
            ) from exc
        data = decode(chunk, limit - size + 1)
        size += len(data)
        if size > limit:
            too_large = f"the answer is larger than {limit / 2**20:g} MiB"
            raise BodyError(too_large, retryable=False)
        parts.append(data)
        if not chunk:
            return b"".join(parts)


def _decoder(encoding: str) -> Decoder:
    """A bounded decoder for the ``Content-Encoding`` of an answer."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return lambda chunk, _room: chunk
    if name not in ("gzip", "x-gzip", "deflate"):
        raise BodyError(
            f"the answer is compressed ({encoding[:40]}), which the action did not ask for",
            retryable=False,
        )
    inflater = zlib.decompressobj(_GZIP_OR_ZLIB)

    def inflate(chunk: bytes, room: int) -> bytes:
        try:
            if not chunk:
                if not inflater.eof:
                    raise BodyError("the answer was cut short")
                return inflater.flush()[:room]
            data = inflater.decompress(chunk, room)
        except zlib.error as exc:
            raise BodyError("the compressed answer is broken", retryable=False) from exc
        return data  # ``room`` bytes when more would come: the caller sees it is too large

    return inflate
