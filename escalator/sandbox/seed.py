"""The sandbox's seed: a small PagerDuty account and the Port catalog that mirrors it.

Everything here is fake. :func:`build_state` returns plain JSON-able dictionaries; the
services in :mod:`escalator.sandbox.pagerduty` and :mod:`escalator.sandbox.port` change them.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from escalator.kit import definitions
from escalator.sandbox.blueprints import blueprints_for
from escalator.sandbox.schedules import (
    complete_schedules,
    schedule_entity,
    seeded_oncall_entities,
)
from escalator.sandbox.services import seed_integrations

PAGERDUTY_TOKEN = "sbx-pd-token-7Hq2Lx9Vw4Rk"  # noqa: S105 - the sandbox's public demo key
PAGERDUTY_READ_ONLY_TOKEN = "sbx-pd-readonly-3Jd8Pq"  # noqa: S105 - the sandbox's public demo key
PORT_CLIENT_ID = "sbx-port-client-3Nf8Tz"
PORT_CLIENT_SECRET = "sbx-port-secret-Yd5Km2Wq7Pc4"  # noqa: S105 - the sandbox's public demo secret
#: Credentials shaped like real ones, accepted as well: real PagerDuty keys, client secrets, JWTs
#: and ``ghs_`` tokens hold ``-``, ``_``, ``+``, ``.``, ``/`` and ``=``, which Markdown escaping
#: and masking treat apart, so the secret scans run with these.
REAL_SHAPED_PAGERDUTY_TOKEN = "y_NbAk+c6-6ry.YT/WUXEu=="  # noqa: S105 - public, fake
REAL_SHAPED_PORT_CLIENT_ID = "sbx.Cl1ent_Id+4Hx/9Tz-Qw=="
REAL_SHAPED_PORT_CLIENT_SECRET = "Yd5K-m2_Wq7+Pc4.Ln8/Hs3=Vb"  # noqa: S105 - public, fake
#: The Port client credentials the sandbox accepts: (client id, client secret).
CLIENTS = {
    (PORT_CLIENT_ID, PORT_CLIENT_SECRET),
    (REAL_SHAPED_PORT_CLIENT_ID, REAL_SHAPED_PORT_CLIENT_SECRET),
}
FROM_EMAIL = "alice@example.com"
DEMO_INCIDENT_ID = "Q2LAR4ADCXC8IB"
DEMO_RUN_ID = "r_SbxDemoRun0001"
DEMO_ACTION = definitions.action_template("escalate")["identifier"]
DEMO_GITHUB_ORG = "example-org"
DEMO_GITHUB_REPO = "incident-workflows"
ENDED_RUN_ID = "r_SbxEndedRun002"
"""A second run of DEMO_ACTION that has already ended with SUCCESS."""

PAGERDUTY_WEB = "https://sandbox-example.pagerduty.com"
SEED_TIME = "2026-08-20T09:12:44Z"

State = dict[str, Any]

# id, name, email, role, job title
USERS = [
    ("PXPGF42", "Alice Moreno", "alice@example.com", "admin", "Engineering Manager"),
    ("P7Q3M8K", "Bob Tanaka", "bob@example.com", "user", "Payments Engineer"),
    ("PD8RZ2N", "Carol Okafor", "carol@example.com", "user", "Senior SRE"),
    ("PL5VW1J", "Dave Lindqvist", "dave@example.com", "user", "Platform Engineer"),
    ("PY6HT3C", "Erin Walsh", "erin@example.com", "limited_user", "SRE"),
    # Near misses: PagerDuty's ``query`` matches substrings of names and emails, so each of
    # these comes back for another user's email; sorted by name, some come before the user.
    ("PAL2BRN", "Alice Brennan", "alice@example.com.au", "user", "Support Engineer"),
    ("PMA7LCE", "Malice Oduya", "malice@example.com", "user", "Security Engineer"),
    ("PSH4RDX", "Shared Inbox alice@example.com", "ops-inbox@example.com", "observer", "Mailbox"),
    ("PMC3CRL", "Aaron Mccarol", "mccarol@example.com", "user", "Data Engineer"),
    ("PBC8CRL", "Becca Carol", "becca.carol@example.com", "user", "Analyst"),
]
# id, name, the user of its weekly rotation (see escalator/sandbox/schedules.py)
SCHEDULES = [
    ("PSC7PAY", "Payments Primary", "P7Q3M8K"),
    ("PSC4PLT", "Platform Weekly", "PL5VW1J"),
    ("PSC3SEC", "Payments Secondary", "PD8RZ2N"),
    ("PSC9REL", "Release Captains", "PXPGF42"),  # in no escalation policy
    ("PSC5SFT", "Support Shifts", "PY6HT3C"),  # shift-based (v3): refuses the v2 endpoints
]
# id, name, loops, [(rule id, delay minutes, target kind, target id)]
POLICIES = [
    (
        "PPAYMNT",
        "Payments On-Call",
        1,
        [
            ("PRPAY01", 15, "schedule", "PSC7PAY"),
            ("PRPAY02", 15, "user", "PD8RZ2N"),
            ("PRPAY03", 30, "user", "PXPGF42"),
        ],
    ),
    (
        "PPLATFM",
        "Platform Escalation",
        0,
        [("PRPLT01", 10, "schedule", "PSC4PLT"), ("PRPLT02", 20, "user", "PY6HT3C")],
    ),
    (
        "PDATAOP",
        "Data Platform Escalation",
        0,
        [("PRDAT01", 30, "user", "PY6HT3C"), ("PRDAT02", 30, "user", "PD8RZ2N")],
    ),
    # No service uses it. Level 1 has two schedules (PSC4PLT is added to it in
    # build_pagerduty); PSC7PAY is level 2 here and level 1 of PPAYMNT.
    (
        "PNIGHTS",
        "Night Watch",
        1,
        [("PRNGT01", 15, "schedule", "PSC3SEC"), ("PRNGT02", 20, "schedule", "PSC7PAY")],
    ),
]
# id, name, description, policy id
SERVICES = [
    ("PSVCPAY", "payments-api", "Card and wallet payment authorisation", "PPAYMNT"),
    ("PSVCCHK", "checkout-web", "Checkout front end", "PPAYMNT"),
    ("PSVCPLT", "platform-gateway", "Edge API gateway", "PPLATFM"),
    ("PSVCDAT", "data-pipeline", "Nightly exports and reporting", "PDATAOP"),
    ("PSVCOLD", "legacy-billing", "Retired billing batch (disabled)", "PPAYMNT"),
]
DISABLED_SERVICE_ID = "PSVCOLD"
# id, name: the account's priorities, highest first
PRIORITIES = [
    ("PB7QJ2X", "P1"),
    ("PC3LK9W", "P2"),
    ("PE2TR5M", "P3"),
    ("PG4NS8V", "P4"),
    ("PH6WY1Z", "P5"),
]


@dataclass(frozen=True)
class IncidentSeed:
    """One seeded incident."""

    id: str
    number: int
    title: str
    service: str
    status: str
    urgency: str
    level: int
    priority: str | None
    created_at: str


INCIDENTS = [
    IncidentSeed(
        DEMO_INCIDENT_ID,
        1042,
        "Payment authorisations failing for EU cards",
        "PSVCPAY",
        "triggered",
        "high",
        1,
        "P1",
        "2026-08-20T08:57:03Z",
    ),
    IncidentSeed(
        "Q0RIJJZL24RC6W",
        1041,
        "Gateway p99 latency above 2s",
        "PSVCPLT",
        "acknowledged",
        "high",
        2,
        "P2",
        "2026-08-20T07:41:19Z",
    ),
    IncidentSeed(
        "PBX7M2Q",
        1040,
        "Webhook retries piling up",
        "PSVCPAY",
        "acknowledged",
        "low",
        2,
        "P4",
        "2026-08-19T22:05:51Z",
    ),
    IncidentSeed(
        "PT4KHLK",
        1039,
        "Checkout page slow for logged-out users",
        "PSVCCHK",
        "triggered",
        "low",
        1,
        None,
        "2026-08-19T18:30:42Z",
    ),
    IncidentSeed(
        "Q1HS8Y7W3BZLRD",
        1037,
        "Nightly export job failed",
        "PSVCDAT",
        "resolved",
        "high",
        1,
        "P3",
        "2026-08-18T02:14:08Z",
    ),
    IncidentSeed(
        "PQ7DL3W",
        917,
        "Gateway certificate renewal pending",
        "PSVCPLT",
        "acknowledged",
        "low",
        1,
        "P5",
        "2025-06-02T10:15:19Z",
    ),
]
OLD_INCIDENT_ID = "PQ7DL3W"
"""Open, but created long before the last month: ``GET /incidents`` needs ``date_range=all``."""
PRIORITY_MODES = ("enabled", "empty", "disabled")


@dataclass(frozen=True)
class Links:
    """Builds PagerDuty's ``self`` (API) and ``html_url`` (web) links and references."""

    api: str

    def reference(self, kind: str, object_id: str, summary: str) -> dict[str, Any]:
        """Return a ``<kind>_reference`` object as PagerDuty writes one."""
        plural = "escalation_policies" if kind == "escalation_policy" else f"{kind}s"
        return {
            "id": object_id,
            "type": f"{kind}_reference",
            "summary": summary,
            "self": f"{self.api}/{plural}/{object_id}",
            "html_url": f"{PAGERDUTY_WEB}/{plural}/{object_id}",
        }

    def full(self, kind: str, object_id: str, summary: str) -> dict[str, Any]:
        """Return the common fields of a full object (``type`` without ``_reference``)."""
        return self.reference(kind, object_id, summary) | {"type": kind}


