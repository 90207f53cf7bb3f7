"""The command line of ``escalator port-setup``: options and credentials into :class:`Settings`.

It parses and validates the options, reads the credentials from the environment only, and hands
the settings to :func:`escalator.kit.setup.execute`. A wrong option or a missing credential
exits 2 before anything is sent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence

from escalator.errors import InputError
from escalator.faces.action import insecure_http_hosts
from escalator.http.network import network_env
from escalator.inputs import PORT_REGIONS, port_api_url
from escalator.kit.definitions import DEFAULT_WORKFLOW, OPERATIONS, actions
from escalator.kit.setup import Settings, execute
from escalator.terms import CLI
from escalator.workflow import Console

EPILOG = f"""\
credentials are read from the environment, never from options:
  PORT_CLIENT_ID, PORT_CLIENT_SECRET   Port credentials (Port: ... > Credentials) of an admin

what it does:
  blueprints pagerdutyService and pagerdutyIncident: created when missing; kept as they are
  when they exist and differ (the action adapts to Port's PagerDuty integration blueprints), with
  what the action would miss reported; --replace-blueprints writes the kit's over them.
  self-service actions, one per operation ({", ".join(OPERATIONS)}),
  all dispatching one workflow: created when missing, updated when they differ; --actions
  names the ones to set up. Equal objects are left alone, so a second run changes nothing.
  Keys of an action the kit does not own (an approval gate: requiredApproval,
  approvalNotification; any other key set in Port) are kept; --replace-actions drops them.

examples:
  export PORT_CLIENT_ID=... PORT_CLIENT_SECRET=...

  # show what would change, write nothing
  escalator port-setup --github-org acme --github-repo incident-workflows --dry-run

  # set up an organisation on Port's US region
  escalator port-setup --github-org acme --github-repo incident-workflows --port-region us

  # only the acknowledge and resolve actions
  escalator port-setup --github-org acme --github-repo incident-workflows \\
    --actions acknowledge,resolve

  # against the embedded sandbox (escalator sandbox --port 8080; its demo credentials)
  PORT_CLIENT_ID=sbx-port-client-3Nf8Tz PORT_CLIENT_SECRET=sbx-port-secret-Yd5Km2Wq7Pc4 \\
    escalator port-setup --github-org acme --github-repo incident-workflows \\
    --port-api-url http://127.0.0.1:8080/port

exit status: 0 done (or nothing to do), 1 Port refused or failed, 2 usage error
"""

_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_GITHUB_REPO = re.compile(r"(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}")
_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9._-]{1,200}\.ya?ml")


def build_parser() -> argparse.ArgumentParser:
    """The options of ``escalator port-setup``."""
    parser = argparse.ArgumentParser(
        prog="escalator port-setup",
        description="Create or update, in a Port organisation, the blueprints and the "
        "self-service actions that escalate-action needs.",
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
        "--actions",
        default=",".join(OPERATIONS),
        metavar="NAMES",
        help="the operations whose actions to create or update, separated by commas [default: all]",
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
        "--replace-actions",
        action="store_true",
        help="write the kit's actions alone over existing ones, dropping keys set in Port that "
        "the kit does not own (an approval gate: requiredApproval, approvalNotification)",
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


def chosen_operations(names: str) -> tuple[str, ...]:
    """The operations ``--actions`` names, in the kit's order; :class:`UsageError` if unknown."""
    given = [name.lower() for name in re.split(r"[,\s]+", names) if name]
    valid = ", ".join(OPERATIONS)
    if not given:
        raise UsageError(f"--actions: name at least one of {valid}.")
    for name in given:
        if name not in OPERATIONS:
            raise UsageError(
                f"--actions: {json.dumps(name)} is not an operation; use some of {valid}."
            )
    return tuple(name for name in OPERATIONS if name in given)


def settings_from(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """Validate the options and read the credentials; :class:`UsageError` names what is wrong."""
    checks = (
        (_GITHUB_OWNER, args.github_org, "--github-org", "a GitHub organisation or user name"),
        (_GITHUB_REPO, args.github_repo, "--github-repo", "a repository name, without the owner"),
        (_WORKFLOW_FILE, args.workflow, "--workflow", f"a file name such as {DEFAULT_WORKFLOW}"),
    )
    for pattern, value, option, expected in checks:
        if not pattern.fullmatch(value):
            raise UsageError(f"{option}: {json.dumps(value)} is not {expected}.")
    operations = chosen_operations(args.actions)
    if not 5 <= args.timeout_seconds <= 3600:
        raise UsageError("--timeout-seconds: give a number of seconds between 5 and 3600.")
    client_id, client_secret = _credentials(env)
    try:
        api_url = port_api_url(
            {"port_api_url": args.port_api_url.strip(), "port_region": args.port_region},
            insecure_http_hosts=insecure_http_hosts(env),
        )
    except InputError as error:
        raise UsageError(str(error.render(CLI))) from error
    return Settings(
        api_url=api_url,
        client_id=client_id,
        client_secret=client_secret,
        actions=tuple(actions(args.github_org, args.github_repo, args.workflow, operations)),
        replace_blueprints=args.replace_blueprints,
        replace_actions=args.replace_actions,
        dry_run=args.dry_run,
        timeout_seconds=args.timeout_seconds,
        environ=network_env(env),
    )


def _credentials(env: Mapping[str, str]) -> tuple[str, str]:
    """``PORT_CLIENT_ID`` and ``PORT_CLIENT_SECRET``, both set and clean."""
    values = []
    for name in ("PORT_CLIENT_ID", "PORT_CLIENT_SECRET"):
        value = env.get(name, "")
        if not value:
            raise UsageError(
                f"set {name} (Port: ... > Credentials); credentials are read from the "
                "environment, never from options."
            )
        if value != value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise UsageError(f"{name} contains spaces or control characters; copy it again.")
        values.append(value)
    return values[0], values[1]


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``escalator port-setup``; 0 done, 1 failed, 2 usage error."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:  # --help (0) and argparse's own usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    out = Console(sys.stdout, github=env.get("GITHUB_ACTIONS") == "true", terms=CLI)
    err = Console(sys.stderr, github=False, terms=CLI)
    try:
        settings = settings_from(args, env)
    except UsageError as error:
        err.info(f"escalator port-setup: {error}")
        return 2
    return execute(settings, out, err)
