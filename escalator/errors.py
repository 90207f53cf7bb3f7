"""The exceptions escalate-action raises, each with a hint that says what to change.

::

    EscalatorError                  every error of this project; its hint says what to fix
    ├── InputError                  an input is invalid; .input names it (nothing sent; exit 2)
    │   └── Refusal                 valid inputs the incident's state refuses (exit 1)
    ├── ApiError                    a service answered with an error status
    │   ├── PagerDutyError          .service == "PagerDuty", .code is PagerDuty's error code
    │   └── PortError               .service == "Port", .code is Port's error string
    ├── ServiceUnavailable          no usable answer within the retries or the deadline
    │   └── OutcomeUnknown          a request was sent and no answer came: applied or not?
    ├── UnexpectedResponse          an answer that is not what the API documents
    ├── PartlyApplied               a write failed after earlier writes of the run were applied
    └── ReportingError              PagerDuty was changed, but reporting to Port failed

Foreign exceptions (requests, pydantic) are translated into these at the client boundary with
``raise ... from exc``; nothing else is caught by the entrypoint, so any other exception is a bug
and keeps its traceback. An error is immutable: a different message or hint is a new error
raised ``from`` the first. ``.exit_code`` is the exit status a run ends with: 2 (usage) for an
input error, 1 for the others (a refusal included).

Messages and hints name inputs with placeholders (``{from}``, ``{urgency=high}``):
``.message_template`` and ``.hint_template`` keep the text as written, and whoever prints an error
renders it in its face's terms, ``error.render(terms)`` (:mod:`escalator.terms`); an error never
reads a face's terms itself. ``str(error)`` is the text as written, placeholders included (what a
traceback shows), never what a user reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from escalator.terms import Terms


@dataclass(frozen=True)
class ErrorText:
    """An error as one face says it: its title, and its message and hint in that face's terms."""

    title: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class EscalatorError(Exception):
    """Base class: a message, and a hint that tells the user what to change."""

    title = "Escalation failed"
    #: The process exit status this error ends a run with.
    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message_template = message
        self.hint_template = hint

    def __setattr__(self, name: str, value: object) -> None:
        if name in self.__dict__:  # immutable: a different text is a new error raised from this
            raise AttributeError(f"{type(self).__name__}.{name} is set once and cannot change")
        super().__setattr__(name, value)

    def render(self, terms: Terms) -> ErrorText:
        """The title, what went wrong and what to change, with inputs named in ``terms``."""
        return ErrorText(
            self.title, terms.render(self.message_template), terms.render(self.hint_template)
        )

    def __str__(self) -> str:
        return f"{self.message_template} {self.hint_template}".strip()


class InputError(EscalatorError):
    """An input is missing or invalid; raised before any request is sent (exit status 2, usage).

    ``input_name`` is an input of action.yml, or a key inside one (``port_context.entity``); the
    message starts with it, as a placeholder each face renders in its own terms.
    """

    title = "Invalid input"
    exit_code = 2

    def __init__(self, input_name: str, message: str, *, hint: str = "") -> None:
        super().__init__(f"{{{input_name}}}: {message}", hint=hint)
        self.input = input_name


class Refusal(InputError):
    """Valid inputs that this incident's state refuses (a level on a resolved incident): found
    after reading it, before any write (exit status 1)."""

    title = "Refused"
    exit_code = 1


class ApiError(EscalatorError):
    """A service answered with an error status."""

    service = "API"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | int | None = None,
        method: str = "",
        path: str = "",
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.method = method
        self.path = path

    @property
    def title(self) -> str:  # type: ignore[override]  # a computed title per service
        return f"{self.service} answered {self.status}"


class PagerDutyError(ApiError):
    """PagerDuty answered with an error status."""

    service = "PagerDuty"


class PortError(ApiError):
    """Port answered with an error status."""

    service = "Port"


class _ServiceProblem(EscalatorError):
    """A problem with a service as a whole, named in the message."""

    def __init__(self, service: str, message: str, *, hint: str = "") -> None:
        super().__init__(f"{service}: {message}", hint=hint)
        self.service = service


class ServiceUnavailable(_ServiceProblem):
    """A service gave no usable answer within the allowed attempts or the run's deadline."""

    title = "Service unavailable"


class OutcomeUnknown(ServiceUnavailable):
    """A request was sent but no answer came back: the server may or may not have applied it."""


class UnexpectedResponse(_ServiceProblem):
    """A service answered something the API does not document (not JSON, missing fields)."""

    title = "Unexpected response"


class PartlyApplied(EscalatorError):
    """A write failed after earlier writes of the same run were applied: says which were
    (``applied`` and ``failed`` are request lines: 'PUT /incidents/Q1')."""

    title = "Partly done in PagerDuty"

    def __init__(self, cause: EscalatorError, *, applied: list[str], failed: str) -> None:
        done = ", ".join(applied)
        super().__init__(
            f"PagerDuty applied {done}; {failed} then failed. {cause.message_template}",
            hint=cause.hint_template,
        )
        self.cause = cause
        self.exit_code = cause.exit_code


class ReportingError(EscalatorError):
    """The escalation happened in PagerDuty, but reporting it to Port failed."""

    title = "Done in PagerDuty, but Port was not updated"

    def __init__(
        self,
        cause: EscalatorError,
        *,
        not_done: str,
        done: str = "escalated",
        what: str | None = None,
    ) -> None:
        # an API error's status is in its title, which this error's own title replaces
        status = f" ({cause.title})" if isinstance(cause, ApiError) else ""
        was = "The incident was" if what is None else f"The {what} was"  # what was changed
        super().__init__(
            f"{was} {done} in PagerDuty, but {not_done}{status}: {cause.message_template}",
            hint=cause.hint_template,
        )
        self.cause = cause
        self.not_done = not_done
