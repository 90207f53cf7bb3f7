"""What Port and PagerDuty hold after runs that race, fail half-way or are run again, end to end
against the sandbox: the relations the action owns, the entity after two runs on one incident, a
re-run after "Partly done", a note counted only when this run made it, and the exact lookups.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from escalator.sandbox import Sandbox, seed
from tests.e2e import SEED_PORT_CONTEXT, RunResult, run_in_process

TRIGGERED = seed.DEMO_INCIDENT_ID
INCIDENTS = "pagerdutyIncident"


def port(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """Call the sandbox's Port as an admin would, with the demo credentials."""
    token = requests.post(
        f"{sandbox.port_url}/v1/auth/access_token",
        json={"clientId": seed.PORT_CLIENT_ID, "clientSecret": seed.PORT_CLIENT_SECRET},
        timeout=5,
    ).json()["accessToken"]
    answer = requests.request(
        method,
        f"{sandbox.port_url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.ok, answer.text
    return answer.json()


def entity(sandbox: Sandbox, identifier: str) -> dict[str, Any]:
    """The incident entity as the sandbox's Port holds it."""
    held: dict[str, Any] = sandbox.state()["port"]["entities"][INCIDENTS][identifier]
    return held


def run(sandbox: Sandbox, tmp_path: Path, operation: str, **inputs: str) -> RunResult:
    """Run ``operation`` in process on the demo incident, reporting to the demo Port run."""
    inputs.setdefault("from", seed.FROM_EMAIL)
    inputs.setdefault("incident_id", TRIGGERED)
    inputs.setdefault("port_context", json.dumps(SEED_PORT_CONTEXT | {"entity": TRIGGERED}))
    return run_in_process(sandbox, tmp_path, operation=operation, **inputs)


# --- finding 3: the relations the action owns ------------------------------------------------


def test_a_curated_relation_to_services_is_left_as_it_is(sandbox: Sandbox, tmp_path: Path) -> None:
    """A many-relation ``impactedServices: [A, B]`` an admin curated keeps both services after a
    note; only the incident's own service relation is sent."""
    port(
        sandbox,
        "PATCH",
        f"/v1/blueprints/{INCIDENTS}",
        {
            "relations": {
                "impactedServices": {
                    "title": "Impacted",
                    "target": "pagerdutyService",
                    "many": True,
                    "required": False,
                }
            }
        },
    )
    port(
        sandbox,
        "POST",
        f"/v1/blueprints/{INCIDENTS}/entities?upsert=true&merge=true",
        {"identifier": TRIGGERED, "relations": {"impactedServices": ["PSVCCHK", "PSVCPLT"]}},
    )
    sandbox.clear_journal()
    context = {"entity": TRIGGERED, "run_id": seed.DEMO_RUN_ID, "blueprint": INCIDENTS}
    result = run(sandbox, tmp_path, "note", note="Looking", port_context=json.dumps(context))
    assert result.returncode == 0, result.stdout
    upserts = [
        e
        for e in sandbox.journal()
        if e["method"] == "POST" and e["path"].endswith(f"/{INCIDENTS}/entities")
    ]
    assert len(upserts) == 1
    assert "impactedServices" not in json.dumps(upserts[0].get("body"))
    held = entity(sandbox, TRIGGERED)
    assert held["relations"]["impactedServices"] == ["PSVCCHK", "PSVCPLT"]
    assert held["relations"]["pagerdutyService"] in ("PSVCPAY", ["PSVCPAY"])
