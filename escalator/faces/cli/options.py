"""The ``escalator`` argument parser: one subcommand per operation, an option per input.

Options are named after the action's inputs (``--escalation-policy-id`` for
``escalation_policy_id``, with short aliases for the common ones); each operation's main input is
positional where that reads naturally (``escalator note -i PABC123 "Rolled back"``). Secret inputs
are never options: they are read from the environment (:data:`escalator.terms.SECRET_ENV`).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import NamedTuple

from escalator import __version__
from escalator.operations import OPERATIONS
from escalator.terms import INPUT_NAMES


class Option(NamedTuple):
    """The flags, the metavar and the help of one input's option."""

    flags: tuple[str, ...]
    metavar: str
    help: str


OPTIONS: Mapping[str, Option] = {
    "incident_id": Option(
        ("-i", "--incident", "--incident-id"),
        "ID",
        "PagerDuty incident ID or number (default: the entity in --port-context)",
    ),
    "escalation_policy_id": Option(
        ("-p", "--policy", "--escalation-policy-id"),
        "ID",
        "escalation policy to assign the incident to, such as PPLATFM",
    ),
    "escalation_level": Option(
        ("-l", "--level", "--escalation-level"),
        "N",
        "escalate to this level (1-based) of its policy",
    ),
    "urgency": Option(("-u", "--urgency"), "URGENCY", "high or low"),
    "assignees": Option(
        ("--assignees",), "USERS", "PagerDuty users to assign: emails or user IDs, comma-separated"
    ),
    "note": Option(("--note",), "TEXT", "a note to add to the incident after the change"),
    "snooze_duration": Option(
        ("--duration", "--snooze-duration"), "DURATION", "seconds (1800) or 30m, 4h, 1h30m, 1d"
    ),
    "resolution": Option(
        ("--resolution",), "TEXT", "why it was resolved: sent with the change and added as a note"
    ),
    "priority": Option(("--priority",), "PRIORITY", "priority name (such as P1) or ID"),
    "title": Option(("--title",), "TEXT", "the incident's title"),
    "service_id": Option(
        ("--service", "--service-id"),
        "ID",
        "PagerDuty service, such as PSVCPAY (default: the service entity in --port-context)",
    ),
    "details": Option(("--details",), "TEXT", "the incident's details (its body)"),
    "incident_key": Option(
        ("--incident-key",),
        "KEY",
        "de-duplication key (default: port-<run id> when --port-context has a run)",
    ),
    "event_action": Option(
        ("--event-action",), "ACTION", "trigger (default), acknowledge or resolve"
    ),
    "dedup_key": Option(
        ("--dedup-key",),
        "KEY",
        "the alert's de-duplication key (default: port-<run id>, else one made for the run)",
    ),
    "severity": Option(("--severity",), "SEVERITY", "critical, error (default), warning or info"),
    "source": Option(
        ("--source",), "TEXT", "the affected system (default: the entity in --port-context)"
    ),
    "pagerduty_events_url": Option(
        ("--pagerduty-events-url",),
        "URL",
        "PagerDuty Events API v2 base URL (instead of the region's)",
    ),
    "schedule_id": Option(
        ("-s", "--schedule", "--schedule-id"),
        "ID",
        "PagerDuty schedule, such as PSC7PAY (default: the schedule entity in --port-context)",
    ),
    "oncall_user": Option(
        ("--user", "--oncall-user"),
        "USER",
        "PagerDuty user (email or user ID) to put on call or take off (default: --from)",
    ),
    "start": Option(("--start",), "TIME", "ISO 8601 date and time with an offset (default: now)"),
    "end": Option(
        ("--end",),
        "TIME",
        "ISO 8601 date and time with an offset, or a duration after --start (4h)",
    ),
    "override_id": Option(
        ("--override", "--override-id"), "ID", "the override to remove (default: the user's now)"
    ),
    "service_name": Option(
        ("--name", "--service-name"),
        "NAME",
        "the PagerDuty service's name (found, not created again, when it exists)",
    ),
    "description": Option(("--description",), "TEXT", "the new service's description"),
    "port_context": Option(
        ("--port-context",), "JSON", "the JSON a Port action sends (run_id, entity, blueprint...)"
    ),
    "from": Option(
        ("--from",), "EMAIL", "email of the PagerDuty user making the change (the From header)"
    ),
    "pagerduty_region": Option(("--pagerduty-region",), "REGION", "us or eu (default: us)"),
    "pagerduty_api_url": Option(
        ("--pagerduty-api-url",), "URL", "PagerDuty API base URL (instead of the region's)"
    ),
    "port_region": Option(("--port-region",), "REGION", "eu or us (default: eu)"),
    "port_api_url": Option(
        ("--port-api-url",), "URL", "Port API base URL without /v1 (instead of the region's)"
    ),
    "port_blueprint": Option(
        ("--port-blueprint",),
        "BLUEPRINT",
        "the incident entity's blueprint (default: from --port-context, else pagerdutyIncident)",
    ),
    "port_service_blueprint": Option(
        ("--port-service-blueprint",),
        "BLUEPRINT",
        "the service entity's blueprint (default: pagerdutyService)",
    ),
    "port_property_mapping": Option(
        ("--port-property-mapping",),
        "JSON",
        'Port property to incident field path, such as \'{"team": "service.summary"}\'',
    ),
    "timeout_seconds": Option(
        ("--timeout-seconds",), "S", "deadline for the whole run, retries included (default: 120)"
    ),
}
FLAGS: Mapping[str, str] = {
    "finish_port_run": "set the Port run's final status when done",
    "dry_run": "validate and read; show what would be sent; write nothing",
}
#: The inputs that are some operation's own (its inputs model's or its ``cli_extra``).
_OWN: frozenset[str] = frozenset(
    name
    for operation in OPERATIONS.values()
    for name in (*operation.inputs_model.inputs(), *operation.cli_extra)
)
#: Inputs every operation takes, after its own: every option no operation owns, in action.yml
#: order.
COMMON: tuple[str, ...] = tuple(
    name for name in INPUT_NAMES if name in OPTIONS and name not in _OWN
)
#: Each operation's example, as its module gives it.
EXAMPLES: Mapping[str, str] = {name: operation.example for name, operation in OPERATIONS.items()}
ENVIRONMENT = """\
environment:
  PAGERDUTY_TOKEN (or PAGERDUTY_API_KEY)  PagerDuty REST API key (required)
  PORT_CLIENT_ID, PORT_CLIENT_SECRET      Port credentials (without them Port is skipped)
  GITHUB_TOKEN                            optional: links the Port run to the GitHub job
  PAGERDUTY_ROUTING_KEY                   Events API v2 integration key (trigger, change-event)
  (tokens are read from the environment, never from options)

against the sandbox (escalator sandbox --port 8080 prints its credentials), add:
  --pagerduty-api-url http://127.0.0.1:8080/pagerduty --port-api-url http://127.0.0.1:8080/port
"""


