"""Instants and windows as the on-call inputs take them: ISO 8601 with an offset, or a duration.

``start`` is an instant (``2026-12-06T21:00:00Z``, ``2026-12-06T22:00:00+01:00``; Port's
``date-time`` inputs give ``...Z`` with milliseconds); ``end`` is an instant or a duration after
``start`` (``30m``, ``4h``, ``2d``, ``1h30m``). A window ends after it starts, at most
:data:`MAX_WINDOW` later, and after now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

MAX_WINDOW = timedelta(days=90)
_DURATION = re.compile(r"(?:(\d{1,5})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?", re.IGNORECASE)
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def parse_instant(text: str) -> datetime:
    """``text`` as an aware instant; raises ValueError for a time without an offset."""
    value = text.strip()
    if not _OFFSET.search(value) or "T" not in value.upper():
        raise ValueError("is not an ISO 8601 date and time with an offset (2026-12-06T21:00:00Z)")
    try:
        instant = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not a valid ISO 8601 date and time") from None
    if instant.tzinfo is None:
        raise ValueError("has no offset: add Z or +01:00")
    return instant


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``4h``, ``2d``, ``1h30m`` as a duration; None when ``text`` is not one."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        return None
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def check_instant(text: str) -> str:
    """``text`` unchanged if it is an instant (for a field validator)."""
    parse_instant(text)
    return text


def check_end(text: str) -> str:
    """``text`` unchanged if it is an instant or a duration (for a field validator)."""
    if parse_duration(text) is None:
        try:
            parse_instant(text)
        except ValueError:
            raise ValueError(
                "is neither an ISO 8601 date and time with an offset nor a duration "
                "(30m, 4h, 2d, 1h30m)"
            ) from None
    return text


def window(start: str | None, end: str, now: datetime) -> tuple[datetime, datetime]:
    """The window from ``start`` (default ``now``) to ``end``; raises ValueError naming what is
    wrong with ``end`` when it does not end after the start, after now, within 90 days."""
    begins = parse_instant(start) if start else now
    duration = parse_duration(end)
    ends = begins + duration if duration is not None else parse_instant(end)
    if ends <= begins:
        raise ValueError("ends before or at the start")
    if ends - begins > MAX_WINDOW:
        raise ValueError("is more than 90 days after the start")
    if ends <= now:
        raise ValueError("is in the past")
    return begins.astimezone(UTC), ends.astimezone(UTC)


def iso(instant: datetime) -> str:
    """``instant`` in UTC as PagerDuty writes it: ``2026-12-06T21:00:00Z``."""
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_instant(left: str, right: datetime) -> bool:
    """Whether the instant written ``left`` is ``right`` (compared as UTC, to the second)."""
    try:
        instant = parse_instant(left)
    except ValueError:
        return False
    return iso(instant) == iso(right)