def _user(links: Links, row: tuple[str, str, str, str, str]) -> dict[str, Any]:
    """Return a full PagerDuty user object."""
    user_id, name, email, role, title = row
    return links.full("user", user_id, name) | {
        "name": name,
        "email": email,
        "time_zone": "Europe/London",
        "color": "purple",
        "role": role,
        "avatar_url": f"https://secure.gravatar.com/avatar/{user_id.lower()}.png",
        "description": None,
        "invitation_sent": False,
        "job_title": title,
        "teams": [],
        "contact_methods": [links.reference("email_contact_method", f"PC{user_id[2:]}", "Default")],
        "notification_rules": [],
    }


def _policy(
    links: Links, row: tuple[str, str, int, list[tuple[str, int, str, str]]], names: dict[str, str]
) -> dict[str, Any]:
    """Return a full escalation policy object."""
    policy_id, name, loops, rules = row
    services = [
        links.reference("service", sid, sname)
        for sid, sname, _, pid in SERVICES
        if pid == policy_id
    ]
    return links.full("escalation_policy", policy_id, name) | {
        "name": name,
        "description": f"Who answers for {name.split()[0].lower()} incidents",
        "num_loops": loops,
        "on_call_handoff_notifications": "if_has_services",
        "escalation_rules": [
            {
                "id": rule_id,
                "escalation_delay_in_minutes": delay,
                "escalation_rule_assignment_strategy": "assign_to_everyone",
                "targets": [links.reference(kind, target, names[target])],
            }
            for rule_id, delay, kind, target in rules
        ],
        "services": services,
        "teams": [],
    }


