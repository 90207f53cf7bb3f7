"""The report's rounds against the sandbox: the read after the Port upsert goes beside the run's
final status, never before the upsert has landed, and a change it finds is upserted untied."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from escalator.sandbox import Sandbox, seed
from tests.e2e import SEED_CASE, SEED_PORT_CONTEXT, RunResult, longest_chain, run_in_process

INCIDENT = seed.DEMO_INCIDENT_ID
UPSERT = "/port/v1/blueprints/pagerdutyIncident/entities"
READ = f"/pagerduty/incidents/{INCIDENT}"
RUN = f"/port/v1/actions/runs/{seed.DEMO_RUN_ID}"


def off_logs(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The requests on the critical path: all but the Port run logs."""
    return [e for e in journal if not (e["method"] == "POST" and e["path"].endswith("/logs"))]


def test_the_read_after_the_upsert_goes_beside_the_final_status(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With finish_port_run, the run's SUCCESS and the read after the upsert overlap: 4 round
    trips on the critical path, not 5, and the read still starts once the upsert has ended."""
    sandbox.set_faults([], 0.05)
    result = run_in_process(
        sandbox, tmp_path, **(SEED_CASE | {"urgency": "low", "finish_port_run": "true"})
    )
    assert result.returncode == 0, result.stdout
    journal = sandbox.journal()
    (upsert,) = [e for e in journal if e["method"] == "POST" and e["path"] == UPSERT]
    reads = [e for e in journal if e["method"] == "GET" and e["path"] == READ]
    (finish,) = [e for e in journal if e["method"] == "PATCH" and e["path"] == RUN]
    assert finish["body"]["status"] == "SUCCESS"
    again = reads[-1]
    assert again["started"] >= upsert["ended"]  # the race guarantee: read after the upsert
    assert finish["started"] < again["ended"]  # and the final status did not wait for it
    assert again["started"] < finish["ended"]
    assert len(journal) == 9
    assert longest_chain(off_logs(journal)) == 4


def test_a_change_found_after_the_upsert_is_upserted_untied_and_the_run_still_succeeds(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An escalation whose upsert is held while another run resolves the incident upserts what
    PagerDuty then holds, without this run's tie, and still finishes its run as SUCCESS."""
    sandbox.set_faults(
        [{"method": "POST", "path": UPSERT, "steps": [{"fault": "hang", "seconds": 1.0}]}]
    )
    escalation: list[RunResult] = []
    inputs = SEED_CASE | {"urgency": "low", "finish_port_run": "true"}
    first = threading.Thread(
        target=lambda: escalation.append(run_in_process(sandbox, tmp_path / "escalate", **inputs))
    )
    first.start()
    for _ in range(200):  # until the escalation's upsert is the one held up
        if sandbox.faults.describe()["faults"][0]["used"]:
            break
        time.sleep(0.05)
    context = json.dumps({key: SEED_PORT_CONTEXT[key] for key in ("entity", "blueprint")})
    resolved = run_in_process(
        sandbox,
        tmp_path / "resolve",
        operation="resolve",
        port_context=context,
        **{"from": seed.FROM_EMAIL},
    )
    first.join(60)
    assert resolved.returncode == 0, resolved.stdout
    assert escalation[0].returncode == 0, escalation[0].stdout
    upserts = [e for e in sandbox.journal() if e["method"] == "POST" and e["path"] == UPSERT]
    ordered = sorted(upserts, key=lambda e: e["started"])  # the held one may be sent again
    tied, again = ordered[0], ordered[-1]
    assert seed.DEMO_RUN_ID in json.dumps(tied["query"])
    assert again["body"]["properties"]["status"] == "resolved"
    assert seed.DEMO_RUN_ID not in json.dumps(again["query"])  # another run's change: untied
    held = sandbox.state()["port"]["entities"]["pagerdutyIncident"][INCIDENT]
    assert held["properties"]["status"] == "resolved"
    assert sandbox.state()["port"]["runs"][seed.DEMO_RUN_ID]["status"] == "SUCCESS"
    assert "PagerDuty changed meanwhile" in escalation[0].stdout