#: Where the option form of an operation's positional input lands before :func:`settle` merges it.
OPTION_FORM = "positional_as_option"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``escalator``: the operations, ``sandbox``, ``demo`` and ``port-setup``."""
    parser = argparse.ArgumentParser(
        prog="escalator",
        description="Run PagerDuty incident operations from Port self-service actions, or from "
        "a terminal.",
    )
    parser.add_argument("--version", action="version", version=f"escalator {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for operation in OPERATIONS:
        _add_operation(commands, operation)
    commands.add_parser(
        "sandbox",
        help="serve the loopback PagerDuty and Port sandbox; prints its demo credentials",
        add_help=False,
    )
    _add_demo(commands)
    commands.add_parser(
        "port-setup",
        help="create or update the blueprints and self-service actions in Port",
        add_help=False,
    )
    return parser


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``escalator demo``: the incident operations, or one of the other families instead."""
    demo = commands.add_parser(
        "demo",
        help="run the action against the sandbox as the GitHub runner would",
        description="Start the sandbox, run the action as the GitHub runner would, and show the "
        "job log, the outputs, the job summary and what changed in PagerDuty and Port.",
    )
    demo.add_argument("--dry-run", action="store_true", help="run the action with dry_run: true")
    which = demo.add_mutually_exclusive_group()
    which.add_argument(
        "--events",
        action="store_true",
        help="the Events API v2 instead: trigger, trigger again, resolve, a change event",
    )
    which.add_argument(
        "--oncall",
        action="store_true",
        help="show the on-call operations on a schedule instead (oncall, override...)",
    )
    which.add_argument(
        "--create-service",
        action="store_true",
        help="run the kit's Create Service action twice instead (the second finds the service)",
    )


def _add_operation(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], name: str
) -> None:
    operation = OPERATIONS[name]
    description = operation.description
    parser = commands.add_parser(
        name,
        help=description[0].lower() + description[1:].rstrip("."),
        description=description,
        epilog=f"example:\n  {operation.example}\n\n{ENVIRONMENT}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    positional = operation.positional
    if positional is not None:
        # optional here: its option form (``note --note hello``) may be given instead
        parser.add_argument(
            positional.input,
            metavar=positional.metavar,
            nargs="*" if positional.many else "?",
            help=f"{positional.help} (or {OPTIONS[positional.input].flags[0]})",
        )
    own = parser.add_argument_group(f"{name} options")
    for input_name in operation.inputs_model.inputs():
        is_positional = positional is not None and input_name == positional.input
        _add_option(own, input_name, dest=OPTION_FORM if is_positional else input_name)
    for input_name in operation.cli_extra:
        _add_option(own, input_name)
    _add_shared(parser.add_argument_group("PagerDuty, Port and the run"))


def _add_shared(shared: argparse._ArgumentGroup) -> None:
    """The options every subcommand takes: the common inputs, the flags, ``--json``."""
    for input_name in COMMON:
        _add_option(shared, input_name)
    for input_name, text in FLAGS.items():
        shared.add_argument(
            "--" + input_name.replace("_", "-"),
            dest=input_name,
            action=argparse.BooleanOptionalAction,
            default=None,
            help=text,
        )
    shared.add_argument(
        "--json", action="store_true", help="print the outputs as JSON on stdout (logs on stderr)"
    )


def _add_option(group: argparse._ArgumentGroup, input_name: str, dest: str = "") -> None:
    """The input's option in ``group``, landing in ``dest`` (the input's name by default)."""
    option = OPTIONS[input_name]
    group.add_argument(
        *option.flags, dest=dest or input_name, metavar=option.metavar, help=option.help
    )
