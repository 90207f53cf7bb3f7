"""``escalator port-setup``: create or update in Port what the action needs, through Port's API.

What it manages: the ``pagerdutyService`` and ``pagerdutyIncident`` blueprints and the
self-service action ``pagerdutyIncident_escalate_incident`` (GitHub invocation). The definitions
are those of the setup kit (``examples/port/``), embedded here because the image ships only this
package; a test keeps the two equal.

It reads first and plans per object: create what is missing, update what differs, leave equal
things alone. An existing blueprint that differs from the kit's is kept as it is (the PagerDuty
integration's richer ``pagerdutyIncident``, for one: the action adapts to it), and what the action
would miss in it is reported; ``--replace-blueprints`` puts the kit's in its place. ``--dry-run``
shows each change as a unified diff of JSON and writes nothing.

Credentials come from ``PORT_CLIENT_ID`` and ``PORT_CLIENT_SECRET`` only, and are masked, with
the access token, before anything is printed.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from escalator.action import insecure_http_hosts
from escalator.errors import EscalatorError, InputError, PortError, UnexpectedResponse
from escalator.http import Deadline, Policy
from escalator.inputs import PORT_REGIONS, _api_url
from escalator.port import SERVICE, PortClient
from escalator.workflow import Console

# --- the kit's definitions (examples/port/blueprints.json, escalate-incident-action.json) ------

SERVICE_BLUEPRINT: dict[str, Any] = {
    "identifier": "pagerdutyService",
    "title": "PagerDuty Service",
    "icon": "pagerduty",
    "description": "A PagerDuty service",
    "schema": {
        "properties": {
            "status": {
                "title": "Status",
                "type": "string",
                "enum": ["active", "warning", "critical", "maintenance", "disabled"],
                "enumColors": {
                    "active": "green",
                    "warning": "yellow",
                    "critical": "red",
                    "maintenance": "lightGray",
                    "disabled": "darkGray",
                },
            },
            "url": {"title": "URL", "type": "string", "format": "url"},
            "oncall": {"title": "On Call", "type": "string", "format": "user"},
            "meanSecondsToResolve": {"title": "Mean Seconds to Resolve", "type": "number"},
            "meanSecondsToFirstAck": {
                "title": "Mean Seconds to First Acknowledge",
                "type": "number",
            },
            "meanSecondsToEngage": {"title": "Mean Seconds to Engage", "type": "number"},
        },
        "required": [],
    },
    "mirrorProperties": {},
    "calculationProperties": {},
    "relations": {},
}

INCIDENT_BLUEPRINT: dict[str, Any] = {
    "identifier": "pagerdutyIncident",
    "title": "PagerDuty Incident",
    "icon": "pagerduty",
    "description": "A PagerDuty incident; its identifier is the PagerDuty incident ID",
    "schema": {
        "properties": {
            "status": {
                "title": "Incident Status",
                "type": "string",
                "enum": [
                    "triggered",
                    "annotated",
                    "acknowledged",
                    "reassigned",
                    "escalated",
                    "reopened",
                    "resolved",
                ],
            },
            "url": {
                "title": "Incident URL",
                "description": "The incident's web page in PagerDuty (html_url)",
                "type": "string",
                "format": "url",
            },
            "urgency": {
                "title": "Incident Urgency",
                "type": "string",
                "enum": ["high", "low"],
                "enumColors": {"high": "orange", "low": "lightGray"},
            },
            "responder": {"title": "Assignee", "type": "string"},
            "escalation_policy": {"title": "Escalation Policy", "type": "string"},
            "created_at": {"title": "Created At", "type": "string", "format": "date-time"},
            "updated_at": {"title": "Updated At", "type": "string", "format": "date-time"},
        },
        "required": [],
    },
    "mirrorProperties": {},
    "calculationProperties": {},
    "relations": {
        "pagerdutyService": {
            "title": "PagerDuty Service",
            "target": "pagerdutyService",
            "required": False,
            "many": True,
        }
    },
}

#: In creation order: the incident blueprint relates to the service blueprint.
KIT_BLUEPRINTS: tuple[dict[str, Any], ...] = (SERVICE_BLUEPRINT, INCIDENT_BLUEPRINT)

#: The self-service action as the kit ships it, with ``<GITHUB_ORG>``/``<GITHUB_REPO>`` to fill.
ACTION_TEMPLATE: dict[str, Any] = {
    "identifier": "pagerdutyIncident_escalate_incident",
    "title": "Escalate Incident",
    "icon": "pagerduty",
    "description": (
        "Reassign a PagerDuty incident to another escalation policy, escalate it to a level, "
        "or change its urgency"
    ),
    "trigger": {
        "type": "self-service",
        "operation": "DAY-2",
        "blueprintIdentifier": "pagerdutyIncident",
        "condition": {
            "type": "SEARCH",
            "combinator": "and",
            "rules": [{"property": "status", "operator": "!=", "value": "resolved"}],
        },
        "userInputs": {
            "properties": {
                "escalation_policy_id": {
                    "title": "Escalation Policy ID",
                    "description": (
                        "PagerDuty escalation policy to reassign the incident to (e.g. P7LVMYP); "
                        "empty keeps the current one"
                    ),
                    "icon": "pagerduty",
                    "type": "string",
                },
                "escalation_level": {
                    "title": "Escalation Level",
                    "description": (
                        "Level of the escalation policy to escalate to (1 is the first); empty "
                        "for none. High urgency only"
                    ),
                    "icon": "pagerduty",
                    "type": "number",
                    "minimum": 1,
                },
                "urgency": {
                    "title": "Urgency",
                    "description": "New urgency of the incident; empty keeps the current one",
                    "icon": "pagerduty",
                    "type": "string",
                    "enum": ["high", "low"],
                    "enumColors": {"high": "orange", "low": "lightGray"},
                },
                "from": {
                    "title": "From",
                    "description": (
                        "Email of the PagerDuty user on whose behalf the incident is changed "
                        "(must be a user of your PagerDuty account)"
                    ),
                    "icon": "User",
                    "type": "string",
                    "format": "user",
                    "default": {"jqQuery": ".user.email"},
                },
            },
            "required": ["from"],
            "order": ["escalation_policy_id", "escalation_level", "urgency", "from"],
        },
    },
    "invocationMethod": {
        "type": "GITHUB",
        "org": "<GITHUB_ORG>",
        "repo": "<GITHUB_REPO>",
        "workflow": "escalate-incident.yml",
        "workflowInputs": {
            "escalation_policy_id": '{{ .inputs.escalation_policy_id // "" }}',
            "escalation_level": '{{ .inputs.escalation_level // "" | tostring }}',
            "urgency": '{{ .inputs.urgency // "" }}',
            "from": "{{ .inputs.from }}",
            "port_context": {
                "blueprint": "{{ .action.blueprint }}",
                "entity": "{{ .entity.identifier }}",
                "run_id": "{{ .run.id }}",
                "relations": "{{ .entity.relations }}",
            },
        },
        "reportWorkflowStatus": True,
    },
    "requiredApproval": False,
}

DEFAULT_WORKFLOW = "escalate-incident.yml"

#: What an absent key means in Port's answer (empty, or Port's default).
_ABSENT_MEANS: Mapping[str, Any] = {
    "mirrorProperties": {},
    "calculationProperties": {},
    "relations": {},
    "requiredApproval": False,
}

#: Properties of the incident blueprint the action fills, and what is lost without each.
_INCIDENT_NEEDS: Mapping[str, str] = {
    "status": "the incident's status is not recorded, and the action's condition (hidden on "
    "resolved incidents) has nothing to test",
    "url": "no link to the incident's page in PagerDuty",
    "urgency": "the urgency after the escalation is not recorded",
    "escalation_policy": "the escalation policy after the escalation is not recorded",
}
_ASSIGNEE_PROPERTIES = ("responder", "assignees")

_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_GITHUB_REPO = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}")
_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9._-]{1,200}\.ya?ml")


def kit_action(org: str, repo: str, workflow: str = DEFAULT_WORKFLOW) -> dict[str, Any]:
    """The kit's self-service action, dispatching ``workflow`` in ``org/repo``."""
    action = copy.deepcopy(ACTION_TEMPLATE)
    action["invocationMethod"] |= {"org": org, "repo": repo, "workflow": workflow}
    return action


