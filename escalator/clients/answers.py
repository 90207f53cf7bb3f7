"""What a service's answer means, shared by the PagerDuty and Port clients: the rule (message and
fix) for an error answer, and the check that a successful answer has the documented shape.

Anything a service can send, valid JSON of the wrong shape included, becomes the project's own
error here, with a hint; pydantic's and json's exceptions never leave a client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from escalator.errors import ApiError, UnexpectedResponse

if TYPE_CHECKING:
    from escalator.http import HttpResponse

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


@dataclass(frozen=True)
class Reading:
    """What a service's error answer says: the rule that applies, its own words, its code."""

    rule: ErrorRule
    said: str = ""
    code: str | int | None = None


def error_for(
    error_type: type[ApiErrorT],
    response: HttpResponse,
    method: str,
    path: str,
    read: Callable[[HttpResponse, str], Reading],
) -> ApiErrorT:
    """The error for an error answer: what was asked, the status, the rule that ``read`` finds
    for it (with the service's own words), and the fix."""
    found = read(response, path)
    # The status is in the error's title ("PagerDuty answered 404"): not said twice.
    full = f"{method} {path}: {found.rule.message}"
    if found.said and not _same_words(found.said, found.rule.message):
        full += f" {error_type.service} said: {clip(found.said)}"
    if isinstance(found.code, int):
        full += f" (code {found.code})"
    return error_type(
        full,
        status=response.status,
        code=found.code,
        method=method,
        path=path,
        hint=found.rule.hint,
    )


def _same_words(said: str, ours: str) -> bool:
    """Whether the service's words only repeat ours (then they are not quoted again)."""
    words = " ".join(said.lower().strip(" .").split())
    return bool(words) and words in " ".join(ours.lower().split())


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
