"""PagerDuty's error answers as the fake PagerDuty API sends them.

The body is ``{"error": {"message", "code", "errors"}}``; the codes are PagerDuty's published
ones (``docs/REST-API/14-Errors.md``): 1001 already resolved, 1002 already acknowledged, 1007
assignee not found, 1008 requester not found, 1011 cannot reassign, 1012 not acknowledged,
1013 bad snooze duration, 1014 policy not found, 1020 invalid priority, 2001 invalid input,
2002 arguments caused error, 2014 missing account ability, 2020 rate limited.
"""

from __future__ import annotations

from typing import Any

from escalator.sandbox.wire import ApiError

FROM_REQUIRED = (
    'You must specify a user\'s email address in the "From" header to perform this action'
)

ERROR_MESSAGES = {
    400: (2001, "Invalid Input Provided"),
    401: (2006, "Authentication failed"),
    402: (2014, "Missing Account Ability"),
    403: (2010, "Access Denied"),
    404: (2100, "Not Found"),
    408: (2016, "The request took too long to process"),
    429: (2020, "Rate Limit Exceeded"),
}


def error_body(
    status: int,
    message: str | None = None,
    code: int | None = None,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    """Return PagerDuty's error body for ``status``, with its usual code and message by default."""
    default_code, default_message = ERROR_MESSAGES.get(status, (2000, "Internal Server Error"))
    error: dict[str, Any] = {"message": message or default_message, "code": code or default_code}
    if errors is not None:
        error["errors"] = errors
    return {"error": error}


def fail(
    status: int,
    message: str | None = None,
    code: int | None = None,
    errors: list[str] | None = None,
) -> ApiError:
    """Return an :class:`ApiError` carrying PagerDuty's error body."""
    return ApiError(status, error_body(status, message, code, errors))


def invalid(*errors: str) -> ApiError:
    """Return the 400/2001 error for invalid input, listing what is wrong."""
    return fail(400, errors=list(errors))
