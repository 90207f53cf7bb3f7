"""One step of the seed-shaped chain, in its own process, as each step of Port's guide runs.

The guide's workflow runs five steps, one process each, strictly one after the other: a run log, the
raw PagerDuty PUT, a run log, the entity upsert, a run log. Every Port step fetches its own access
token first, as Port's JavaScript action does, and opens its own connection. ``benchmark.py`` runs
this script once per step to measure that chain against the same sandbox as the action.

    baseline_step.py log       MESSAGE
    baseline_step.py pagerduty RESPONSE_FILE   (writes the PUT's answer, as the step's output)
    baseline_step.py upsert    RESPONSE_FILE   (reads it, as the next step's expressions do)

Everything else comes from the environment, as the workflow's ``with:`` would pass it:
``PAGERDUTY_URL``, ``PAGERDUTY_TOKEN``, ``FROM_EMAIL``, ``INCIDENT_ID``, ``ESCALATION_POLICY_ID``,
``URGENCY``, ``PORT_URL``, ``PORT_CLIENT_ID``, ``PORT_CLIENT_SECRET``, ``RUN_ID``, ``BLUEPRINT``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import requests

TIMEOUT = 30.0


def port_token(session: requests.Session, env: dict[str, str]) -> str:
    """A fresh Port access token: every step of the seed fetches its own."""
    response = session.post(
        f"{env['PORT_URL']}/v1/auth/access_token",
        json={"clientId": env["PORT_CLIENT_ID"], "clientSecret": env["PORT_CLIENT_SECRET"]},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return str(response.json()["accessToken"])


def run_log(session: requests.Session, env: dict[str, str], message: str) -> None:
    """The seed's PATCH_RUN step with a ``logMessage``: a token, then one run log."""
    token = port_token(session, env)
    response = session.post(
        f"{env['PORT_URL']}/v1/actions/runs/{env['RUN_ID']}/logs",
        json={"message": message},
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()


def escalate(session: requests.Session, env: dict[str, str], output: Path) -> None:
    """The seed's generic HTTP step: the raw PUT, no read before it, its answer kept as output."""
    response = session.put(
        f"{env['PAGERDUTY_URL']}/incidents/{env['INCIDENT_ID']}",
        json={
            "incident": {
                "type": "incident_reference",
                "escalation_policy": {
                    "id": env["ESCALATION_POLICY_ID"],
                    "type": "escalation_policy_reference",
                },
                "urgency": env["URGENCY"],
            }
        },
        headers={
            "Accept": "application/vnd.pagerduty+json;version=2",
            "Authorization": f"Token token={env['PAGERDUTY_TOKEN']}",
            "From": env["FROM_EMAIL"],
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    output.write_text(response.text, encoding="utf-8")


def upsert(session: requests.Session, env: dict[str, str], answer: Path) -> None:
    """The seed's UPSERT step: a token, then the entity built from the PUT's answer."""
    incident: dict[str, Any] = json.loads(answer.read_text(encoding="utf-8"))["incident"]
    assignments = incident.get("assignments") or [{}]
    entity = {
        "identifier": incident["id"],
        "title": incident.get("title"),
        "properties": {
            "status": incident.get("status"),
            "url": incident.get("self"),
            "urgency": incident.get("urgency"),
            "responder": (assignments[0].get("assignee") or {}).get("summary"),
            "escalation_policy": (incident.get("escalation_policy") or {}).get("summary"),
            "created_at": incident.get("created_at"),
            "updated_at": incident.get("updated_at"),
        },
        "relations": {},
    }
    token = port_token(session, env)
    response = session.post(
        f"{env['PORT_URL']}/v1/blueprints/{env['BLUEPRINT']}/entities",
        params={"upsert": "true", "merge": "true", "run_id": env["RUN_ID"]},
        json=entity,
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    response.raise_for_status()


def main(argv: list[str]) -> int:
    """Run the step named by ``argv[1]``; exit non-zero when it fails, as a workflow step does."""
    if len(argv) != 3 or argv[1] not in ("log", "pagerduty", "upsert"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, argument = argv[1], argv[2]
    env = dict(os.environ)
    with requests.Session() as session:
        if kind == "log":
            run_log(session, env, argument)
        elif kind == "pagerduty":
            escalate(session, env, Path(argument))
        else:
            upsert(session, env, Path(argument))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
