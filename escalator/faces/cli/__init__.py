"""The ``escalator`` command line: the action's operations from a terminal, the sandbox, the demo.

Each operation is a subcommand (:mod:`escalator.faces.cli.options`) that runs exactly what the
action runs (:mod:`escalator.faces.cli.operation`); ``sandbox``, ``demo`` and ``port-setup`` hand
over to their own modules, imported only when used. Tokens are read from environment variables,
never from options, so they do not sit in shell history or in the process list.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from escalator.faces.cli.options import build_parser
from escalator.faces.cli.usage import settle
from escalator.operations import OPERATIONS
from escalator.terms import SECRET_ENV

__all__ = ["SECRET_ENV", "build_parser", "main"]

#: Where ``escalator port-setup`` lives, newest first.


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Entry point of the ``escalator`` console script; returns the exit status."""
    try:
        return _main(argv, env)
    except BrokenPipeError:
        # the reader left (`escalator ... --json | head`): no traceback, and none at exit either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _main(argv: Sequence[str] | None, env: Mapping[str, str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if argv[:1] == ["sandbox"]:
        from escalator.sandbox.cli import main as sandbox_main

        return sandbox_main(argv[1:])
    if argv[:1] == ["port-setup"]:
        return _port_setup(argv[1:], env)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    settle(parser, args, extra)
    if args.command == "demo" and args.oncall:
        from escalator.demo_oncall import run_oncall_demo

        return run_oncall_demo(dry_run=args.dry_run, path=env.get("PATH", "/usr/bin:/bin"))
    if args.command == "demo" and args.create_service:
        from escalator.demo_service import run_service_demo

        return run_service_demo(dry_run=args.dry_run, path=env.get("PATH", "/usr/bin:/bin"))
    if args.command == "demo" and args.events:
        from escalator.demo_events import run_events_demo

        return run_events_demo(dry_run=args.dry_run, path=env.get("PATH", "/usr/bin:/bin"))
    if args.command == "demo":
        from escalator.demo import run_demo

        return run_demo(dry_run=args.dry_run, path=env.get("PATH", "/usr/bin:/bin"))
    if args.command not in OPERATIONS:
        parser.print_help()
        return 2
    from escalator.faces.cli.operation import run_operation

    return run_operation(args, env)


def _port_setup(argv: list[str], env: Mapping[str, str]) -> int:
    from escalator.kit.cli import main as port_setup_main  # loaded only for this command

    return port_setup_main(argv, env)