def _service(links: Links, row: tuple[str, str, str, str], names: dict[str, str]) -> dict[str, Any]:
    """Return a full service object."""
    service_id, name, description, policy_id = row
    return links.full("service", service_id, name) | {
        "name": name,
        "description": description,
        "status": "active",
        "auto_resolve_timeout": 14400,
        "acknowledgement_timeout": 1800,
        "created_at": "2025-11-03T10:00:00Z",
        "alert_creation": "create_alerts_and_incidents",
        "escalation_policy": links.reference("escalation_policy", policy_id, names[policy_id]),
        "teams": [],
        "integrations": [],
        "incident_urgency_rule": {"type": "constant", "urgency": "high"},
    }


def level_user(pd: State, policy_id: str, level: int) -> str:
    """Return the id of the user that level ``level`` (1-based) of a policy assigns."""
    target = pd["escalation_policies"][policy_id]["escalation_rules"][level - 1]["targets"][0]
    if target["type"] == "schedule_reference":
        return str(pd["schedules"][target["id"]]["oncall_user"])
    return str(target["id"])


def assignment(pd: State, links: Links, user_id: str, at: str) -> dict[str, Any]:
    """Return one ``assignments[]`` entry for a user."""
    return {"at": at, "assignee": links.reference("user", user_id, pd["users"][user_id]["name"])}


