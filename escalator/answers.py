"""What a service's answer means, shared by the PagerDuty and Port clients: the rule (message and
fix) for an error answer, and the check that a successful answer has the documented shape.

Anything a service can send, valid JSON of the wrong shape included, becomes the project's own
error here, with a hint; pydantic's and json's exceptions never leave a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from escalator.errors import ApiError, UnexpectedResponse

ModelT = TypeVar("ModelT", bound=BaseModel)
ApiErrorT = TypeVar("ApiErrorT", bound=ApiError)

#: How much of a service's own message is quoted in an error.
QUOTE_LIMIT = 300


@dataclass(frozen=True)
class ErrorRule:
    """What an error answer means for the user: a message and the fix."""

    message: str
    hint: str


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def api_error(
    error_type: type[ApiErrorT],
    rule: ErrorRule,
    *,
    status: int,
    method: str,
    path: str,
    said: str = "",
    code: str | int | None = None,
) -> ApiErrorT:
    """The error for an error answer: what was asked, the status, the rule, the service's words."""
    full = f"{method} {path} answered {status}: {rule.message}"
    if said:
        full += f" {error_type.service} said: {clip(said)}"
    if isinstance(code, int):
        full += f" (code {code})"
    return error_type(full, status=status, code=code, method=method, path=path, hint=rule.hint)


def validated(model: type[ModelT], data: Any, *, service: str, what: str, hint: str) -> ModelT:
    """``data`` validated as ``model``, or :class:`UnexpectedResponse` naming the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UnexpectedResponse(
            service, f"{what}: the answer is not as documented ({first_problem(exc)}).", hint=hint
        ) from exc


def first_problem(exc: ValidationError) -> str:
    """The first of pydantic's complaints, as ``field.path: message``."""
    errors = exc.errors()
    if not errors:
        return "unreadable"
    first = errors[0]
    where = ".".join(map(str, first["loc"])) or "the object"
    return clip(f"{where}: {first['msg']}", 120)
