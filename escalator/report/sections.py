"""The job summary's sections every summary shares: the error, the bodies a dry run would send,
the links and the warnings, each rendered one way for an incident and for any other target."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from escalator.errors import ErrorText
from escalator.markdown import md_code, md_link

Cell = Callable[[object], str]


class Shown(Protocol):
    """What a dry run shows of a write, for an incident or any other target."""

    @property
    def request_line(self) -> str: ...

    def body(self) -> Mapping[str, object]: ...


def error_lines(error: ErrorText, cell: Cell) -> list[str]:
    """The error and how to fix it, each a paragraph of its own."""
    lines = [f"**Error:** {cell(error.message)}", ""]
    if error.hint:
        lines += [f"**How to fix:** {cell(error.hint)}", ""]
    return lines


def dry_run_lines(writes: Iterable[Shown], redact: Callable[[str], str]) -> list[str]:
    """The requests a dry run would send, in order, each with its body, redacted."""
    lines = ["Would send to PagerDuty, in this order:", ""]
    for write in writes:
        request = redact(f"{write.request_line} {json.dumps(write.body(), sort_keys=True)}")
        lines.append(f"- {md_code(request)}")
    lines.append("")
    return lines


def links(run_link: str | None, port_run_id: str | None, entity: str | None) -> list[str]:
    """The workflow job, the Port run and the upserted entity (``blueprint/identifier``)."""
    found = []
    if run_link:
        found.append(md_link("Workflow job", run_link))
    if port_run_id:
        found.append(f"Port run {md_code(port_run_id)}")
    if entity is not None:
        found.append(f"Port entity {md_code(entity)}")
    return found


def closing_lines(found_links: list[str], warnings: Sequence[str], cell: Cell) -> list[str]:
    """The links on one line, then the warnings as a list."""
    lines: list[str] = []
    if found_links:
        lines += [" · ".join(found_links), ""]
    if warnings:
        lines += ["**Warnings:**", ""] + [f"- {cell(warning)}" for warning in warnings]
        lines.append("")
    return lines