def _incident(pd: State, links: Links, seed: IncidentSeed) -> dict[str, Any]:
    """Return a full incident object for one seeded incident."""
    service = pd["services"][seed.service]
    policy = service["escalation_policy"]
    assigned_at = seed.created_at
    assignments = []
    if seed.status != "resolved":
        user_id = level_user(pd, policy["id"], seed.level)
        assignments = [assignment(pd, links, user_id, assigned_at)]
    changed_at = {
        "triggered": seed.created_at,
        "acknowledged": seed.created_at.replace(":03Z", ":55Z").replace(":19Z", ":58Z"),
        "resolved": seed.created_at.replace("T02:", "T04:"),
    }[seed.status]
    summary = f"[#{seed.number}] {seed.title}"
    incident = links.full("incident", seed.id, summary) | {
        "incident_number": seed.number,
        "title": seed.title,
        "description": seed.title,
        "created_at": seed.created_at,
        "updated_at": changed_at,
        "status": seed.status,
        "incident_key": f"{seed.service.lower()}-{seed.number}",
        "service": links.reference("service", service["id"], service["name"]),
        "assignments": assignments,
        "assigned_via": "escalation_policy",
        "last_status_change_at": changed_at,
        "last_status_change_by": links.reference("service", service["id"], service["name"]),
        "resolved_at": changed_at if seed.status == "resolved" else None,
        "first_trigger_log_entry": links.reference(
            "log_entry", f"R{seed.id}TRIGGER{seed.number}"[:26], "Triggered through the API."
        )
        | {"type": "trigger_log_entry_reference"},
        "alert_counts": {
            "all": 1,
            "triggered": 0 if seed.status == "resolved" else 1,
            "resolved": 1 if seed.status == "resolved" else 0,
        },
        "is_mergeable": True,
        "incident_type": {"name": "incident_default"},
        "escalation_policy": copy.deepcopy(policy),
        "teams": [],
        "pending_actions": [],
        "acknowledgements": [],
        "priority": _priority(pd, seed.priority),
        "urgency": seed.urgency,
        "resolve_reason": None,
        "conference_bridge": None,
    }
    if seed.status == "acknowledged":
        incident["acknowledgements"] = [
            {"at": changed_at, "acknowledger": copy.deepcopy(assignments[0]["assignee"])}
        ]
        incident["last_status_change_by"] = copy.deepcopy(assignments[0]["assignee"])
    elif seed.status == "triggered" and seed.urgency == "high":
        incident["pending_actions"] = [{"type": "escalate", "at": "2026-08-20T09:27:44Z"}]
    return incident


def _priority(pd: State, name: str | None) -> dict[str, Any] | None:
    """Return a copy of the account priority called ``name``, or None."""
    if name is None:
        return None
    found: dict[str, Any] = next(p for p in pd["priorities"].values() if p["name"] == name)
    return copy.deepcopy(found)


