"""Apply the kit to a Port organisation through the Port client: read, plan, show, write.

It reads each blueprint and action the kit defines, plans them with :mod:`escalator.kit.plan`,
prints each decision (a unified diff for each write), and, unless it is a dry run, writes in
order: the service blueprint first (the incident blueprint relates to it), then the actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from escalator.clients.port import SERVICE, PortClient
from escalator.errors import EscalatorError, PortError, UnexpectedResponse
from escalator.http import Deadline, Policy
from escalator.kit.definitions import blueprints
from escalator.kit.plan import Kind, Step, Verdict, comparable, plan_action, plan_blueprint
from escalator.workflow import Console


@dataclass(frozen=True)
class Settings:
    """What to apply, where, and how: the validated command line."""

    api_url: str
    client_id: str
    client_secret: str
    actions: tuple[dict[str, Any], ...]
    replace_blueprints: bool
    dry_run: bool
    timeout_seconds: float
    #: write the kit's actions alone, dropping an approval gate or any key set in Port
    replace_actions: bool = False
    #: the network variables of the environment (proxies, CA bundle), read by the command line
    environ: Mapping[str, str] = field(default_factory=dict)


#: Hints that fit this command better than the action's (which name the action's inputs).
_SETUP_HINTS: Mapping[int, str] = {
    401: "Check PORT_CLIENT_ID and PORT_CLIENT_SECRET (Port: ... > Credentials) and the "
    "region: an organisation on Port's US region needs --port-region us.",
    403: "Creating blueprints and actions takes the credentials of a Port admin (or of a "
    "machine with the admin role).",
}


def _collection(kind: Kind) -> str:
    return "/v1/blueprints" if kind == "blueprint" else "/v1/actions"


def read(client: PortClient, kind: Kind, identifier: str) -> dict[str, Any] | None:
    """The object as Port holds it, or None when Port does not have it."""
    path = f"{_collection(kind)}/{quote(identifier, safe='')}"
    try:
        body = client.request(Policy.READ, "GET", path)
    except PortError as error:
        if error.status == 404:
            return None
        raise
    document = body.get(kind)  # {"ok": true, "blueprint": {...}}, or "action"
    if not isinstance(document, dict):
        raise UnexpectedResponse(
            SERVICE,
            f"GET {path}: the answer has no {kind}.",
            hint="Check --port-api-url: it must be Port's API base URL, without /v1.",
        )
    return document


def write(client: PortClient, step: Step) -> None:
    """Create (POST to the collection) or replace (PUT to the object) one definition."""
    collection = _collection(step.kind)
    if step.verdict is Verdict.CREATE:
        try:
            client.request(Policy.UPSERT, "POST", collection, json_body=step.wanted)
        except PortError as error:
            # A retried POST whose first attempt Port did apply answers 409: fine if it is ours.
            found = read(client, step.kind, step.identifier) if error.status == 409 else None
            if found is None or comparable(found, step.wanted) != step.wanted:
                if error.status != 409:
                    raise
                raise PortError(
                    error.message_template,
                    status=error.status,
                    code=error.code,
                    method=error.method,
                    path=error.path,
                    hint=f"Something else created {step.name} meanwhile; run port-setup again "
                    "to compare it with the kit's.",
                ) from error
    elif step.verdict is Verdict.UPDATE:
        path = f"{collection}/{quote(step.identifier, safe='')}"
        client.request(Policy.UPSERT, "PUT", path, json_body=step.wanted)


def plan(
    client: PortClient,
    actions: tuple[dict[str, Any], ...],
    *,
    replace_blueprints: bool,
    replace_actions: bool = False,
) -> list[Step]:
    """Read the kit's blueprints and ``actions`` from Port and decide what to do with each."""
    steps = [
        plan_blueprint(
            blueprint,
            read(client, "blueprint", blueprint["identifier"]),
            replace=replace_blueprints,
        )
        for blueprint in blueprints()
    ]
    steps += [
        plan_action(action, read(client, "action", action["identifier"]), replace=replace_actions)
        for action in actions
    ]
    return steps


def execute(settings: Settings, out: Console, err: Console) -> int:
    """Connect to Port and apply the kit; 0 done, 1 Port refused or failed (said on ``err``)."""
    for secret in (settings.client_id, settings.client_secret):
        out.add_secret(secret)
        err.add_secret(secret)

    def on_token(token: str) -> None:
        out.add_secret(token)
        err.add_secret(token)

    client = PortClient.connect(
        settings.api_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        deadline=Deadline(settings.timeout_seconds),
        on_token=on_token,
        environ=settings.environ,
    )
    try:
        return run(client, settings, out)
    except EscalatorError as error:
        said = error.render(err.terms)
        hint = said.hint
        if isinstance(error, PortError) and error.status in _SETUP_HINTS:
            hint = _SETUP_HINTS[error.status]
        err.error(said.message + (f"\nHow to fix: {hint}" if hint else ""), title=said.title)
        return 1
    finally:
        client.close()


def run(client: PortClient, settings: Settings, out: Console) -> int:
    """Plan, show, and (unless a dry run) apply; returns 0."""
    mode = " (dry run: nothing is written)" if settings.dry_run else ""
    out.info(f"Port: {settings.api_url}{mode}")
    steps = plan(
        client,
        settings.actions,
        replace_blueprints=settings.replace_blueprints,
        replace_actions=settings.replace_actions,
    )
    for step in steps:
        _show(out, step, dry_run=settings.dry_run)
        if step.writes and not settings.dry_run:
            write(client, step)
            out.info(f"{step.name}: {'created' if step.verdict is Verdict.CREATE else 'updated'}.")
    created = sum(step.verdict is Verdict.CREATE for step in steps)
    updated = sum(step.verdict is Verdict.UPDATE for step in steps)
    if not created and not updated:
        out.info("Nothing to change: Port already has what the action needs.")
    elif settings.dry_run:
        out.info(f"Dry run: {created} to create, {updated} to update; nothing was written.")
    else:
        out.info(f"Done: {created} created, {updated} updated.")
    return 0


def _show(out: Console, step: Step, *, dry_run: bool) -> None:
    if step.verdict is Verdict.UNCHANGED:
        out.info(f"{step.name}: as in the kit; unchanged.")
    elif step.verdict is Verdict.KEEP:
        out.info(
            f"{step.name}: exists and differs from the kit's; kept as it is (the action adapts "
            "to it and writes only the properties it defines; --replace-blueprints writes the "
            "kit's)."
        )
        for note in step.notes:
            out.info(f"  {note}")
    elif step.verdict is Verdict.CREATE:
        out.info(f"{step.name}: missing; {'would create' if dry_run else 'creating'}.")
        if dry_run:
            out.info(step.diff())
    else:
        out.info(
            f"{step.name}: differs from the kit's; {'would update' if dry_run else 'updating'}."
        )
        out.info(step.diff())
    if step.kind == "action" and step.verdict is not Verdict.CREATE:
        for note in step.notes:
            out.info(f"  {note}")
