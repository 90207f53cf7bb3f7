"""``escalator sandbox``: serve the sandbox in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from escalator.sandbox import seed
from escalator.sandbox.blueprints import SHAPES
from escalator.sandbox.faults import FaultFormatError, parse_plan
from escalator.sandbox.server import LOOPBACK_HOSTS, Sandbox
from escalator.sandbox.services import SEEDED_INTEGRATIONS


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``escalator sandbox``."""
    parser = argparse.ArgumentParser(
        prog="escalator sandbox",
        description="Serve a loopback fake of PagerDuty (/pagerduty, its Events API v2 under "
        "/events) and Port (/port) until "
        "Ctrl+C. At start it prints its URLs and the demo credentials (fake, for the sandbox only) "
        "to use with the other commands.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind (default: a free port, printed at start)"
    )
    parser.add_argument(
        "--blueprint-shape",
        choices=SHAPES,
        default="guide",
        help="Port's pagerdutyIncident blueprint: guide or integration (default: guide)",
    )
    parser.add_argument(
        "--faults",
        type=Path,
        metavar="FILE",
        help='JSON file: {"faults": [...], "latency": seconds} or a list',
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=None,
        metavar="S",
        help="seconds added to every PagerDuty and Port request",
    )
    parser.add_argument(
        "--pagerduty-rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="requests per minute (or --rate-window) per PagerDuty key before 429 (default: none)",
    )
    parser.add_argument(
        "--port-rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="Port requests per minute (or --rate-window) before 429 + Retry-After (default: none)",
    )
    parser.add_argument(
        "--rate-window",
        type=float,
        default=60.0,
        metavar="S",
        help="the rate limits' window in seconds (default: 60; 1 makes them per second)",
    )
    parser.add_argument(
        "--pagerduty-create-rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="incident creations (POST /incidents) per minute per key before 429 (default: none)",
    )
    parser.add_argument(
        "--events-rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="Events API v2 events per minute per routing key before 429 (default: none)",
    )
    parser.add_argument(
        "--priorities",
        choices=seed.PRIORITY_MODES,
        default="enabled",
        help="PagerDuty priorities: enabled (P1-P5), empty (none configured) or disabled (402)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the sandbox has no real security)",
    )
    return parser


def banner(sandbox: Sandbox) -> str:
    """Return the start banner: URLs, demo credentials, demo incident and run."""
    return "\n".join(
        [
            f"escalator sandbox serving on {sandbox.url}",
            f"  PagerDuty API   {sandbox.pagerduty_url}",
            f"  Port API        {sandbox.port_url}",
            f"  Events API v2   {sandbox.events_url} (pagerduty_events_url)",
            f"  Control         {sandbox.url}/__sandbox/ (journal, state, reset, faults, ...)",
            f"  blueprint shape {sandbox.blueprint_shape}",
            "Demo credentials (fake, sandbox only):",
            f"  PagerDuty key         {seed.PAGERDUTY_TOKEN}",
            f"  PagerDuty read-only   {seed.PAGERDUTY_READ_ONLY_TOKEN}",
            f"  From                  {seed.FROM_EMAIL}",
            f"  Port client id        {seed.PORT_CLIENT_ID}",
            f"  Port client secret    {seed.PORT_CLIENT_SECRET}",
            "  Events routing keys   "
            + ", ".join(f"{key} ({service})" for service, _, key in SEEDED_INTEGRATIONS),
            f"Demo incident {seed.DEMO_INCIDENT_ID}, run {seed.DEMO_RUN_ID} "
            f"(action {seed.DEMO_ACTION})",
            "For the escalator command line in another terminal (copy and paste):",
            f"  export PAGERDUTY_TOKEN={seed.PAGERDUTY_TOKEN}",
            f"  export PORT_CLIENT_ID={seed.PORT_CLIENT_ID}",
            f"  export PORT_CLIENT_SECRET={seed.PORT_CLIENT_SECRET}",
            f"  export ESCALATOR_SANDBOX_ARGS='--pagerduty-api-url {sandbox.pagerduty_url} "
            f"--port-api-url {sandbox.port_url} --from {seed.FROM_EMAIL}'",
            f"  escalator acknowledge -i {seed.DEMO_INCIDENT_ID} $ESCALATOR_SANDBOX_ARGS",
            "Press Ctrl+C to stop.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until SIGINT/SIGTERM; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK_HOSTS and not args.allow_remote:
        print(
            f"escalator sandbox: refusing to listen on {args.host}: the sandbox accepts fake "
            "credentials and has no security; pass --allow-remote to serve beyond loopback",
            file=sys.stderr,
        )
        return 2
    faults: list[dict[str, object]] = []
    latency = args.latency
    if args.faults is not None:
        try:
            data = json.loads(args.faults.read_text(encoding="utf-8"))
            parse_plan(data)
        except (OSError, ValueError, FaultFormatError) as exc:
            print(
                f"escalator sandbox: cannot use faults file {args.faults}: {exc}", file=sys.stderr
            )
            return 2
        faults = data.get("faults", []) if isinstance(data, dict) else data
        if latency is None and isinstance(data, dict) and "latency" in data:
            latency = float(data["latency"])
    try:
        sandbox = Sandbox(
            args.host,
            args.port,
            blueprint_shape=args.blueprint_shape,
            faults=faults,
            latency=latency or 0.0,
            pagerduty_rate_limit=args.pagerduty_rate_limit,
            pagerduty_create_rate_limit=args.pagerduty_create_rate_limit,
            events_rate_limit=args.events_rate_limit,
            port_rate_limit=args.port_rate_limit,
            rate_window=args.rate_window,
            priorities=args.priorities,
            allow_remote=args.allow_remote,
        ).start()
    except OSError as exc:
        print(
            f"escalator sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 2
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(banner(sandbox), flush=True)
        while not done.wait(0.5):
            pass
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("escalator sandbox stopped", flush=True)
    return 0