def build_pagerduty(api_url: str) -> State:
    """Return the seeded PagerDuty account, with links under ``api_url``."""
    links = Links(api_url)
    rows: list[tuple[Any, ...]] = [*USERS, *SCHEDULES, *POLICIES, *SERVICES]
    names: dict[str, str] = {row[0]: row[1] for row in rows}
    pd: State = {
        "users": {row[0]: _user(links, row) for row in USERS},
        "schedules": {
            sid: links.full("schedule", sid, name) | {"name": name, "oncall_user": user}
            for sid, name, user in SCHEDULES
        },
        "priorities": {
            pid: links.full("priority", pid, name)
            | {"name": name, "description": f"{name} priority", "color": "a8171c"}
            for pid, name in PRIORITIES
        },
        "escalation_policies": {row[0]: _policy(links, row, names) for row in POLICIES},
        "services": {row[0]: _service(links, row, names) for row in SERVICES},
        "incidents": {},
        "events": [],
        "change_events": [],
        "escalation_levels": {},
        "notes": {},
        "snoozes": {},
        "resolutions": {},
        "bodies": {},
        "priorities_mode": "enabled",
        "next_incident_number": 1043,
    }
    night_level_1 = pd["escalation_policies"]["PNIGHTS"]["escalation_rules"][0]["targets"]
    night_level_1.append(links.reference("schedule", "PSC4PLT", names["PSC4PLT"]))
    complete_schedules(pd, dt.datetime.now(dt.UTC))
    seed_integrations(pd)
    for seed in INCIDENTS:
        pd["incidents"][seed.id] = _incident(pd, links, seed)
        pd["escalation_levels"][seed.id] = seed.level
        pd["notes"][seed.id] = []
        pd["resolutions"][seed.id] = []
    pd["services"]["PSVCPAY"]["status"] = "critical"
    pd["services"][DISABLED_SERVICE_ID]["status"] = "disabled"
    pd["services"]["PSVCPLT"]["status"] = "warning"
    return pd


def service_entity(pd: State, service: dict[str, Any], shape: str) -> dict[str, Any]:
    """Return the Port entity for a PagerDuty service, as the chosen blueprint shape maps it."""
    policy = pd["escalation_policies"][service["escalation_policy"]["id"]]
    levels = len(policy["escalation_rules"])
    oncall = [pd["users"][level_user(pd, policy["id"], n)]["email"] for n in range(1, levels + 1)]
    properties: dict[str, Any] = {
        "status": service["status"],
        "url": service["html_url"],
        "oncall": oncall[0],
    }
    if shape == "integration":
        properties["secondaryOncall"] = oncall[1] if levels > 1 else None
        properties["escalationLevels"] = levels
    return {
        "identifier": service["id"],
        "title": service["name"],
        "icon": "pagerduty",
        "team": [],
        "properties": properties,
        "relations": {},
    }


def incident_entity(pd: State, incident: dict[str, Any], shape: str) -> dict[str, Any]:
    """Return the Port entity for a PagerDuty incident, as the chosen blueprint shape maps it."""
    properties: dict[str, Any] = {
        "status": incident["status"],
        "url": incident["html_url"],
        "urgency": incident["urgency"],
    }
    assignees = [pd["users"][a["assignee"]["id"]] for a in incident["assignments"]]
    if shape == "integration":
        priority = incident["priority"]
        properties["priority"] = priority["summary"] if priority else None
        properties["description"] = incident["description"]
        properties["assignees"] = [user["email"] for user in assignees]
        properties["triggered_by"] = "API"
        relation: Any = incident["service"]["id"]
    else:
        properties["responder"] = assignees[0]["name"] if assignees else None
        relation = [incident["service"]["id"]]
    properties["escalation_policy"] = incident["escalation_policy"]["summary"]
    properties["created_at"] = incident["created_at"]
    properties["updated_at"] = incident["updated_at"]
    return {
        "identifier": incident["id"],
        "title": incident["title"],
        "icon": "pagerduty",
        "team": [],
        "properties": properties,
        "relations": {"pagerdutyService": relation},
    }


def kit_actions() -> dict[str, dict[str, Any]]:
    """Return the kit's self-service actions by identifier, dispatching the demo repository."""
    actions = definitions.actions(DEMO_GITHUB_ORG, DEMO_GITHUB_REPO)
    return {action["identifier"]: action | {"publish": True} for action in actions}


