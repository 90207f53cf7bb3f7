"""The ``escalator`` command line: the action's job outside GitHub, the sandbox, the demo.

Tokens are read from environment variables, never from options, so they do not sit in shell
history or in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence

from escalator import __version__
from escalator.errors import EscalatorError
from escalator.inputs import DEFAULTS, INPUT_NAMES, SECRET_INPUTS
from escalator.usecase.outcome import Outcome

#: Secret inputs and the environment variables they are read from on the command line.
SECRET_ENV: Mapping[str, tuple[str, ...]] = {
    "pagerduty_token": ("PAGERDUTY_TOKEN", "PAGERDUTY_API_KEY"),
    "port_client_id": ("PORT_CLIENT_ID",),
    "port_client_secret": ("PORT_CLIENT_SECRET",),
    "github_token": ("GITHUB_TOKEN",),
}

#: Help for each non-secret input's option (``--escalation-policy-id`` for escalation_policy_id).
OPTION_HELP: Mapping[str, str] = {
    "port_context": "the JSON Port sends (run_id, entity, blueprint, relations)",
    "incident_id": "PagerDuty incident ID or number (overrides the entity in --port-context)",
    "escalation_policy_id": "reassign the incident to this escalation policy",
    "escalation_level": "escalate to this level (1-based) of the incident's policy",
    "urgency": "new urgency: high or low",
    "from": "email of the PagerDuty user making the change (the From header)",
    "pagerduty_region": "PagerDuty service region: us (default) or eu",
    "pagerduty_api_url": "PagerDuty API base URL (overrides the region)",
    "port_region": "Port region: eu (default) or us",
    "port_api_url": "Port API base URL without /v1 (overrides the region)",
    "port_blueprint": "blueprint of the incident entity (default: from port_context, else "
    "pagerdutyIncident)",
    "port_property_mapping": "JSON object from Port property to incident field path, e.g. "
    '\'{"team": "service.summary"}\'',
    "finish_port_run": "set the Port run's final status when done (true/false)",
    "dry_run": "validate and read; show what would change; write nothing (true/false)",
    "timeout_seconds": "deadline for the whole run, retries included (default 120)",
}
SHORT_ALIASES: Mapping[str, tuple[str, ...]] = {
    "incident_id": ("-i", "--incident"),
    "escalation_policy_id": ("-p", "--policy"),
    "escalation_level": ("-l", "--level"),
    "urgency": ("-u",),
}

EPILOG = """\
tokens are read from the environment:
  PAGERDUTY_TOKEN (or PAGERDUTY_API_KEY)   PagerDuty REST API key (required)
  PORT_CLIENT_ID, PORT_CLIENT_SECRET       Port credentials (optional: without them Port is skipped)
  GITHUB_TOKEN                              optional, to link the Port run to the GitHub job

examples:
  # try it against the embedded sandbox (start it first: escalator sandbox --port 8080)
  export PAGERDUTY_TOKEN=sbx-pd-token-7Hq2Lx9Vw4Rk
  escalator escalate -i Q2LAR4ADCXC8IB -p PPLATFM -u high --from alice@example.com \\
    --pagerduty-api-url http://127.0.0.1:8080/pagerduty --port-api-url http://127.0.0.1:8080/port

  # a real incident, EU PagerDuty account, only show what would change
  escalator escalate -i Q2LAR4ADCXC8IB --level 2 --pagerduty-region eu --dry-run

  # machine-readable result
  escalator escalate -i PT4KHLK -u low --from me@example.com --json | jq .changed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalator",
        description="Escalate PagerDuty incidents from Port self-service actions.",
    )
    parser.add_argument("--version", action="version", version=f"escalator {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    escalate = commands.add_parser(
        "escalate",
        help="escalate an incident (the action's job, from a terminal)",
        description="Escalate a PagerDuty incident and report to Port, as the action does.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for name in INPUT_NAMES:
        if name in SECRET_INPUTS:
            continue
        flags = [*SHORT_ALIASES.get(name, ()), "--" + name.replace("_", "-")]
        kwargs: dict[str, object] = {"dest": name, "help": OPTION_HELP[name]}
        if name in ("dry_run", "finish_port_run"):
            kwargs.update(nargs="?", const="true", metavar="BOOL")
        else:
            kwargs["metavar"] = name.upper().replace("FROM", "EMAIL")
        if name in DEFAULTS:
            kwargs["help"] = f"{kwargs['help']} [default: {DEFAULTS[name]}]"
        escalate.add_argument(*flags, **kwargs)  # type: ignore[arg-type]
    escalate.add_argument(
        "--json", action="store_true", help="print the outputs as JSON on stdout (logs on stderr)"
    )

    commands.add_parser(
        "sandbox",
        help="serve the embedded PagerDuty and Port sandbox on loopback",
        add_help=False,
    )
    demo = commands.add_parser(
        "demo",
        help="start the sandbox, run the action as the GitHub runner would, show what changed",
    )
    demo.add_argument("--dry-run", action="store_true", help="run the action with dry_run: true")
    commands.add_parser(
        "port-setup",
        help="create or update the blueprints and the self-service action in Port",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``escalator`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if argv and argv[0] == "sandbox":
        from escalator.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv and argv[0] == "port-setup":
        from escalator.kit.cli import main as port_setup_main

        return port_setup_main(argv[1:], env)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from escalator.demo import run_demo

        return run_demo(dry_run=args.dry_run)
    if args.command != "escalate":
        parser.print_help()
        return 2
    return escalate(args, env)


def escalate(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the action's job with inputs from options and tokens from the environment."""
    from escalator.action import insecure_http_hosts, run
    from escalator.summary import OUTPUT_NAMES
    from escalator.workflow import Console, OutputWriter, SummaryWriter

    raw: dict[str, str] = {}
    for name in INPUT_NAMES:
        if name in SECRET_INPUTS:
            raw[name] = next((env[var] for var in SECRET_ENV[name] if env.get(var)), "")
        else:
            value = getattr(args, name, None)
            raw[name] = "" if value is None else str(value)
    if not raw["pagerduty_token"]:
        print(
            "escalator: set PAGERDUTY_TOKEN to a PagerDuty REST API key "
            "(tokens are read from the environment, never from options).",
            file=sys.stderr,
        )
        return 2
    console = Console(sys.stderr if args.json else sys.stdout, github=False)
    for name in SECRET_INPUTS:
        console.add_secret(raw[name])
    outputs = OutputWriter(None, console)
    job_summary = SummaryWriter(None, console)

    def done(outcome: Outcome | None, error: EscalatorError | None) -> None:
        if not args.json:
            return
        document: dict[str, object] = {name: outputs.written.get(name, "") for name in OUTPUT_NAMES}
        document["incident"] = json.loads(outputs.written.get("incident") or "null")
        document["changed"] = outputs.written.get("changed") == "true"
        document["ok"] = error is None
        document["dry_run"] = raw["dry_run"].lower() in ("true", "yes", "1")
        document["warnings"] = outcome.warnings if outcome else []
        if error is not None:
            document["error"] = {"title": error.title, "message": error.message, "hint": error.hint}
        print(console.redact(json.dumps(document, indent=2, sort_keys=True)))

    return run(
        raw,
        console,
        outputs=outputs,
        job_summary=job_summary,
        insecure_hosts=insecure_http_hosts(env),
        on_done=done,
    )