# --- planning --------------------------------------------------------------------------------

Kind = Literal["blueprint", "action"]
Verdict = Literal["create", "update", "unchanged", "keep"]


@dataclass(frozen=True)
class Step:
    """What happens to one object: its verdict, the definition wanted and the one found."""

    kind: Kind
    identifier: str
    verdict: Verdict
    wanted: dict[str, Any]
    #: The object as Port holds it, reduced to what is compared; None when it does not exist.
    found: dict[str, Any] | None
    notes: tuple[str, ...] = field(default=())

    @property
    def writes(self) -> bool:
        return self.verdict in ("create", "update")

    @property
    def name(self) -> str:
        return f"{self.kind} {self.identifier}"

    def diff(self) -> str:
        """A unified diff of the JSON, from what Port has to what would be written."""
        before = _pretty(self.found).splitlines() if self.found is not None else []
        after = _pretty(self.wanted).splitlines()
        where = f"{self.kind}s/{self.identifier}"
        return "\n".join(
            difflib.unified_diff(
                before,
                after,
                fromfile=f"port:{where}" if self.found is not None else "/dev/null",
                tofile=f"kit:{where}",
                lineterm="",
            )
        )


def _pretty(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def comparable(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """``found`` reduced to the keys ``wanted`` defines (Port adds ids, dates and authors), with
    the empty values Port may leave out filled in."""
    reduced: dict[str, Any] = {}
    for key in wanted:
        if key in found:
            reduced[key] = copy.deepcopy(found[key])
        elif key in _ABSENT_MEANS:
            reduced[key] = copy.deepcopy(_ABSENT_MEANS[key])
    schema = reduced.get("schema")
    if isinstance(schema, dict) and "required" in wanted.get("schema", {}):
        schema.setdefault("required", [])
    return reduced


def differing_paths(found: Any, wanted: Any, prefix: str = "") -> list[str]:
    """Dotted paths where ``found`` and ``wanted`` differ (a list differs as a whole)."""
    if isinstance(found, dict) and isinstance(wanted, dict):
        paths: list[str] = []
        for key in sorted(set(found) | set(wanted)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in found or key not in wanted:
                paths.append(path)
            else:
                paths.extend(differing_paths(found[key], wanted[key], path))
        return paths
    return [] if found == wanted else [prefix or "(whole)"]


def missing_for_action(blueprint: Mapping[str, Any]) -> list[str]:
    """What the action would miss in an incident blueprint it did not create, one line each."""
    schema = blueprint.get("schema")
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    relations = blueprint.get("relations") or {}
    missing = [
        f"property '{name}': {loss}"
        for name, loss in _INCIDENT_NEEDS.items()
        if name not in properties
    ]
    if not any(name in properties for name in _ASSIGNEE_PROPERTIES):
        missing.append(
            "property 'responder' or 'assignees': who the incident is assigned to is not recorded"
        )
    if not any(
        isinstance(relation, dict) and relation.get("target") == SERVICE_BLUEPRINT["identifier"]
        for relation in relations.values()
    ):
        missing.append(
            "a relation to 'pagerdutyService': the incident is not linked to its service"
        )
    return missing


def plan_blueprint(wanted: dict[str, Any], found: dict[str, Any] | None, *, replace: bool) -> Step:
    """Create a missing blueprint; keep a differing one unless ``replace``."""
    identifier = wanted["identifier"]
    if found is None:
        return Step("blueprint", identifier, "create", wanted, None)
    reduced = comparable(found, wanted)
    if reduced == wanted:
        return Step("blueprint", identifier, "unchanged", wanted, reduced)
    if replace:
        return Step("blueprint", identifier, "update", wanted, reduced)
    notes: list[str] = [f"differs from the kit's in {_some(differing_paths(reduced, wanted))}"]
    if identifier == INCIDENT_BLUEPRINT["identifier"]:
        missing = missing_for_action(found)
        notes += [f"missing for the action: {line}" for line in missing] or [
            "it has every property and relation the action fills"
        ]
    return Step("blueprint", identifier, "keep", wanted, reduced, tuple(notes))


def plan_action(wanted: dict[str, Any], found: dict[str, Any] | None) -> Step:
    """Create the action when missing, update it when it differs."""
    identifier = wanted["identifier"]
    if found is None:
        return Step("action", identifier, "create", wanted, None)
    reduced = comparable(found, wanted)
    verdict: Verdict = "unchanged" if reduced == wanted else "update"
    return Step("action", identifier, verdict, wanted, reduced)


def _some(paths: Sequence[str], most: int = 6) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")


# --- talking to Port -------------------------------------------------------------------------


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
    if step.verdict == "create":
        try:
            client.request(Policy.UPSERT, "POST", collection, json_body=step.wanted)
        except PortError as error:
            # A retried POST whose first attempt Port did apply answers 409: fine if it is ours.
            found = read(client, step.kind, step.identifier) if error.status == 409 else None
            if found is None or comparable(found, step.wanted) != step.wanted:
                if error.status == 409:
                    error.hint = (
                        f"Something else created {step.name} meanwhile; run port-setup again "
                        "to compare it with the kit's."
                    )
                raise
    elif step.verdict == "update":
        path = f"{collection}/{quote(step.identifier, safe='')}"
        client.request(Policy.UPSERT, "PUT", path, json_body=step.wanted)


def plan(client: PortClient, action: dict[str, Any], *, replace_blueprints: bool) -> list[Step]:
    """Read the blueprints and the action from Port and decide what to do with each."""
    steps = [
        plan_blueprint(
            blueprint,
            read(client, "blueprint", blueprint["identifier"]),
            replace=replace_blueprints,
        )
        for blueprint in KIT_BLUEPRINTS
    ]
    steps.append(plan_action(action, read(client, "action", action["identifier"])))
    return steps


# --- the command line ------------------------------------------------------------------------

EPILOG = """\
credentials are read from the environment, never from options:
  PORT_CLIENT_ID, PORT_CLIENT_SECRET   Port credentials (Port: ... > Credentials) of an admin

what it does:
  blueprints pagerdutyService and pagerdutyIncident: created when missing; kept as they are
  when they exist and differ (the action adapts to Port's PagerDuty integration blueprints), with
  what the action would miss reported; --replace-blueprints writes the kit's over them.
  action pagerdutyIncident_escalate_incident: created when missing, updated when it differs.
  Equal objects are left alone, so a second run changes nothing.

examples:
  export PORT_CLIENT_ID=... PORT_CLIENT_SECRET=...

  # show what would change, write nothing
  escalator port-setup --github-org acme --github-repo incident-workflows --dry-run

  # set up an organisation on Port's US region
  escalator port-setup --github-org acme --github-repo incident-workflows --port-region us

  # against the embedded sandbox (escalator sandbox --port 8080; its demo credentials)
  PORT_CLIENT_ID=sbx-port-client-3Nf8Tz PORT_CLIENT_SECRET=sbx-port-secret-Yd5Km2Wq7Pc4 \\
    escalator port-setup --github-org acme --github-repo incident-workflows \\
    --port-api-url http://127.0.0.1:8080/port

exit status: 0 done (or nothing to do), 1 Port refused or failed, 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalator port-setup",
        description="Create or update, in a Port organisation, the blueprints and the "
        "self-service action that escalate-action needs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--github-org",
        required=True,
        metavar="ORG",
        help="GitHub organisation or user that owns the repository with the workflow",
    )
    parser.add_argument(
        "--github-repo",
        required=True,
        metavar="REPO",
        help="GitHub repository (name only) holding the workflow",
    )
    parser.add_argument(
        "--workflow",
        default=DEFAULT_WORKFLOW,
        metavar="FILE",
        help=f"workflow file name in .github/workflows [default: {DEFAULT_WORKFLOW}]",
    )
    parser.add_argument(
        "--port-region",
        choices=tuple(PORT_REGIONS),
        default="eu",
        help="Port region [default: eu]",
    )
    parser.add_argument(
        "--port-api-url",
        metavar="URL",
        default="",
        help="Port API base URL without /v1 (overrides --port-region); https, or http to loopback",
    )
    parser.add_argument(
        "--replace-blueprints",
        action="store_true",
        help="write the kit's blueprints over existing ones that differ (entities keep only "
        "the properties the kit defines)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show the changes as diffs; write nothing"
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=120.0,
        metavar="S",
        help="deadline for the whole run, retries included [default: 120]",
    )
    return parser


class UsageError(Exception):
    """A wrong option or a missing credential: nothing was sent."""


@dataclass(frozen=True)
class Settings:
    """The validated command line."""

    api_url: str
    client_id: str
    client_secret: str
    action: dict[str, Any]
    replace_blueprints: bool
    dry_run: bool
    timeout_seconds: float


def settings_from(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """Validate the options and read the credentials; :class:`UsageError` names what is wrong."""
    checks = (
        (_GITHUB_OWNER, args.github_org, "--github-org", "a GitHub organisation or user name"),
        (_GITHUB_REPO, args.github_repo, "--github-repo", "a repository name, without the owner"),
        (_WORKFLOW_FILE, args.workflow, "--workflow", "a file name such as escalate-incident.yml"),
    )
    for pattern, value, option, expected in checks:
        if not pattern.fullmatch(value):
            raise UsageError(f"{option}: {json.dumps(value)} is not {expected}.")
    if not 5 <= args.timeout_seconds <= 3600:
        raise UsageError("--timeout-seconds: give a number of seconds between 5 and 3600.")
    client_id = env.get("PORT_CLIENT_ID", "")
    client_secret = env.get("PORT_CLIENT_SECRET", "")
    for name, value in (("PORT_CLIENT_ID", client_id), ("PORT_CLIENT_SECRET", client_secret)):
        if not value:
            raise UsageError(
                f"set {name} (Port: ... > Credentials); credentials are read from the "
                "environment, never from options."
            )
        if value != value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise UsageError(f"{name} contains spaces or control characters; copy it again.")
    try:
        api_url = _api_url(
            "port",
            {"port_api_url": args.port_api_url.strip(), "port_region": args.port_region},
            PORT_REGIONS,
            insecure_http_hosts(env),
        )
    except InputError as error:
        message = error.message.replace(f"Input '{error.input}'", "--port-api-url")
        raise UsageError(f"{message} {error.hint}".strip()) from None
    return Settings(
        api_url=api_url,
        client_id=client_id,
        client_secret=client_secret,
        action=kit_action(args.github_org, args.github_repo, args.workflow),
        replace_blueprints=args.replace_blueprints,
        dry_run=args.dry_run,
        timeout_seconds=args.timeout_seconds,
    )


#: Hints that fit this command better than the action's (which name the action's inputs).
_SETUP_HINTS: Mapping[int, str] = {
    401: "Check PORT_CLIENT_ID and PORT_CLIENT_SECRET (Port: ... > Credentials) and the "
    "region: an organisation on Port's US region needs --port-region us.",
    403: "Creating blueprints and actions takes the credentials of a Port admin (or of a "
    "machine with the admin role).",
}


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``escalator port-setup``; 0 done, 1 failed, 2 usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:  # --help (0) and argparse's own usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    out = Console(sys.stdout, github=env.get("GITHUB_ACTIONS") == "true")
    err = Console(sys.stderr, github=False)
    try:
        settings = settings_from(args, env)
    except UsageError as error:
        err.info(f"escalator port-setup: {error}")
        return 2
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
    )
    try:
        return run(client, settings, out)
    except EscalatorError as error:
        hint = error.hint
        if isinstance(error, PortError) and error.status in _SETUP_HINTS:
            hint = _SETUP_HINTS[error.status]
        err.error(error.message + (f"\nHow to fix: {hint}" if hint else ""), title=error.title)
        return 1
    finally:
        client.close()


def run(client: PortClient, settings: Settings, out: Console) -> int:
    """Plan, show, and (unless a dry run) apply; returns 0."""
    mode = " (dry run: nothing is written)" if settings.dry_run else ""
    out.info(f"Port: {settings.api_url}{mode}")
    steps = plan(client, settings.action, replace_blueprints=settings.replace_blueprints)
    for step in steps:
        _show(out, step, dry_run=settings.dry_run)
        if step.writes and not settings.dry_run:
            write(client, step)
            out.info(f"{step.name}: {'created' if step.verdict == 'create' else 'updated'}.")
    created = sum(step.verdict == "create" for step in steps)
    updated = sum(step.verdict == "update" for step in steps)
    if not created and not updated:
        out.info("Nothing to change: Port already has what the action needs.")
    elif settings.dry_run:
        out.info(f"Dry run: {created} to create, {updated} to update; nothing was written.")
    else:
        out.info(f"Done: {created} created, {updated} updated.")
    return 0


def _show(out: Console, step: Step, *, dry_run: bool) -> None:
    if step.verdict == "unchanged":
        out.info(f"{step.name}: as in the kit; unchanged.")
    elif step.verdict == "keep":
        out.info(
            f"{step.name}: exists and differs from the kit's; kept as it is (the action adapts "
            "to it and writes only the properties it defines; --replace-blueprints writes the "
            "kit's)."
        )
        for note in step.notes:
            out.info(f"  {note}")
    elif step.verdict == "create":
        out.info(f"{step.name}: missing; {'would create' if dry_run else 'creating'}.")
        if dry_run:
            out.info(step.diff())
    else:
        out.info(
            f"{step.name}: differs from the kit's; {'would update' if dry_run else 'updating'}."
        )
        out.info(step.diff())
