"""The parts of an Events API v2 event that both event operations build from the inputs: the
custom details, the source, the links back to the runs, and the limits PagerDuty sets.

Pure functions: the inputs in, a value or an :class:`~escalator.errors.InputError` out, before
anything is sent.
"""

from __future__ import annotations

import json
import uuid
from typing import Protocol
from urllib.parse import quote, urlsplit

from escalator.clients.bodies import EventLink
from escalator.errors import InputError
from escalator.inputs import CommonInputs
from escalator.inputs.fields import EventSource, PagerDutyId, load_json

#: PagerDuty's limits (Events API v2): the summary, and the whole event in bytes.
MAX_SUMMARY = 1024
MAX_EVENT_BYTES = 512 * 1024
#: What an event's ``source`` is when neither the input nor a Port entity names one.
DEFAULT_SOURCE = "port"


class EventInputs(CommonInputs):
    """The inputs an event operation may take besides its own (its title, which each declares in
    its place): where the event comes from, what it details, and the service it is for."""

    source: EventSource | None = None
    details: str | None = None
    service_id: PagerDutyId | None = None


def require_events(inputs: CommonInputs, operation: str) -> None:
    """The routing key and the Events API's URL an event operation cannot run without."""
    if inputs.routing_key is None:
        raise InputError(
            "routing_key",
            f"is required by {{operation={operation}}}.",
            hint="Set {routing_key} from a secret to the Integration Key of the service's Events "
            "API v2 integration (PagerDuty: the service > Integrations).",
        )
    if inputs.pagerduty_events_url is None:
        raise InputError(
            "pagerduty_events_url",
            "is required: {pagerduty_region} names no region to take it from.",
            hint="Set {pagerduty_region=us} or {pagerduty_region=eu}, or give "
            "{pagerduty_events_url}.",
        )


def custom_details(details: str | None) -> dict[str, object] | None:
    """``details`` as the event's ``custom_details``: a JSON object as given, any other text
    under ``details``; text that opens like an object must be one."""
    if not details:
        return None
    if not details.lstrip().startswith("{"):
        return {"details": details}
    try:
        document = load_json(details)
    except ValueError as exc:
        raise InputError(
            "details",
            f"looks like a JSON object but {exc}.",
            hint='Give {details} as a JSON object (such as {"region": "eu-west-1"}) or as '
            "text that does not start with {.",
        ) from exc
    if not isinstance(document, dict):
        raise InputError("details", "is not a JSON object.", hint="Give a JSON object or text.")
    return document


def event_source(inputs: EventInputs) -> str:
    """The event's ``source``: the input (or the Port entity), else the service, else 'port'."""
    return inputs.source or inputs.service_id or DEFAULT_SOURCE


class Titled(Protocol):
    """Inputs with a title (each event operation declares its own, required or not)."""

    @property
    def title(self) -> str | None: ...


def summary_of(inputs: Titled) -> str:
    """The event's ``summary`` (the ``title`` input), within PagerDuty's limit."""
    title = inputs.title or ""
    if len(title) > MAX_SUMMARY:
        raise InputError(
            "title",
            f"is {len(title)} characters; PagerDuty takes at most {MAX_SUMMARY}.",
            hint=f"Shorten {{title}} to {MAX_SUMMARY} characters; put the rest in {{details}}.",
        )
    return title


def check_size(event: object) -> None:
    """Refuse an event larger than PagerDuty takes (512 KB), naming ``details``."""
    size = len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        raise InputError(
            "details",
            f"makes the event {size // 1024} KB; PagerDuty takes at most 512 KB.",
            hint="Shorten {details}: keep what a responder needs, link to the rest.",
        )


def run_key() -> str:
    """A dedup key for a trigger given none and no Port run: the same for every send of this
    run (a lost answer re-sent is grouped), new for the next run."""
    return f"escalator-{uuid.uuid4().hex}"


def port_run_page(port_api_url: str, run_id: str | None) -> str:
    """The Port run's page in Port's app ('' when unknown: no run, or an API host that is not
    Port's own, such as the sandbox)."""
    host = urlsplit(port_api_url).hostname or ""
    if not run_id or not host.startswith("api.") or not host.endswith(("port.io", "getport.io")):
        return ""
    return f"https://app.{host.removeprefix('api.')}/organization/run?runId={quote(run_id)}"


def run_links(inputs: EventInputs, github_run_url: str) -> list[EventLink]:
    """Links back to the Port run and to the GitHub run, where each is known."""
    links: list[EventLink] = []
    port_page = port_run_page(inputs.port_api_url, inputs.port_run_id)
    if port_page:
        links.append({"href": port_page, "text": "Port action run"})
    if github_run_url:
        links.append({"href": github_run_url, "text": "GitHub Actions run"})
    return links