def new_run(
    run_id: str,
    action: dict[str, Any],
    entity: dict[str, Any] | None,
    properties: dict[str, Any],
    at: str,
) -> dict[str, Any]:
    """Return a fresh IN_PROGRESS run of ``action`` on ``entity``."""
    blueprint = action.get("trigger", {}).get("blueprintIdentifier")
    run: dict[str, Any] = {
        "id": run_id,
        "status": "IN_PROGRESS",
        "statusLabel": None,
        "link": [],
        "summary": "",
        "action": {
            "identifier": action["identifier"],
            "title": action.get("title"),
            "icon": action.get("icon"),
            "deleted": False,
        },
        "properties": properties,
        "rawProperties": properties,
        "source": "API",
        "requiredApproval": False,
        "createdBy": PORT_CLIENT_ID,
        "updatedBy": PORT_CLIENT_ID,
        "createdAt": at,
        "updatedAt": at,
    }
    if blueprint:
        run["blueprint"] = {"identifier": blueprint, "title": None, "icon": None, "deleted": False}
    if entity is not None:
        run["entity"] = {
            "identifier": entity["identifier"],
            "title": entity.get("title"),
            "icon": entity.get("icon"),
            "deleted": False,
        }
    return run


def build_port(pd: State, shape: str) -> State:
    """Return the seeded Port organisation for the PagerDuty account ``pd``."""
    port: State = {
        "blueprint_shape": shape,
        "blueprints": {},
        "entities": {},
        "actions": kit_actions(),
        "runs": {},
        "run_logs": {},
        "run_entities": {},
        "access_tokens": {},
    }
    rebuild_catalog(pd, port, shape)
    action = port["actions"][DEMO_ACTION]
    entity = port["entities"]["pagerdutyIncident"][DEMO_INCIDENT_ID]
    inputs = {"escalation_policy_id": "PPLATFM", "urgency": "high", "from": FROM_EMAIL}
    port["runs"][DEMO_RUN_ID] = new_run(DEMO_RUN_ID, action, entity, inputs, SEED_TIME)
    ended = new_run(ENDED_RUN_ID, action, entity, inputs, "2026-08-20T09:02:10.000Z")
    ended |= {
        "status": "SUCCESS",
        "statusLabel": "Escalated",
        "endedAt": "2026-08-20T09:02:31.000Z",
    }
    port["runs"][ENDED_RUN_ID] = ended
    for run_id in port["runs"]:
        port["run_logs"][run_id] = []
        port["run_entities"][run_id] = []
    return port


def rebuild_catalog(pd: State, port: State, shape: str) -> None:
    """Replace Port's blueprints and entities with ``shape``'s, mapped from the account ``pd``."""
    port["blueprint_shape"] = shape
    port["blueprints"] = {}
    for blueprint in blueprints_for(shape):
        blueprint |= {
            "createdBy": PORT_CLIENT_ID,
            "updatedBy": PORT_CLIENT_ID,
            "createdAt": SEED_TIME,
            "updatedAt": SEED_TIME,
        }
        port["blueprints"][blueprint["identifier"]] = blueprint
    port["entities"] = {identifier: {} for identifier in port["blueprints"]}
    for service in pd["services"].values():
        port["entities"]["pagerdutyService"][service["id"]] = service_entity(pd, service, shape)
    for incident in pd["incidents"].values():
        port["entities"]["pagerdutyIncident"][incident["id"]] = incident_entity(pd, incident, shape)
    if "pagerdutySchedule" in port["entities"]:
        for schedule in pd["schedules"].values():
            entity = schedule_entity(pd, schedule)
            port["entities"]["pagerdutySchedule"][entity["identifier"]] = entity
    if "pagerdutyOncall" in port["entities"]:
        for entity in seeded_oncall_entities(pd, dt.datetime.now(dt.UTC)):
            port["entities"]["pagerdutyOncall"][entity["identifier"]] = entity


def build_state(api_url: str, shape: str = "guide") -> State:
    """Return the whole seeded state: ``{"pagerduty": ..., "port": ...}``."""
    pd = build_pagerduty(api_url)
    return {"pagerduty": pd, "port": build_port(pd, shape)}
