"""What the fake PagerDuty's list answers share: classic pagination, times and references."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from escalator.sandbox.pagerduty_errors import invalid
from escalator.sandbox.wire import Reply, Request

MAX_LIMIT = 100


def page(request: Request, name: str, items: list[dict[str, Any]]) -> Reply:
    """Return one page of a classic-paginated list (``limit`` at most 100)."""
    try:
        limit = int(request.query.get("limit", ["25"])[-1])
        offset = int(request.query.get("offset", ["0"])[-1])
    except ValueError:
        raise invalid("limit and offset must be integers.") from None
    if limit < 1 or offset < 0:
        raise invalid("limit must be positive and offset not negative.")
    limit = min(limit, MAX_LIMIT)
    chunk = items[offset : offset + limit]
    return Reply(
        200,
        {
            name: copy.deepcopy(chunk),
            "limit": limit,
            "offset": offset,
            "more": offset + limit < len(items),
            "total": len(items),
        },
    )


def parse_time(value: str) -> dt.datetime:
    """Return an ISO 8601 time as an aware datetime (UTC when no offset is given)."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def iso(value: dt.datetime) -> str:
    """Return a time as PagerDuty prints it in UTC (``2026-08-20T09:00:00Z``)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def includes(request: Request) -> set[str]:
    """The names in the request's ``include[]`` (or ``include``) parameters."""
    return set(request.query.get("include[]", []) + request.query.get("include", []))


def reference(obj: dict[str, Any]) -> dict[str, Any]:
    """Return the ``<type>_reference`` of a full PagerDuty object."""
    ref = {key: obj[key] for key in ("id", "summary", "self", "html_url")}
    return ref | {"type": f"{obj['type'].removesuffix('_reference')}_reference"}
